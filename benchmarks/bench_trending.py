"""Benchmark: /trending's ranking over a year of papers (100,000) and over 1,000,000.

    .venv/bin/python benchmarks/bench_trending.py [--papers N ...] [--seed S]

Papers are listed evenly over the past year, each with one to three upvote-history rows (what
polls write when the count changes). Times `rank_trending` for 7 and 30 days, without and with a
query (the query's own evaluator runs on every paper of the window), and one page load. Prints
figures; asserts only that the ranking is in order.
"""

from __future__ import annotations

import argparse
import itertools
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from bot.query import parse
from bot.query.text import index_text
from bot.store.migrations import MIGRATIONS
from bot.store.rows import iso
from bot.trending import rank_trending, trending_page

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WORDS = [
    "diffusion", "transformer", "agents", "reasoning", "quantization", "vision", "language",
    "robotics",
]  # fmt: skip


def fill(db: sqlite_utils.Database, papers: int, rng: random.Random) -> None:
    """`papers` papers listed over the last 365 days, with their upvote histories."""
    year = timedelta(days=365).total_seconds()
    rows, history, fts = [], [], []
    for n in range(papers):
        listed = iso(NOW - timedelta(seconds=rng.random() * year))
        first = rng.randrange(0, 50)
        now = first + int(rng.paretovariate(1.5)) - 1
        title = " ".join(rng.sample(WORDS, 3))
        pid = f"{2400 + n // 100_000}.{n % 100_000:05d}"
        rows.append((pid, title, "An abstract.", listed, listed, listed, now, '["hf"]'))
        fts.append((n + 1, index_text((title,)), "an abstract", "", ""))
        history.append((pid, listed, first))
        if now != first:
            history.append((pid, iso(NOW - timedelta(hours=rng.randrange(1, 24))), now))
    with db.conn:
        db.conn.executemany(
            "INSERT INTO papers (id, title, abstract, first_seen, updated_at, listed_at, upvotes,"
            " sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.conn.executemany(
            "INSERT OR IGNORE INTO upvote_history (paper_id, seen_at, upvotes) VALUES (?, ?, ?)",
            history,
        )
        db.conn.executemany(  # rowids follow insertion order in a fresh table
            "INSERT INTO papers_fts (rowid, title, abstract, authors, keywords)"
            " VALUES (?, ?, ?, ?, ?)",
            fts,
        )


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"  {label:<38} {1000 * (time.perf_counter() - start):8.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    query = parse("diffusion -robotics")
    for count in args.papers:
        with tempfile.TemporaryDirectory() as tmp:
            db = sqlite_utils.Database(Path(tmp) / "bench.db")
            MIGRATIONS.apply(db)
            fill(db, count, random.Random(args.seed))
            print(f"{count:,} papers listed over a year")
            for days in (7, 30):
                ranked = timed(f"rank {days} days", rank_trending, db, days, NOW)
                assert all(
                    (a.gained, a.upvotes) >= (b.gained, b.upvotes)
                    for a, b in itertools.pairwise(ranked)
                )
                print(f"    {len(ranked):,} papers in the window")
                kept = timed(f"rank {days} days, query {query.normal}", rank_trending, db, days,
                             NOW, query)  # fmt: skip
                print(f"    {len(kept):,} match")
            timed("one page (5 papers)", trending_page, db, ranked, 5, 5)


if __name__ == "__main__":
    main()
