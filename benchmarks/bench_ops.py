"""Benchmark: what one /metrics scrape and one `paperboy backup` cost at scale.

    .venv/bin/python benchmarks/bench_ops.py [--deliveries N] [--runs N] [--papers N]

Builds a database with N deliveries (mostly sent), N feed runs over 1,000 feeds and N papers
(defaults: a year of a busy install: 1,000,000 deliveries, 365,000 runs, 100,000 papers), then
times `read_snapshot` (the scrape's database read, on its own read-only connection) and
`backup` (online backup API + integrity check).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from bot.ops.backup import backup
from bot.ops.health import read_snapshot
from bot.store.migrations import MIGRATIONS

NOW = "2026-11-26T07:00:00+00:00"


def build(db: Path, deliveries: int, runs: int, papers: int) -> None:
    import sqlite_utils

    with closing(sqlite3.connect(db)) as conn:
        store = sqlite_utils.Database(conn)
        store.enable_wal()
        MIGRATIONS.apply(store)
        conn.executemany(
            "INSERT INTO feeds (channel_id, guild_id, schedule_time, timezone, paused,"
            " pause_reason, created_at) VALUES (?, 1, '09:00', 'UTC', ?, ?, ?)",
            [
                (c, c % 50 == 0, "missing a permission" if c % 50 == 0 else None, NOW)
                for c in range(1, 1001)
            ],
        )
        conn.executemany(
            "INSERT INTO feed_runs (channel_id, started_at, window_start, posted, state)"
            " VALUES (?, ?, ?, ?, ?)",
            [(i % 1000 + 1, NOW, NOW, i % 3, "done" if i % 97 else "failed") for i in range(runs)],
        )
        conn.executemany(
            "INSERT INTO deliveries (destination, paper_id, state, nonce, created_at, updated_at)"
            " VALUES (?, ?, ?, 'n', ?, ?)",
            [
                (f"channel:{i % 1000}", f"p{i}", "sent" if i % 500 else "pending", NOW, NOW)
                for i in range(deliveries)
            ],
        )
        conn.executemany(
            "INSERT INTO papers (id, title, abstract, first_seen, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (f"2611.{i:05d}", f"Paper {i}", "An abstract of some length. " * 40, NOW, NOW)
                for i in range(papers)
            ],
        )
        conn.execute("INSERT INTO source_status (source, last_ok_at) VALUES ('hf', ?)", [NOW])
        conn.commit()


def timed(label: str, fn: Callable[[], object], repeat: int = 5) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label}: best of {repeat}: {best * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=365_000)
    parser.add_argument("--papers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        start = time.perf_counter()
        build(db, args.deliveries, args.runs, args.papers)
        size = db.stat().st_size / 1e6
        print(
            f"built {args.deliveries:,} deliveries, {args.runs:,} runs, {args.papers:,} papers"
            f" ({size:.0f} MB) in {time.perf_counter() - start:.1f} s"
        )
        snap = read_snapshot(db)
        print(f"snapshot: deliveries {snap.deliveries}, runs {snap.digest_runs}")
        timed("metrics scrape database read (read_snapshot)", lambda: read_snapshot(db))
        timed("paperboy backup (copy + integrity_check)", lambda: backup(db, Path(tmp) / "b.db"), 2)


if __name__ == "__main__":
    main()
