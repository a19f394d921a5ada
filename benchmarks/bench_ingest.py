"""Benchmark: storing papers with the full-text index, against a plain sqlite-utils `insert_all`
into an FTS-enabled table of the same rows, and re-ingesting papers that did not change.

    .venv/bin/python benchmarks/bench_ingest.py [--papers N ...] [--batch 2000]

Papers come from benchmarks/synthetic.py in batches (generating them is not timed). Ours is
`upsert_papers` in one transaction per batch, as the store runs it (merge with stored copies,
listing times, the contentless index kept in step). The peer is `insert_all` of the same rows
(prepared beforehand) into a table with `enable_fts(..., create_triggers=True)`. Then every paper
is upserted again unchanged. Targets (issue 10): at least the peer's rate; re-ingest >= 20,000/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).parents[1]))  # run as a script from anywhere

from benchmarks.synthetic import Generator
from bot.store.migrations import MIGRATIONS
from bot.store.papers import paper_to_row, upsert_papers


def _open(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    db.enable_wal()  # as the store opens it
    return db


def bench_size(papers: int, batch: int, tmp: Path) -> tuple[float, float, float]:
    """(ours, peer, re-ingest) papers per second for one size."""
    ours = _open(tmp / f"ours-{papers}.db")
    MIGRATIONS.apply(ours)
    peer = _open(tmp / f"peer-{papers}.db")
    gen = Generator(papers)
    t_ours = t_peer = t_again = 0.0
    for n, (now, chunk) in enumerate(gen.papers(batch)):
        start = time.perf_counter()
        with ours.atomic():
            upsert_papers(ours, chunk, now)
        t_ours += time.perf_counter() - start

        rows = [paper_to_row(p, now) for p in chunk]
        start = time.perf_counter()
        peer["papers"].insert_all(rows, pk="id", batch_size=batch)  # type: ignore[union-attr]
        if n == 0:  # FTS-enabled from the first batch on, kept in step by triggers
            peer["papers"].enable_fts(  # type: ignore[union-attr]
                ["title", "abstract", "authors", "ai_keywords"], create_triggers=True
            )
        t_peer += time.perf_counter() - start
    for now, chunk in gen.papers(batch):
        start = time.perf_counter()
        with ours.atomic():
            result = upsert_papers(ours, chunk, now)
        t_again += time.perf_counter() - start
        assert not result.new and not result.updated
    ours.close()
    peer.close()
    return papers / t_ours, papers / t_peer, papers / t_again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, nargs="+", default=[10_000, 20_000])
    parser.add_argument("--batch", type=int, default=2_000)
    args = parser.parse_args()
    print(f"ingest in batches of {args.batch:,} (papers per second)")
    print(f"  {'papers':>10} {'ours':>8} {'peer':>8} {'ours/peer':>10} {'re-ingest':>10}  targets")
    results = []
    for papers in args.papers:
        with tempfile.TemporaryDirectory() as tmp:
            ours, peer, again = bench_size(papers, args.batch, Path(tmp))
        results.append((papers, ours))
        ok = "ok" if ours >= peer and again >= 20_000 else "MISS"
        print(
            f"  {papers:>10,} {ours:>8,.0f} {peer:>8,.0f} {ours / peer:>9.2f}x {again:>10,.0f}"
            f"  ours >= peer, re-ingest >= 20,000/s: {ok}"
        )
    if len(results) >= 2:
        (small, a), (large, b) = results[0], results[-1]
        print(f"rate at {large:,} / rate at {small:,}: {b / a:.2f} (1.0: linear total time)")


if __name__ == "__main__":
    main()
