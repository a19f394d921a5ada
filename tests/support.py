"""Helpers the whole suite shares that are not fixtures: a clock tests move by hand, settings
for a test's temporary directory, seeding a feed and its subscriptions, the one bounded wait
for a condition nothing announces, and servers spread over two gateway shards. (The fixtures
built on them live in `tests/conftest.py`.)"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from pydantic import SecretStr

from bot.config import Settings
from bot.delivery.digest import Subscriber
from bot.delivery.planner import window_start_for
from bot.feed_sources import parse_sources
from bot.models import Paper
from bot.query import Query, parse
from bot.store import Store
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from bot.store.migrations import MIGRATIONS
from tests.fakediscord import FakeDiscord, Guild

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday, 09:00 in Berlin


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settings_for(tmp_path: Path, fake: FakeDiscord | None = None, **values: Any) -> Settings:
    """Settings for one test: its database in `tmp_path`, no `.env`, no source polling, and
    Discord at `fake` when given; `values` override any of these."""
    base: dict[str, Any] = {"db": tmp_path / "paperboy.db", "poll_sources": False}
    if fake is not None:
        base.update(
            discord_token=SecretStr(fake.token),
            discord_api_url=fake.api_url,
            discord_gateway_url=fake.gateway_url,
        )
    return Settings(_env_file=None, **(base | values))  # type: ignore[call-arg]


async def eventually(check: Callable[[], object], what: str) -> None:
    """Wait until `check()` (or what it returns, if awaitable) is true, for a condition nothing
    announces; fail naming `what` after 30 s (a bound, never part of an assertion)."""
    pause = 0.05
    for _ in range(600):
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(pause)
    raise AssertionError(f"timed out waiting for {what}")


def paper(
    pid: str, title: str, *, sources: tuple[str, ...] = ("hf",), upvotes: int = 0, **kw: Any
) -> Paper:
    """A paper as a source lists it, with a one-line abstract and two authors."""
    return Paper(
        id=pid,
        title=title,
        abstract=f"We propose {title}. It works well.",
        authors=("Ada Lovelace", "Alan Turing"),
        sources=frozenset(sources),
        upvotes=upvotes,
        **kw,
    )


async def make_feed(
    store: Store,
    channel_id: int,
    *,
    created_by: int = 7,
    tz: str = "Europe/Berlin",
    schedule: str = "09:00",
    days: str = "daily",
    guild_id: int = 1,
    sources: str = "hf, arxiv",
    created: datetime = NOW,
) -> None:
    """Set up a channel's feed as `/feed` would."""
    await store.run(
        feeds_repo.ensure_feed,
        channel_id=channel_id,
        guild_id=guild_id,
        schedule_time=schedule,
        timezone=tz,
        sources=sources,
        created_by=created_by,
        now=created,
    )
    # a feed that `subscribe` created first takes these settings now
    await store.run(
        feeds_repo.update_feed,
        channel_id,
        schedule_time=schedule,
        timezone=tz,
        days=days,
        sources=sources,
        created_by=created_by,
    )


async def subscribe(
    store: Store,
    channel_id: int,
    query: str,
    *,
    user: int | None = None,
    guild_id: int = 1,
    dm: bool = False,
) -> None:
    """Add the channel's own subscription, or `user`'s personal one (by DM if `dm`)."""
    if not dm and await store.run(feeds_repo.get_feed, channel_id) is None:
        # subscriptions belong to their channel's feed (a foreign key); the tests that care
        # about the feed's settings call make_feed, before or after
        await make_feed(store, channel_id, guild_id=guild_id)
    if user is None:
        await store.run(
            subs_repo.add_channel,
            guild_id=guild_id,
            channel_id=channel_id,
            query=query,
            normal=query,
            added_by=7,
            now=NOW,
        )
    else:
        await store.run(
            subs_repo.add_personal,
            guild_id=guild_id,
            user_id=user,
            channel_id=None if dm else channel_id,
            query=query,
            normal=query,
            dm=dm,
            now=NOW,
        )


def latest_migration() -> str:
    """The name of the newest schema migration (what a fresh database is at)."""
    db = sqlite_utils.Database(memory=True)
    return [m.name for m in MIGRATIONS.pending(db)][-1]


def add_guilds_on_alternate_shards(fake: FakeDiscord, count: int) -> list[Guild]:
    """Guilds whose ids fall on shards 0, 1, 0, 1… of two ((id >> 22) % 2)."""
    # A pinned clock, ahead of every id made so far, moves exactly 1 ms per guild.
    fake.clock.set(datetime.now(UTC) + timedelta(days=1))
    guilds = []
    for n in range(count):
        guilds.append(fake.add_guild(f"guild {n}"))
        fake.clock.advance(0.001)
    assert len({g.id >> 22 & 1 for g in guilds}) == min(count, 2)
    return guilds


def feed_reference_inputs(
    db: sqlite_utils.Database, channel: int, now: datetime
) -> tuple[list[Paper], list[tuple[Subscriber, Query]]]:
    """A feed's digest inputs read the plain way, as references for the shared match: the
    papers from its sources listed in its window, and its subscriptions (the channel's own
    first, then members', oldest first), each parsed."""
    feed = feeds_repo.get_feed(db, channel)
    assert feed is not None
    sources = parse_sources(feed.sources)
    start = window_start_for(db, channel, now)
    listed = [
        p
        for p in papers_repo.papers_listed_between(db, start, now + timedelta(microseconds=1))
        if sources.accepts(p)
    ]
    subscribers = [
        (Subscriber("channel", s.id, None, s.normal), parse(s.query))
        for s in subs_repo.list_channel(db, channel)
    ] + [
        (Subscriber("personal", s.id, s.user_id, s.normal), parse(s.query))
        for s in subs_repo.personal_for_channel(db, channel)
    ]
    return listed, subscribers
