"""Benchmark: a day's DM digests — M members, 10 `dm:true` subscriptions each, P papers — through
the real store and `DmDigester` (a poster that only counts), against planning each member on
their own as Paperboy did before (re-reading and re-matching the day's papers per member).

    .venv/bin/python benchmarks/bench_dm_digests.py [--members 1000] [--papers 2000] [--subs 10]

Runs at M/2 and M members and prints the growth ratio (linear in members means about 2.0x).
Papers and subscriptions come from `bench_matching.Corpus` (same seed, same vocabulary).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_matching import Corpus
from host import describe, reference_seconds

from bot.config import Settings
from bot.delivery.dm_batch import plan_dm_batch
from bot.delivery.dms import DmDigester
from bot.delivery.messages import MessageSpec
from bot.store import Store
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
BASELINE_SAMPLE = 20  # members planned the old way, extrapolated to all of them


class CountingPoster:
    """Takes every DM at once; counts them."""

    def __init__(self) -> None:
        self.dms = 0

    async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
        self.dms += 1
        return self.dms

    async def find_sent_dm(self, user_id: int, spec: MessageSpec) -> int | None:
        return None


async def build(path: Path, corpus: Corpus, members: int, papers: int, subs: int) -> Store:
    store = await Store.open(path, clock=lambda: NOW)
    # listed by a source (not a /paper look-up), so they are news to digests
    batch = [replace(corpus.paper(i), sources=frozenset({"hf"})) for i in range(papers)]
    await store.run(papers_repo.upsert_papers, batch, NOW - timedelta(hours=12))

    def add(db) -> None:  # type: ignore[no-untyped-def]
        for user in range(1, members + 1):
            for query in {corpus.query_text() for _ in range(subs)}:
                subs_repo.add_personal(
                    db, guild_id=1, user_id=user, channel_id=None, query=query,
                    normal=query, dm=True, now=NOW,
                )  # fmt: skip

    await store.run(add)
    return store


async def measure(
    members: int, papers: int, subs: int, seed: int, baseline_sample: int = BASELINE_SAMPLE
) -> tuple[float, float, float, float, int]:
    """Seconds to plan every member's digest (one match, one transaction), of which at the slot
    (the match prepared after the ingest), seconds to plan them one member at a time as before,
    seconds for the whole run with sending, and DMs sent."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await build(Path(tmp) / "bench.db", Corpus(seed), members, papers, subs)
        try:
            users = list(range(1, members + 1))
            sample = users[:: max(1, len(users) // baseline_sample)]
            started = time.perf_counter()
            for user in sample:  # the old cost: every member re-reads and re-matches the papers
                await store.run(plan_dm_batch, [user], NOW)
            per_member = (time.perf_counter() - started) * len(users) / len(sample)
            poster = CountingPoster()
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
            digester = DmDigester(store, poster, settings, clock=lambda: NOW)  # type: ignore[arg-type]
            started = time.perf_counter()
            await digester.prepare()  # after an ingest: one match of every member (cold parse)
            prepared = time.perf_counter()
            # at the slot: the digests cut from it and recorded, in one ledger transaction
            await store.run(digester._begin_all, users, NOW, None, digester._last_batch)
            done = time.perf_counter()
            await digester.run_all()  # sends what was planned (the ledger keeps it exactly once)
            total = time.perf_counter() - started
            return done - started, done - prepared, per_member, total, poster.dms
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--subs", type=int, default=10, help="dm:true subscriptions per member")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--baseline-sample", type=int, default=BASELINE_SAMPLE,
        help="members planned one at a time, extrapolated to all",
    )  # fmt: skip
    args = parser.parse_args()
    before = reference_seconds()
    print(f"DM digests: {args.papers:,} papers, {args.subs} subscriptions per member")
    print(
        f"{'members':>8} {'planning (s)':>13} {'at slot (s)':>12} {'one by one (s)*':>15}"
        f" {'speed-up':>9} {'with sending (s)':>17} {'DMs':>6}"
    )
    rows = []
    for members in (args.members // 2, args.members):
        found = asyncio.run(
            measure(members, args.papers, args.subs, args.seed, args.baseline_sample)
        )
        plan, at_slot, old, total, dms = found
        rows.append(plan)
        print(
            f"{members:>8,} {plan:>13.2f} {at_slot:>12.2f} {old:>15.2f} {old / plan:>8.1f}x"
            f" {total:>17.2f} {dms:>6,}"
        )
    growth = rows[1] / rows[0]
    print(f"planning growth from {args.members // 2:,} to {args.members:,} members: {growth:.2f}x")
    print(
        f"* planning one member at a time, timed on {args.baseline_sample} members and extrapolated"
    )
    print("planning: the match (prepare(), as after an ingest; queries parsed cold) and the")
    print("ledger transaction; at slot: the ledger transaction alone, the match being ready")
    print("(sending: one durable ledger write before and after each DM; Discord's own limits")
    print(" make real sending far slower than these figures)")
    print(describe(before, reference_seconds()))


if __name__ == "__main__":
    main()
