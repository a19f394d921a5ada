"""`/help`: what Paperboy does and the commands it has."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import PaperboyBot

ABOUT = (
    "**Paperboy** delivers research papers from Hugging Face Daily Papers and arXiv: "
    "subscribe to topics for yourself (by DM too, at your own time: `/dm schedule`), or set up "
    "a daily, weekday or weekly digest for a channel. `/trending` shows what is gaining "
    "upvotes. Under every paper: Save 🔖 (`/saved` lists them), Similar 🔔, Not for me 🔕.\n\n"
    'Queries: `diffusion -survey`, `"masked diffusion"`, `rlhf OR dpo`, `quantiz*`, '
    '`author:"Yann LeCun"`, `cat:cs.CL`, `like:2106.09685`.'
)
# What a member reaches for first, in that order; anything else follows alphabetically.
MEMBER_ORDER = (
    "subscribe", "unsubscribe", "subscriptions", "search", "trending", "paper", "saved", "dm",
    "help",
)  # fmt: skip
MEMBER_FIELD = "Commands"
MANAGER_FIELD = "Channel feeds (need the Manage Channels permission)"

Listed = app_commands.Command[Any, ..., Any] | app_commands.Group


def command_lines(tree_commands: Iterable[Listed]) -> list[str]:
    """One `/name — description` line per runnable command, subcommands spelled out in the
    order they are defined, top-level commands in MEMBER_ORDER then alphabetically."""
    lines = []
    for command in sorted(tree_commands, key=_member_rank):
        leaves = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in leaves:
            if isinstance(leaf, app_commands.Command):
                lines.append(f"`/{leaf.qualified_name}` — {leaf.description}")
    return lines


def _member_rank(command: Listed) -> tuple[int, str]:
    name = command.name
    return (MEMBER_ORDER.index(name) if name in MEMBER_ORDER else len(MEMBER_ORDER), name)


def needs_manage_channels(command: Listed) -> bool:
    """Whether Discord shows the command only to members with Manage Channels by default."""
    allowed = command.default_permissions
    return allowed is not None and allowed.manage_channels


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
        members = [c for c in listed if not needs_manage_channels(c)]
        managers = [c for c in listed if needs_manage_channels(c)]
        for name, block in ((MEMBER_FIELD, members), (MANAGER_FIELD, managers)):
            if block:
                value = "\n".join(command_lines(block))[:1024]
                embed.add_field(name=name, value=value, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Meta(bot))
