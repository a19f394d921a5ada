"""Run the fake Discord by hand: `python -m tests.fakediscord [--port 8765]`.

It creates a demo guild (#papers, a forum, an admin and a member), prints the environment the bot
needs, prints every message the bot posts, and reads commands from stdin:

    /ping                          runs /ping as the demo admin in #papers
    /feed subscribe query:diffusion limit:5
    /feed unsubscribe subscription:dif?    a trailing ? asks for autocomplete choices instead
    click <message-id> <custom-id>         clicks a button as the admin
    say <text>                             the admin posts a message in #papers
    drop | reconnect                       cut the gateway / send RECONNECT
    advance <seconds>                      move the server clock forward
    timeout <minutes>                      time the bot out in the demo guild (0 lifts it)
    deadline on|off                        enforce Discord's 3 s interaction deadline or not
    invalid                                show the invalid-request counter
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
from datetime import timedelta
from typing import Any

from .driver import DEFAULT_TOKEN, FakeDiscord
from .state import Channel, Guild, Member


def _describe(discord: FakeDiscord, event: str, data: dict[str, Any], guild: Guild | None) -> None:
    if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
        return
    if data["author"]["id"] != str(discord.bot_user.id):
        return
    channel = discord.world.channels.get(int(data["channel_id"]))
    where = f"#{channel.name}" if channel and channel.name else f"DM {data['channel_id']}"
    titles = [e.get("title") for e in data.get("embeds") or [] if e.get("title")]
    verb = "posted" if event == "MESSAGE_CREATE" else "edited"
    line = f"[bot {verb} in {where}] id={data['id']} {data['content']!r}"
    if titles:
        line += f" embeds={titles}"
    if data.get("components"):
        ids = [c.get("custom_id") for r in data["components"] for c in r.get("components", [])]
        line += f" components={ids}"
    print(line, flush=True)


async def _run_line(discord: FakeDiscord, admin: Member, papers: Channel, line: str) -> None:
    words = shlex.split(line)
    if not words:
        return
    if words[0] == "drop":
        await discord.drop_gateway()
    elif words[0] == "reconnect":
        await discord.send_reconnect()
    elif words[0] == "advance" and len(words) == 2:
        discord.clock.advance(float(words[1]))
        print(f"server clock: {discord.clock.now().isoformat()}")
    elif words[0] == "timeout" and len(words) == 2:
        minutes = float(words[1])
        assert papers.guild is not None
        discord.time_out_bot(papers.guild, timedelta(minutes=minutes) if minutes else None)
    elif words[0] == "deadline" and len(words) == 2:
        discord.interaction_deadline = 3.0 if words[1] == "on" else None
    elif words[0] == "invalid":
        counter = discord.invalid_requests
        print(f"invalid requests: {counter.count} in 10 min, {counter.total} in all")
    elif words[0] == "say":
        discord.user_says(admin, papers, " ".join(words[1:]))
    elif words[0] == "click" and len(words) == 3:
        message = discord.world.messages[int(words[1])]
        print(await discord.click(admin, message, words[2]))
    elif words[0].startswith("/"):
        path = [w for w in words if ":" not in w]
        options: dict[str, Any] = dict(w.split(":", 1) for w in words if ":" in w)
        name = " ".join(path)[1:]
        focused = next((k for k, v in options.items() if v.endswith("?")), None)
        if focused is not None:
            typed = options.pop(focused)[:-1]
            choices = await discord.autocomplete(admin, papers, name, focused, typed, **options)
            print("choices:", [c["name"] for c in choices])
            return
        reply = await discord.run_command(admin, papers, name, **options)
        print(f"reply (type {reply.response_type}, {reply.latency:.3f}s): {reply.content!r}")
        if reply.deferred:
            await reply.wait_for_final(timeout=60)
            print(f"final: {reply.content!r} embeds={[e.get('title') for e in reply.embeds]}")
    else:
        print(__doc__)


async def main(port: int, token: str) -> None:
    """Serve until interrupted, with the demo world and the stdin console."""
    discord = FakeDiscord(port=port, token=token)
    guild = discord.add_guild("Paperboy Demo")
    papers = guild.add_text_channel("papers")
    guild.add_forum_channel("paper-forum", tags=["cs.LG", "cs.CV"])
    guild.add_forum_channel("tagged-forum", tags=["papers"], require_tag=True)
    guild.add_announcement_channel("news")
    guild.add_voice_channel("Lounge")
    admin = guild.add_member("admin", permissions=["administrator"])
    guild.add_member("alice")
    discord.world.sinks.append(lambda e, d, g: _describe(discord, e, d, g))
    async with discord:
        print(f"PAPERBOY_DISCORD_API_URL={discord.api_url}")
        print(f"PAPERBOY_DISCORD_GATEWAY_URL={discord.gateway_url}")
        print(f"PAPERBOY_DISCORD_TOKEN={discord.token}")
        print(f"guild {guild.id}  #papers {papers.id}  admin {admin.id}  (type 'help')", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:  # stdin closed: keep serving until interrupted
                await asyncio.Event().wait()
            try:
                await _run_line(discord, admin, papers, line.strip())
            except Exception as error:  # the console reports and carries on
                print(f"error: {error}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the fake Discord server")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.port, args.token))
