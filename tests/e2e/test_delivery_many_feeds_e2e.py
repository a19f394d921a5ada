"""Many feeds due at once, end to end: the real bot delivers them together through the local
Discord with its real limits (50 requests/s per bot, 5 messages per 5 s per channel), every paper
lands once in its own feed's thread, and the pacer keeps the bot clear of any 429."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot.store import Store
from bot.store import papers as papers_repo
from tests.e2e.lab import NOW, running
from tests.fakediscord import FakeDiscord
from tests.support import make_feed, paper, settings_for, subscribe

FEEDS, PAPERS = 16, 2


def word(n: int) -> str:
    """A word only feed `n`'s papers contain."""
    return "zq" + chr(ord("a") + n // 26) + chr(ord("a") + n % 26)


async def test_feeds_due_together_deliver_every_paper_once_without_a_429(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    channels = [guild.add_text_channel(f"papers-{n}") for n in range(FEEDS)]
    # A budget well below Discord's 50/s: however the machine schedules the requests, no second
    # can reach the global limit, so "no 429" does not depend on timing.
    settings = settings_for(
        tmp_path, fake, delivery_concurrency=FEEDS, discord_requests_per_second=20
    )
    planned: dict[int, set[str]] = {}
    async with await Store.open(settings.db, clock=lambda: NOW) as store:
        papers = []
        for n, channel in enumerate(channels):
            await make_feed(store, channel.id, guild_id=guild.id, created=NOW)
            await subscribe(store, channel.id, word(n), guild_id=guild.id)
            ids = [f"2611.{n * PAPERS + k:05d}" for k in range(PAPERS)]
            planned[channel.id] = set(ids)
            papers += [paper(pid, f"On {word(n)}, part {k}") for k, pid in enumerate(ids)]
        await store.run(papers_repo.upsert_papers, papers, NOW - timedelta(hours=2))

    async with running(settings, fake) as bot:
        assert bot.scheduler is not None and bot.pacer is not None
        reports = await asyncio.gather(*(bot.scheduler.run_feed_now(c.id) for c in channels))

    assert [r.posted for r in reports] == [PAPERS] * FEEDS
    for channel in channels:
        (header,) = fake.messages_in(channel)
        assert header.thread is not None
        found = Counter(
            str(embed["url"]).rsplit("/", 1)[-1]
            for message in fake.messages_in(header.thread)
            for embed in message.embeds
        )
        assert set(found) == planned[channel.id]  # nothing lost, nothing from another feed
        assert set(found.values()) == {1}  # nothing twice
    limiter = fake.server.ratelimiter
    assert (limiter.global_429, limiter.hits_429) == (0, 0)
