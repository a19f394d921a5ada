"""Running the real PaperboyBot with the command cogs against the fake Discord, for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlite_utils

from bot.config import Settings
from bot.discord.client import PaperboyBot
from bot.models import Paper
from bot.store import Store
from bot.store.papers import upsert_papers
from tests.fakediscord import Channel, FakeDiscord, Guild, Member, perms
from tests.fakediscord.actions import InteractionResult

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday
COMMAND_EXTENSIONS = ("cogs.subscriptions", "cogs.feeds", "cogs.search")
MANAGE_CHANNELS = 1 << 4


def paper(
    n: int,
    title: str,
    abstract: str = "",
    *,
    days_ago: float = 1,
    upvotes: int | None = None,
    categories: tuple[str, ...] = ("cs.LG",),
    sources: frozenset[str] = frozenset({"hf"}),
) -> Paper:
    """A paper first seen and published `days_ago` days before NOW."""
    seen = NOW - timedelta(days=days_ago)
    return Paper(
        id=f"2603.{n:05d}",
        title=title,
        abstract=abstract or f"We study {title.lower()}.",
        authors=("Ada Lovelace", "Alan Turing"),
        categories=categories,
        published=seen,
        upvotes=upvotes,
        sources=sources,
        first_seen=seen,
    )


class RecordingScheduler:
    """Stands in for the scheduler: remembers which feeds were rescheduled, reports `next`."""

    def __init__(self, next_run: datetime | None = None) -> None:
        self.rescheduled: list[int] = []
        self._next_run = next_run

    def reschedule(self, channel_id: int) -> None:
        self.rescheduled.append(channel_id)

    def next_run(self, channel_id: int) -> datetime | None:
        return self._next_run


@dataclass
class World:
    """The fake server, the running bot, and the people and places of one server."""

    fake: FakeDiscord
    bot: PaperboyBot
    guild: Guild
    channel: Channel
    quiet: Channel  # a channel where members can't post
    alice: Member
    bob: Member
    mod: Member

    async def run(self, who: Member, name: str, **options: Any) -> InteractionResult:
        """Run a command and wait for its final answer (past any "thinking…")."""
        result = await self.fake.run_command(who, self.channel, name, **options)
        return await result.wait_for_final()

    async def run_in(
        self, channel: Channel, who: Member, name: str, **options: Any
    ) -> InteractionResult:
        """Run a command in another channel and wait for its final answer."""
        result = await self.fake.run_command(who, channel, name, **options)
        return await result.wait_for_final()

    async def db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store function (e.g. to seed or inspect)."""
        return await self.bot.store.run(fn, *args, **kwargs)

    async def add_papers(self, papers: list[Paper]) -> None:
        """Store papers as an ingest would."""
        await self.bot.store.run(upsert_papers, papers, NOW)

    async def count(self, table: str) -> int:
        """Rows in a table."""

        def counting(db: sqlite_utils.Database) -> int:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        return await self.bot.store.run(counting)


@asynccontextmanager
async def running_world(
    fake: FakeDiscord,
    tmp_path: Path,
    *,
    prepare: Callable[[PaperboyBot], None] | None = None,
    restart: World | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
    extensions: tuple[str, ...] = COMMAND_EXTENSIONS,
    **settings: Any,
) -> AsyncIterator[World]:
    """Start the bot with the command cogs in a fresh server (or, to restart, a new bot on the
    same database file in `restart`'s server); stop and close everything after."""
    if restart is None:
        guild = fake.add_guild("ML Lab")
        channel = guild.add_text_channel("papers")
        quiet = guild.add_text_channel("announcements")
        quiet.set_overwrite(guild, deny=["send_messages"])
        alice = guild.add_member("alice")
        bob = guild.add_member("bob")
        mod = guild.add_member("mod", permissions=perms("manage_channels"))
    else:
        guild, channel, quiet = restart.guild, restart.channel, restart.quiet
        alice, bob, mod = restart.alice, restart.bob, restart.mod
    store = await Store.open(tmp_path / "paperboy.db", clock=clock)
    session = aiohttp.ClientSession()
    config = Settings(_env_file=None, db=tmp_path / "paperboy.db", **settings)  # type: ignore[call-arg]
    bot = PaperboyBot(config, store, session, clock=clock, extensions=extensions)
    if prepare is not None:
        prepare(bot)
    task = asyncio.create_task(bot.start(fake.token))
    try:
        await fake.wait_for_commands_synced(timeout=20)
        await asyncio.wait_for(bot.wait_until_ready(), timeout=20)
        yield World(fake, bot, guild, channel, quiet, alice, bob, mod)
    finally:
        await bot.close()
        await asyncio.wait_for(task, timeout=20)
        await session.close()
        await store.close()
