"""Benchmark: plan every feed's digest — F feeds, S subscriptions in all, P new papers — through the
real store and `plan_digest` with one shared match, against planning each feed on its own as
Paperboy did before (every feed re-read, re-tokenised and re-matched the same papers).

    .venv/bin/python benchmarks/bench_planning.py [--feeds 1000] [--subs 100000] [--papers 2000]

Runs at F/2 and F feeds (S scaled with them) and prints the growth ratio (linear is about 2.0x).
Papers and subscriptions come from `bench_matching.Corpus` (same seed, same vocabulary); each
feed has 1 in 10 of its subscriptions as the channel's own, the rest personal.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_matching import Corpus
from host import describe, reference_seconds

from bot.delivery.planner import plan_digest
from bot.delivery.shared_match import FeedMatchCache
from bot.destinations import Destination
from bot.store import Store
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from bot.store.deliveries import delivered_among, delivered_paper_ids

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
BASELINE_SAMPLE = 10  # feeds planned the old way, extrapolated to all of them


def add_feeds(db: sqlite_utils.Database, corpus: Corpus, feeds: int, subs: int) -> None:
    """Feeds in their own servers, each with subs/feeds subscriptions (a tenth the channel's)."""
    per_feed = max(1, subs // feeds)
    personal, channel = [], []
    for feed in range(1, feeds + 1):
        feeds_repo.ensure_feed(
            db, channel_id=feed, guild_id=feed, schedule_time="09:00", timezone="UTC",
            sources="hf", created_by=1, now=NOW - timedelta(days=5),
        )  # fmt: skip
        queries = {corpus.query_text() for _ in range(per_feed)}
        for n, query in enumerate(sorted(queries)):
            row = {"guild_id": feed, "channel_id": feed, "query": query, "normal": query}
            if n % 10 == 0:
                channel.append({**row, "added_by": 1, "created_at": NOW.isoformat()})
            else:
                personal.append({**row, "user_id": n, "dm": 0, "created_at": NOW.isoformat()})
    db["personal_subscriptions"].insert_all(personal, batch_size=5000)  # type: ignore[union-attr]
    db["channel_subscriptions"].insert_all(channel, batch_size=5000)  # type: ignore[union-attr]


def add_history(db: sqlite_utils.Database, feeds: int, days: int, per_day: int = 25) -> int:
    """`days` of past digests in every feed: `per_day` deliveries a day, of older papers (a
    plan reads its feed's deliveries: a year of them is ~9,000 rows a feed)."""
    rows = (
        (f"channel:{feed}", f"2501.{day:03d}{n:02d}", f"n{feed}.{day}.{n}", at, at)
        for feed in range(1, feeds + 1)
        for day in range(1, days + 1)
        for n in range(per_day)
        for at in [(NOW - timedelta(days=day)).isoformat()]
    )
    with db.conn:
        db.conn.executemany(
            "INSERT INTO deliveries (destination, paper_id, state, nonce, created_at, updated_at)"
            " VALUES (?, ?, 'sent', ?, ?, ?)",
            rows,
        )
    return feeds * days * per_day


def delivered_reads(
    db: sqlite_utils.Database, channels: list[int], cache: FeedMatchCache
) -> tuple[float, float]:
    """Seconds to read every feed's already-delivered papers: those of its window (plus old
    papers listed again), and its whole history."""
    since = NOW - timedelta(days=1)
    batch = cache.batch(db, since, NOW)
    start = time.perf_counter()
    for channel in channels:
        old = batch.seen_before((since, NOW), since)
        delivered_among(db, Destination.channel(channel), since, old)
    window = time.perf_counter() - start
    start = time.perf_counter()
    for channel in channels:
        delivered_paper_ids(db, Destination.channel(channel))
    return window, time.perf_counter() - start


@dataclass(frozen=True)
class Timings:
    """Seconds to plan every feed from one shared match (cold: subscriptions parsed too; daily:
    new papers matched; at the slot: match prepared after the ingest), and one by one as before
    (extrapolated from a sample)."""

    cold: float
    daily: float
    at_slot: float
    one_by_one: float
    delivered_window: float  # every feed's delivered papers, read as plans read them now
    delivered_history: float  # ... and read from each feed's whole history, as before


async def measure(
    feeds: int, subs: int, papers: int, seed: int, history: int, baseline_sample: int
) -> tuple[Timings, int, float]:
    """Timings, the papers planned in all, and the process's peak resident memory (MB) after the
    shared planning."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db", clock=lambda: NOW)
        try:
            corpus = Corpus(seed)
            batch = [replace(corpus.paper(i), sources=frozenset({"hf"})) for i in range(papers)]
            await store.run(papers_repo.upsert_papers, batch, NOW - timedelta(hours=12))
            await store.run(add_feeds, corpus, feeds, subs)
            await store.run(add_history, feeds, history)
            channels = list(range(1, feeds + 1))

            cache = FeedMatchCache()

            def plan_all(db: sqlite_utils.Database) -> tuple[float, int]:
                planned, start = 0, time.perf_counter()
                for channel in channels:
                    plan = plan_digest(db, channel, NOW, cap=25, shared=cache)
                    planned += len(plan.digest.entries) if plan else 0
                return time.perf_counter() - start, planned

            def one_by_one(db: sqlite_utils.Database) -> float:
                sample = channels[:: max(1, len(channels) // baseline_sample)]
                start = time.perf_counter()
                for channel in sample:
                    plan_digest(db, channel, NOW, cap=25)  # no cache: this channel's own match
                return (time.perf_counter() - start) * len(channels) / len(sample)

            # cold: the first plan after the bot starts parses and indexes every subscription
            cold, planned = await store.run(plan_all)
            assert (cache.builds, cache.compiles) == (1, 1)
            # a day later: an ingest brought new papers; the subscriptions are compiled already
            fresh = replace(corpus.paper(papers), sources=frozenset({"hf"}))
            await store.run(papers_repo.upsert_papers, [fresh], NOW - timedelta(hours=1))
            daily, _ = await store.run(plan_all)
            # at the digest slot: the ingest's prepare() already matched the new papers
            later = replace(corpus.paper(papers + 1), sources=frozenset({"hf"}))
            await store.run(papers_repo.upsert_papers, [later], NOW - timedelta(minutes=30))
            await store.read(cache.batch, NOW, NOW)  # as Engine.prepare() does
            at_slot, _ = await store.run(plan_all)
            assert (cache.builds, cache.compiles) == (3, 1)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            old = await store.run(one_by_one)
            window, history = await store.run(delivered_reads, channels, cache)
            return Timings(cold, daily, at_slot, old, window, history), planned, peak_mb
        finally:
            await store.close()


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--subs", type=int, default=100_000, help="subscriptions in all")
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--history-days", type=int, default=365, help="days of past digests in every feed"
    )
    parser.add_argument(
        "--baseline-sample", type=int, default=BASELINE_SAMPLE,
        help="feeds planned on their own, extrapolated to all",
    )  # fmt: skip
    args = parser.parse_args()
    before = reference_seconds()
    print(
        f"Planning every feed's digest: {args.papers:,} new papers,"
        f" {args.history_days} days of past digests (25 papers a day) in every feed"
    )
    print(
        f"{'feeds':>6} {'subs':>8} {'cold (s)':>9} {'matched at slot (s)':>20}"
        f" {'prepared (s)':>13} {'one by one (s)*':>16} {'speed-up':>9} {'planned':>8}"
        f" {'delivered: window / history (s)':>32} {'peak RSS (MB)':>14}"
    )
    rows = []
    for scale in (2, 1):
        feeds, subs = args.feeds // scale, args.subs // scale
        t, planned, peak = asyncio.run(
            measure(feeds, subs, args.papers, args.seed, args.history_days, args.baseline_sample)
        )
        rows.append(t)
        reads = f"{t.delivered_window:.2f} / {t.delivered_history:.2f}"
        print(
            f"{feeds:>6,} {subs:>8,} {t.cold:>9.2f} {t.daily:>20.2f} {t.at_slot:>13.2f}"
            f" {t.one_by_one:>16.1f} {t.one_by_one / t.daily:>8.1f}x {planned:>8,}"
            f" {reads:>32} {peak:>14.0f}"
        )
    growth = rows[1].daily / rows[0].daily
    print(
        f"growth from {args.feeds // 2:,} to {args.feeds:,} feeds (matched at slot): {growth:.2f}x"
    )
    print("cold: the first plan after a start (every subscription parsed, every paper matched);")
    print("matched at slot: every paper tokenised and matched at the slot, the subscriptions")
    print("already compiled; prepared: the match made right after the ingest (Engine.prepare),")
    print("only the plans at the slot; speed-up: one by one / matched at slot;")
    print("delivered: every feed's already-posted papers read for its window vs its whole history")
    print(f"* each feed matched on its own, timed on {args.baseline_sample} feeds and extrapolated")
    print(describe(before, reference_seconds()))


if __name__ == "__main__":
    main()
