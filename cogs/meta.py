"""`/help`: what Paperboy does and the commands it has."""

from __future__ import annotations

from collections.abc import Iterable

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_client import PaperboyBot

ABOUT = (
    "**Paperboy** delivers research papers from Hugging Face Daily Papers and arXiv: "
    "subscribe to topics for yourself, or set up a daily digest for a channel.\n\n"
    'Queries: `diffusion -survey`, `"masked diffusion"`, `rlhf OR dpo`, `quantiz*`, '
    '`author:"Yann LeCun"`, `cat:cs.CL`.\n'
    "The `/feed` commands need the Manage Channels permission."
)


def command_lines(tree_commands: Iterable[app_commands.Command | app_commands.Group]) -> list[str]:
    """One `/name — description` line per runnable command, subcommands spelled out, sorted."""
    lines = []
    for command in tree_commands:
        leaves = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in leaves:
            if isinstance(leaf, app_commands.Command):
                lines.append(f"`/{leaf.qualified_name}` — {leaf.description}")
    return sorted(lines)


class Meta(commands.Cog):
    """Commands about the bot itself."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Paperboy does and how to use it")
    async def help(self, interaction: discord.Interaction[PaperboyBot]) -> None:
        """Reply (only to the caller) with the description and the list of commands."""
        listed = [
            c
            for c in self.bot.tree.get_commands(type=discord.AppCommandType.chat_input)
            if isinstance(c, app_commands.Command | app_commands.Group)
        ]
        embed = discord.Embed(title="Paperboy", description=ABOUT)
        embed.add_field(
            name="Commands", value="\n".join(command_lines(listed))[:1024], inline=False
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Meta(bot))
