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


@dataclass(frozen=True)
class Timings:
    """Seconds to plan every feed from one shared match (cold: subscriptions parsed too; daily:
    new papers matched; at the slot: match prepared after the ingest), and one by one as before
    (extrapolated from a sample)."""

    cold: float
    daily: float
    at_slot: float
    one_by_one: float


async def measure(feeds: int, subs: int, papers: int, seed: int) -> tuple[Timings, int, float]:
    """Timings, the papers planned in all, and the process's peak resident memory (MB) after the
    shared planning."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db", clock=lambda: NOW)
        try:
            corpus = Corpus(seed)
            batch = [replace(corpus.paper(i), sources=frozenset({"hf"})) for i in range(papers)]
            await store.run(papers_repo.upsert_papers, batch, NOW - timedelta(hours=12))
            await store.run(add_feeds, corpus, feeds, subs)
            channels = list(range(1, feeds + 1))

            cache = FeedMatchCache()

            def plan_all(db: sqlite_utils.Database) -> tuple[float, int]:
                planned, start = 0, time.perf_counter()
                for channel in channels:
                    plan = plan_digest(db, channel, NOW, cap=25, shared=cache)
                    planned += len(plan.digest.entries) if plan else 0
                return time.perf_counter() - start, planned

            def one_by_one(db: sqlite_utils.Database) -> float:
                sample = channels[:: max(1, len(channels) // BASELINE_SAMPLE)]
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
            return Timings(cold, daily, at_slot, old), planned, peak_mb
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
        f"{'feeds':>6} {'subs':>8} {'cold (s)':>9} {'daily (s)':>10} {'at slot (s)':>12}"
        f" {'one by one (s)*':>16} {'speed-up':>9} {'planned':>8} {'peak RSS (MB)':>14}"
    )
    rows = []
    for scale in (2, 1):
        feeds, subs = args.feeds // scale, args.subs // scale
        t, planned, peak = asyncio.run(measure(feeds, subs, args.papers, args.seed))
        rows.append(t)
        print(
            f"{feeds:>6,} {subs:>8,} {t.cold:>9.2f} {t.daily:>10.2f} {t.at_slot:>12.2f}"
            f" {t.one_by_one:>16.1f} {t.one_by_one / t.daily:>8.1f}x {planned:>8,} {peak:>14.0f}"
        )
    growth = rows[1].daily / rows[0].daily
    print(f"growth from {args.feeds // 2:,} to {args.feeds:,} feeds (daily): {growth:.2f}x")
    print("cold: first plan after a start (every subscription parsed); daily: new papers, the")
    print("subscriptions already compiled; at slot: the match prepared right after the ingest;")
    print("speed-up: one by one / daily")
    print(f"* each feed matched on its own, timed on {BASELINE_SAMPLE} feeds and extrapolated")


if __name__ == "__main__":
    main()
