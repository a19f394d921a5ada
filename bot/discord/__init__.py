"""The Discord side of the boundary: the discord.py client, the `Poster` over it, rendering to
discord.py objects, and the runner. The only package in `bot/` that imports discord."""
