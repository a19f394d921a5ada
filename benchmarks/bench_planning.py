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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_matching import Corpus

from bot.delivery.planner import plan_digest
from bot.delivery.shared_match import FeedMatchCache
from bot.store import Store
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo

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


async def measure(feeds: int, subs: int, papers: int, seed: int) -> tuple[float, float, int, float]:
    """Seconds to plan every feed from one shared match, seconds to plan them one by one as
    before (extrapolated from a sample), the papers planned in all, and the process's peak
    resident memory (MB) after the shared planning."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db", clock=lambda: NOW)
        try:
            corpus = Corpus(seed)
            batch = [replace(corpus.paper(i), sources=frozenset({"hf"})) for i in range(papers)]
            await store.run(papers_repo.upsert_papers, batch, NOW - timedelta(hours=12))
            await store.run(add_feeds, corpus, feeds, subs)
            channels = list(range(1, feeds + 1))

            def shared(db: sqlite_utils.Database) -> tuple[float, int]:
                cache, planned, start = FeedMatchCache(), 0, time.perf_counter()
                for channel in channels:
                    plan = plan_digest(db, channel, NOW, cap=25, shared=cache)
                    planned += len(plan.digest.entries) if plan else 0
                assert cache.builds == 1
                return time.perf_counter() - start, planned

            def one_by_one(db: sqlite_utils.Database) -> float:
                sample = channels[:: max(1, len(channels) // BASELINE_SAMPLE)]
                start = time.perf_counter()
                for channel in sample:
                    plan_digest(db, channel, NOW, cap=25)  # no cache: this channel's own match
                return (time.perf_counter() - start) * len(channels) / len(sample)

            seconds, planned = await store.run(shared)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            old = await store.run(one_by_one)
            return seconds, old, planned, peak_mb
        finally:
            await store.close()


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--subs", type=int, default=100_000, help="subscriptions in all")
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"Planning every feed's digest: {args.papers:,} new papers")
    print(
        f"{'feeds':>7} {'subscriptions':>14} {'shared match (s)':>17} {'one by one (s)*':>16}"
        f" {'speed-up':>9} {'papers planned':>15} {'peak RSS (MB)':>14}"
    )
    times = []
    for scale in (2, 1):
        feeds, subs = args.feeds // scale, args.subs // scale
        seconds, old, planned, peak = asyncio.run(measure(feeds, subs, args.papers, args.seed))
        times.append(seconds)
        print(
            f"{feeds:>7,} {subs:>14,} {seconds:>17.2f} {old:>16.1f} {old / seconds:>8.1f}x"
            f" {planned:>15,} {peak:>14.0f}"
        )
    print(f"growth from {args.feeds // 2:,} to {args.feeds:,} feeds: {times[1] / times[0]:.2f}x")
    print(f"* each feed matched on its own, timed on {BASELINE_SAMPLE} feeds and extrapolated")


if __name__ == "__main__":
    main()
