"""Feeds planned from one shared match get exactly the plan each would get on its own, and the
shared match is rebuilt whenever papers or subscriptions change, from any connection."""

from __future__ import annotations

import gc
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from bot import long_lived
from bot.delivery.digest import Digest, build_digest
from bot.delivery.planner import DigestPlan, plan_digest
from bot.delivery.shared_match import FeedMatchCache
from bot.destinations import Destination
from bot.matching import SubscriptionMatcher
from bot.store import Store
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from bot.store.deliveries import delivered_paper_ids
from tests.support import feed_reference_inputs, make_feed, paper, subscribe

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.now(NOW)
WORDS = "diffusion transformer agent reasoning quantization sparse robot speech graph vision"
SOURCES = ("hf", "arxiv", "hf, arxiv:cs.CL", "arxiv:cs.LG")


def random_query(rng: random.Random) -> str:
    a, b = rng.sample(WORDS.split(), 2)
    return rng.choice([a, f"{a} OR {b}", f"{a} -{b}", f'"{a} {b}"', f"title:{a}", f"{a[:4]}*"])


async def plan(store: Store, channel: int, cache: FeedMatchCache | None) -> DigestPlan:
    result = await store.run(plan_digest, channel, NOW, cap=5, shared=cache)
    assert result is not None
    return result


async def test_every_feed_planned_from_one_shared_match_gets_its_own_plan(store: Store) -> None:
    rng = random.Random(7)
    words = WORDS.split()
    papers = [
        paper(
            f"2611.{i:05d}",
            " ".join(rng.sample(words, 3)),
            sources=tuple(rng.sample(("hf", "arxiv"), rng.randint(1, 2))),
            categories=(rng.choice(("cs.CL", "cs.LG", "cs.CV")),),
            upvotes=rng.randint(0, 50),
        )
        for i in range(120)
    ]
    # listed over the last nine days, so each feed's window cuts its own share
    for day in range(9):
        await store.run(
            papers_repo.upsert_papers, papers[day::9], NOW - timedelta(days=day, hours=1)
        )
    channels = range(100, 112)
    for channel in channels:
        await make_feed(
            store,
            channel,
            sources=SOURCES[channel % len(SOURCES)],
            days="weekly:mon" if channel % 5 == 0 else "daily",
            created=NOW - timedelta(days=20),
            guild_id=channel,  # a member's subscriptions are unique per server
        )
        if channel % 3:  # a finished run moves the window start; the others look back 24 h
            run = await store.run(
                feeds_repo.start_run,
                channel_id=channel,
                window_start=NOW,
                now=NOW - timedelta(days=channel % 4, hours=3),
            )
            await store.run(
                feeds_repo.finish_run, run.id, now=NOW, listed=0, matched=0, posted=0, reason=None
            )
        for query in {random_query(rng) for _ in range(rng.randint(0, 2))}:
            await subscribe(store, channel, query, guild_id=channel)
        for user in rng.sample(range(1, 30), rng.randint(0, 12)):
            await subscribe(store, channel, random_query(rng), user=user, guild_id=channel)
        # one query in many channels, by the same member
        await subscribe(store, channel, "diffusion", user=99, guild_id=channel)
    # some papers already went out to some feeds
    for channel in channels[::4]:
        await store.run(_mark_delivered, channel, [p.id for p in papers[:30]])

    cache = FeedMatchCache()
    entries = []
    for channel in channels:
        alone = await plan(store, channel, None)
        assert await plan(store, channel, cache) == alone
        reference = await store.run(reference_plan, channel)
        assert (alone.listed, alone.digest) == reference
        entries += alone.digest.entries
    assert cache.builds <= 2  # daily feeds' batch, weekly feeds' batch
    # the cases that differ most: papers matched by more queries than a why names, and
    # papers mentioning several members
    assert any(e.why.endswith(" more") for e in entries)
    assert any(len(e.mention_user_ids) > 2 for e in entries)
    assert sum(len(p.digest.entries) for p in [await plan(store, c, cache) for c in channels])


def reference_plan(db: sqlite_utils.Database, channel: int) -> tuple[int, Digest]:
    """The plan as Paperboy made it before the shared match: this feed's papers, its own
    subscriptions in their own matcher."""
    listed, subscribers = feed_reference_inputs(db, channel, NOW)
    matches = SubscriptionMatcher(subscribers).match(listed) if subscribers else {}
    already = delivered_paper_ids(db, Destination.channel(channel))
    fresh = [p for p in listed if p.id in matches and p.id not in already]
    return len(listed), build_digest(fresh, matches, cap=5)


def _mark_delivered(db: sqlite_utils.Database, channel: int, paper_ids: list[str]) -> None:
    for paper_id in paper_ids:
        db.execute(
            "INSERT INTO deliveries (destination, paper_id, state, nonce, created_at, updated_at)"
            " VALUES (?, ?, 'sent', ?, ?, ?)",
            [f"channel:{channel}", paper_id, f"n{paper_id}", *[NOW.isoformat()] * 2],
        )


async def test_a_change_to_papers_or_subscriptions_from_anywhere_rebuilds_the_match(
    store: Store, tmp_path: Path
) -> None:
    await make_feed(store, 1, sources="hf", created=NOW - timedelta(days=5))
    await store.run(papers_repo.upsert_papers, [paper("2611.00001", "Sparse robots")], NOW)
    await subscribe(store, 1, "robot")
    cache = FeedMatchCache()

    def titles(result: DigestPlan) -> list[str]:
        return [e.paper.title for e in result.digest.entries]

    assert titles(await plan(store, 1, cache)) == ["Sparse robots"]
    assert titles(await plan(store, 1, cache)) == ["Sparse robots"] and cache.builds == 1

    await subscribe(store, 1, "diffusion")  # a new subscription
    await store.run(papers_repo.upsert_papers, [paper("2611.00002", "Diffusion")], NOW)
    assert titles(await plan(store, 1, cache)) == ["Sparse robots", "Diffusion"]
    assert cache.builds == 2

    subs = await store.run(subs_repo.list_channel, 1)
    await store.run(subs_repo.remove_channel, sub_id=subs[0].id, channel_id=1)
    assert titles(await plan(store, 1, cache)) == ["Diffusion"]

    # another process (a cron `paperboy ingest`, a hand edit) writes the papers table
    with sqlite3.connect(tmp_path / "paperboy.db") as other:
        other.execute("UPDATE papers SET title = 'Diffusion, revised' WHERE id = '2611.00002'")
    assert titles(await plan(store, 1, cache)) == ["Diffusion, revised"]
    builds = cache.builds

    # writes elsewhere (the ledger, runs) keep the shared match
    await store.run(
        feeds_repo.start_run, channel_id=1, window_start=NOW - timedelta(days=1), now=NOW
    )
    await plan(store, 1, cache)
    assert cache.builds == builds


async def test_new_papers_rematch_without_recompiling_the_subscriptions(store: Store) -> None:
    """Papers arrive daily, subscriptions rarely: a batch rebuilt for new papers reuses the
    parsed subscriptions and their matcher; a changed subscription is compiled again."""
    await make_feed(store, 1, sources="hf", created=NOW - timedelta(days=5))
    await subscribe(store, 1, "robot")
    cache = FeedMatchCache()
    await store.run(papers_repo.upsert_papers, [paper("2611.00001", "Sparse robots")], NOW)
    await plan(store, 1, cache)
    await store.run(papers_repo.upsert_papers, [paper("2611.00002", "Robot hands")], NOW)
    result = await plan(store, 1, cache)
    assert [e.paper.title for e in result.digest.entries] == ["Sparse robots", "Robot hands"]
    assert (cache.builds, cache.compiles) == (2, 1)

    await subscribe(store, 1, "hands")
    result = await plan(store, 1, cache)
    assert (cache.builds, cache.compiles) == (3, 2)
    assert result.digest.entries[0].paper.title == "Robot hands"  # two subscriptions now


async def test_daily_feeds_share_three_days_and_weekly_feeds_a_week_of_their_own(
    store: Store,
) -> None:
    """A week of papers against every subscription costs memory: daily feeds share 3 days of
    papers; a weekly feed's longer window is cut from 8 days matched against weekly feeds'
    subscriptions only."""
    await make_feed(store, 1, sources="hf", created=NOW - timedelta(days=20))
    await make_feed(store, 2, sources="hf", days="weekly:mon", created=NOW - timedelta(days=20))
    await store.run(
        papers_repo.upsert_papers, [paper("2611.00001", "Robots")], NOW - timedelta(days=6)
    )
    await store.run(papers_repo.upsert_papers, [paper("2611.00002", "Robot hands")], NOW)
    await subscribe(store, 1, "robot")
    await subscribe(store, 2, "robot")
    cache = FeedMatchCache()
    short = await store.read(cache.batch, NOW, NOW)  # as Engine.prepare() asks
    assert short.start == NOW - timedelta(days=3) and short.covers(1) and short.covers(2)

    daily, weekly = await plan(store, 1, cache), await plan(store, 2, cache)
    assert [e.paper.title for e in daily.digest.entries] == ["Robot hands"]
    assert [e.paper.title for e in weekly.digest.entries] == ["Robot hands", "Robots"]
    long = await store.read(cache.batch, NOW - timedelta(days=7), NOW, 2)
    assert long.start == NOW - timedelta(days=8) and long.covers(2) and not long.covers(1)
    assert cache.builds == 2 and cache.compiles == 1

    # a channel outside the long batch (its feed became weekly since) is matched in a new one
    late = await store.read(cache.batch, NOW - timedelta(days=7), NOW, 1)
    assert late.covers(1) and cache.builds == 3


async def test_a_big_shared_match_is_frozen_out_of_the_collectors_full_passes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_feed(store, 1, sources="hf", created=NOW - timedelta(days=5))
    await subscribe(store, 1, "robot")
    await store.run(papers_repo.upsert_papers, [paper("2611.00001", "Sparse robots")], NOW)
    monkeypatch.setattr("bot.long_lived.SETTLE_FROM", 1)  # one query counts as big here
    try:
        await store.read(FeedMatchCache().batch, NOW, NOW)
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    finally:
        gc.unfreeze()


async def test_a_big_match_is_frozen_before_automatic_collection_resumes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settled after its pause, a build's objects were all walked by the first collection that
    followed (~60 ms at 100,000 subscriptions) just before they were frozen anyway."""
    monkeypatch.setattr(long_lived, "SETTLE_FROM", 1)  # this small match counts as a big one
    monkeypatch.setattr(long_lived, "_last_full", time.monotonic())  # a freeze, no full pass
    await make_feed(store, 1, sources="hf", created=NOW - timedelta(days=5))
    await subscribe(store, 1, "robot")
    await subscribe(store, 1, "diffusion OR agent")
    titles = ["Robot hands", "Diffusion agents", "Sparse robots", "Speech"]
    papers = [paper(f"2611.{i:05d}", f"{titles[i % 4]} {i}") for i in range(300)]
    await store.run(papers_repo.upsert_papers, papers, NOW - timedelta(hours=2))
    started: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    cache = FeedMatchCache()
    gc.collect()
    gc.callbacks.append(seen)
    try:
        batch = await store.read(cache.batch, NOW, NOW)
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()  # leave the rest of the suite an ordinary collector
    assert len(batch.papers) == 300 and cache.builds == 1
    assert started == []  # no pass over the build's objects: they were frozen first
