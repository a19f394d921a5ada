"""The real bot (through `run_bot`, as `paperboy run` starts it) against the fake Discord, with a
fixed clock and a seeded feed: shared by the end-to-end digest tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from bot.config import Settings
from bot.discord.client import PaperboyBot
from bot.discord.runner import run_bot
from bot.store import Store
from bot.store import papers as papers_repo
from tests.fakediscord import FakeDiscord
from tests.fakediscord.state import Channel, Guild, Member
from tests.support import make_feed, paper, settings_for, subscribe

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, an hour before the feed


@asynccontextmanager
async def running(
    settings: Settings,
    fake: FakeDiscord,
    *,
    clock: Callable[[], datetime] = lambda: NOW,
    extensions: tuple[str, ...] = ("cogs.meta",),
) -> AsyncIterator[PaperboyBot]:
    stop = asyncio.Event()
    built: list[PaperboyBot] = []
    made = asyncio.Event()

    def on_bot(bot: PaperboyBot) -> None:
        built.append(bot)
        made.set()

    task = asyncio.create_task(
        run_bot(settings, extensions=extensions, clock=clock, stop=stop, on_bot=on_bot)
    )
    try:
        await asyncio.wait_for(made.wait(), timeout=20)
        (bot,) = built
        await asyncio.wait_for(bot.wait_until_ready(), timeout=20)
        yield bot
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


async def seed(db: Path, channel_id: int, alice: int, bob: int, creator: int) -> None:
    async with await Store.open(db, clock=lambda: NOW) as store:
        await make_feed(store, channel_id, created_by=creator, created=NOW)
        await subscribe(store, channel_id, "diffusion")
        await subscribe(store, channel_id, "agents", user=alice)
        await subscribe(store, channel_id, "diffusion", user=bob)
        await store.run(
            papers_repo.upsert_papers,
            [
                paper("2611.00001", "Diffusion agents", upvotes=3, thumbnail="https://cdn/x.png"),
                paper("2611.00002", f"Diffusion @everyone <@{alice}> @here", upvotes=1),
                paper("2611.00003", "Optics", upvotes=50),
            ],
            NOW - timedelta(hours=2),
        )


class Lab(NamedTuple):
    """A server with one feed channel, two subscribers and the admin who set the feed up."""

    guild: Guild
    channel: Channel
    alice: Member
    bob: Member
    admin: Member
    settings: Settings


async def seeded_lab(
    fake: FakeDiscord, tmp_path: Path, *, forum: bool = False, **settings: Any
) -> Lab:
    """Create the server on the fake Discord and `seed` its feed in a fresh database."""
    guild = fake.add_guild("Lab")
    channel = guild.add_forum_channel("paper-forum") if forum else guild.add_text_channel("papers")
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    config = settings_for(tmp_path, fake, **settings)
    await seed(config.db, channel.id, alice.id, bob.id, admin.id)
    return Lab(guild, channel, alice, bob, admin, config)
