"""How an interaction that failed ends: one ephemeral line for what the user can fix, and for a
bug a logged traceback with a short error id and an apology."""

from __future__ import annotations

import logging
import math
import secrets
import traceback
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserError

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
TRACEBACK_FRAMES = 12  # the innermost frames of each exception in the chain
TRACEBACK_CHARS = 8_000  # a runaway message or chain never floods the log


def user_message(error: BaseException) -> str | None:
    """The one line to show for an error the user caused or can fix, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        return first_line(str(error)) or "That didn't work."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {math.ceil(error.retry_after)} s."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_permission_names(error.missing_permissions)} permission here."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(
        error,
        app_commands.MissingPermissions | app_commands.MissingRole | app_commands.MissingAnyRole,
    ):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(error, app_commands.TransformerError):
        return first_line(f"That is not a valid value: {error.value}")
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        # Discord still shows a command from an older sync; the fresh sync takes a moment.
        return "This command has just changed; please try again in a minute."
    return None


async def report_interaction_error(
    interaction: discord.Interaction[Any], error: BaseException
) -> None:
    """Tell the user what went wrong, ephemerally; log bugs with a traceback and a short error id.

    Also usable from a `View.on_error`, so buttons fail the same way commands do.
    """
    message = user_message(error)
    name = interaction.command.qualified_name if interaction.command else "?"
    if message is not None:
        log.debug("/%s refused for user %s: %s", name, interaction.user.id, message)
    else:
        original = getattr(error, "original", error)
        error_id = secrets.token_hex(4)
        log.error(
            "Error %s in /%s (guild %s, channel %s, user %s)\n%s",
            error_id,
            name,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            bounded_traceback(original),
            extra={
                "error_id": error_id,
                "command": name,
                "guild_id": interaction.guild_id,
                "channel_id": interaction.channel_id,
                "user_id": interaction.user.id,
            },
        )
        message = f"Sorry, something went wrong (error id {error_id}). It has been logged."
    await _reply_ephemeral(interaction, message)


async def _reply_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    try:
        if interaction.response.is_done():
            # Deferred or already answered: only a follow-up can still reach the user.
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException as exc:
        # Usually the interaction expired (3 s unanswered / 15 min token); nothing more to do.
        log.warning("Could not send the error reply for interaction %s: %s", interaction.id, exc)


def bounded_traceback(
    error: BaseException, frames: int = TRACEBACK_FRAMES, chars: int = TRACEBACK_CHARS
) -> str:
    """The traceback of `error`, its innermost frames only and at most `chars` characters.

    A RecursionError's full traceback runs to a thousand frames (over 100 KB); where a bug is
    found is in the last few, and the error id ties the user's report to this one entry.
    """
    text = "".join(traceback.format_exception(error, limit=-frames))
    if len(text) <= chars:
        return text.rstrip("\n")
    half = chars // 2
    cut = len(text) - 2 * half
    return f"{text[:half]}\n[… {cut} characters cut …]\n{text[-half:]}".rstrip("\n")


def first_line(text: str, limit: int = 2000) -> str:
    """The first non-empty line of `text`, cut to Discord's message limit."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _permission_names(names: Sequence[str]) -> str:
    return ", ".join(n.replace("_", " ").replace("guild", "server").title() for n in names)
