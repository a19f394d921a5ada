"""What the bot tells `bot/ops/` about itself: gateway and scheduler state (`BotHealth`, the
`BotStatus` the health endpoint reads), every REST answer from Discord (an aiohttp trace on
discord.py's own session: 429s and messages sent), and slash-command latency."""

from __future__ import annotations

import math
import re
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.ops.metrics import Metrics

if TYPE_CHECKING:
    from bot.discord.client import PaperboyBot

# A message in a channel, thread or DM, and a forum post (a thread created with its message).
_SENDS_MESSAGE = re.compile(r"/channels/\d+/(messages|threads)$")
_STARTED = "paperboy_started"  # key in Interaction.extras


class BotHealth:
    """`BotStatus` over a live PaperboyBot."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot

    def gateway_connected(self) -> bool:
        """True while every shard has a live session (READY or RESUMED, no drop since)."""
        return self.bot.gateway_up and not self.bot.is_closed()

    def gateway_latency(self) -> float | None:
        """Heartbeat round trip in seconds; None before the first ack."""
        latency = self.bot.latency
        return None if math.isnan(latency) or math.isinf(latency) else latency

    def scheduler_state(self) -> str:
        """ "disabled" (PAPERBOY_SCHEDULER_ENABLED=false), "running" or "stopped"."""
        scheduler = self.bot.scheduler
        if scheduler is None:
            return "disabled" if not self.bot.settings.scheduler_enabled else "stopped"
        return "running" if scheduler.scheduler.running else "stopped"


def http_trace(metrics: Metrics) -> aiohttp.TraceConfig:
    """A trace for discord.py's HTTP session that counts 429s and messages Discord accepted."""
    trace = aiohttp.TraceConfig()

    async def on_end(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        status = params.response.status
        sent = params.method == "POST" and bool(_SENDS_MESSAGE.search(params.url.path))
        scope = params.response.headers.get("X-RateLimit-Scope")
        metrics.record_discord_response(status, scope, sent)

    trace.on_request_end.append(on_end)
    return trace


def command_started(interaction: discord.Interaction[Any]) -> None:
    """Note when a slash command began (called before its checks and handler run)."""
    interaction.extras[_STARTED] = time.perf_counter()


def command_finished(metrics: Metrics, interaction: discord.Interaction[Any], outcome: str) -> None:
    """Record the command's latency, if its start was noted."""
    started = interaction.extras.pop(_STARTED, None)
    command = interaction.command
    if started is None or command is None:
        return
    metrics.record_command(command.qualified_name, time.perf_counter() - started, outcome)
