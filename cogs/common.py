"""Helpers every command cog shares: replying without pings, the DM-closed notice, choices."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import discord
from discord import app_commands

from bot.cooldowns import BucketRate, TokenBuckets
from bot.delivery.dm_notice import DM_CLOSED_NOTICE, dm_notice_pending, take_dm_notice
from bot.discord.channels import digest_form
from bot.discord.client import PaperboyBot
from bot.discord.embeds import subscribed_text
from bot.discord.replies import NO_MENTIONS
from bot.errors import UserError
from bot.feed_settings import describe_schedule
from bot.likes import fetch_like_papers
from bot.query import Query
from bot.sources import build_sources
from bot.subscribing import FeedDefaults, Subscribed, choice_matches, dry_run_of
from bot.text import neutralise_mentions

MAX_CHOICES = 25
MAX_CHOICE_NAME = 100

Interaction = discord.Interaction[PaperboyBot]
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# Seconds a command's write may take before the command defers ("thinking…"): Discord wants a
# first answer within 3 s, and the writer may be busy with an ingest or a digest's planning.
ACK_WITHIN = 1.5

# Per-user token buckets (a burst, then one use per so many seconds) for every command that takes
# text, by what one use costs and how people use it: a small write, often several in a row when
# tidying up; a write plus a dry run of the query over recent papers; a full-text search over
# every paper, refined 3-4 times in a few seconds; a look-up that may call Hugging Face.
QUICK_WRITE = BucketRate(capacity=6, refill_seconds=5.0)
DRY_RUN = BucketRate(capacity=5, refill_seconds=6.0)
SEARCH = BucketRate(capacity=4, refill_seconds=5.0)
LOOKUP = BucketRate(capacity=5, refill_seconds=6.0)


def per_user_cooldown(rate: BucketRate) -> Callable[[F], F]:
    """A token bucket per member (on the bot's clock), so one person typing fast never slows
    anyone else; a refusal is one ephemeral "Slow down: try again in N s." line."""
    buckets = TokenBuckets(rate)
    cooldown = app_commands.Cooldown(rate.capacity, rate.refill_seconds)  # for the error only

    def within_rate(interaction: Interaction) -> bool:
        wait = buckets.take(interaction.user.id, interaction.client.clock().timestamp())
        if wait > 0:
            raise app_commands.CommandOnCooldown(cooldown, wait)
        return True

    return app_commands.check(within_rate)


def member_can_post(interaction: Interaction) -> bool:
    """Whether the member may send messages where they ran the command (in a thread, Send
    Messages in Threads is the permission that counts)."""
    permissions = interaction.permissions
    if isinstance(interaction.channel, discord.Thread):
        return permissions.send_messages_in_threads
    return permissions.send_messages


class RunReport(Protocol):
    """What the scheduler reports after running a feed's digest."""

    posted: int
    matched: int
    listed: int
    reason: str | None


class Scheduler(Protocol):
    """The part of the scheduler the commands use."""

    def next_run(self, channel_id: int) -> datetime | None: ...

    async def run_feed_now(self, channel_id: int) -> RunReport: ...


def scheduler_of(bot: PaperboyBot) -> Scheduler | None:
    """The bot's scheduler, or None when it isn't running (scheduling turned off, or in tests)."""
    return getattr(bot, "scheduler", None)


def feed_defaults(bot: PaperboyBot) -> FeedDefaults:
    """The settings a feed starts with."""
    return FeedDefaults(bot.settings.default_schedule, bot.settings.default_timezone)


def new_feed_schedule(bot: PaperboyBot, feed_created: bool) -> str | None:
    """The default schedule, described, when a command just started a feed; else None."""
    if not feed_created:
        return None
    defaults = feed_defaults(bot)
    return describe_schedule(defaults.schedule_time, defaults.timezone, "daily")


async def reply_subscribed(
    interaction: Interaction, done: Subscribed, where: str, *, by_dm: bool = False
) -> None:
    """The answer to a new subscription: its normal form, where it goes, its dry run, and the
    form the channel's digest takes there (channel types differ: thread, plain, forum post)."""
    bot = interaction.client
    schedule = new_feed_schedule(bot, done.feed_created)
    form = None if by_dm else digest_form(interaction.channel)
    # on a read connection, after the write committed: a dry run never holds the write lock
    preview = await bot.store.read(dry_run_of, done)
    await reply(interaction, subscribed_text(done.normal, preview, where, schedule, form))


async def write_soon(interaction: Interaction, work: Awaitable[T]) -> T:
    """Await a command's store write; if it is still waiting after ACK_WITHIN seconds (the
    writer busy), defer the answer privately so Discord's deadline is met, then finish it."""
    task = asyncio.ensure_future(work)
    try:
        # shield: the deadline only decides whether to defer; the write itself goes on
        return await asyncio.wait_for(asyncio.shield(task), ACK_WITHIN)
    except TimeoutError:
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        return await task


def guild_ids(interaction: Interaction) -> tuple[int, int]:
    """(guild id, channel id) of a command run in a server."""
    if interaction.guild_id is None or interaction.channel_id is None:
        raise UserError("This command only works in a server channel.")
    return interaction.guild_id, interaction.channel_id


def display_name(user: discord.abc.User) -> str:
    """A member's name as plain text that can never ping anyone."""
    return neutralise_mentions(user.display_name)


async def with_dm_notice(interaction: Interaction, text: str, *, ephemeral: bool = True) -> str:
    """`text` plus the DM-closed notice if the user has one pending (marked told when added).

    The notice is private: a public reply leaves it pending for the next private one.
    """
    if not ephemeral:
        return text
    store = interaction.client.store
    # Checked on a read connection first: almost nobody has a notice pending, and a reply must
    # not wait for the writer (an ingest or digest planning may hold it for seconds).
    if not await store.read(dm_notice_pending, interaction.user.id):
        return text
    told = await store.write(take_dm_notice, interaction.user.id)
    return f"{text}\n{DM_CLOSED_NOTICE}" if told else text


async def reply(
    interaction: Interaction,
    text: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    ephemeral: bool = True,
    view: discord.ui.View | None = None,
) -> discord.Message | None:
    """Answer the command (or follow up a deferred one), never pinging, with any DM notice."""
    content = await with_dm_notice(interaction, text or "", ephemeral=ephemeral)
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "ephemeral": ephemeral}
    if embed is not None:
        kwargs["embed"] = embed
    if embeds:
        kwargs["embeds"] = embeds
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        return await interaction.followup.send(
            content or discord.utils.MISSING, wait=True, **kwargs
        )
    await interaction.response.send_message(content or None, **kwargs)
    return None


def subscription_choices(
    labelled: Iterable[tuple[str, int]], typed: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete choices (label, id) filtered by what was typed, within Discord's limits."""
    choices = []
    for label, sub_id in labelled:
        if choice_matches(label, typed):
            name = label if len(label) <= MAX_CHOICE_NAME else label[: MAX_CHOICE_NAME - 1] + "…"
            choices.append(app_commands.Choice(name=name, value=str(sub_id)))
        if len(choices) == MAX_CHOICES:
            break
    return choices


async def fetch_likes(bot: PaperboyBot, query: Query | None) -> None:
    """Store the query's `like:` papers, fetched from Hugging Face as /paper does (after a
    defer: it may ask Hugging Face); an id nobody knows is a one-line `UserError`."""
    if query is None or not query.like_ids:
        return
    hf, _ = build_sources(bot.http_session, bot.settings)
    await fetch_like_papers(bot.store, hf, query, bot.clock())
