"""Benchmark: /search per query class, first page (with its count) and page N, against the bare
FTS5 query of the same words as the floor.

    .venv/bin/python benchmarks/bench_search.py [--papers N ...] [--runs R] [--page N]

For each size (a cached synthetic corpus: benchmarks/synthetic.py) and each query class, times
`search_papers` for the first page of 5 with `count=True` (what /search does first) and for page N
reached through the cursors (what a Next click does), and the floor: a bare
`SELECT rowid FROM papers_fts WHERE papers_fts MATCH <same expression> ORDER BY rank LIMIT 5`.
Prints p50/p95 and the ratio of our p95 to the floor's; with two sizes, how each p95 grew.
Targets (issue 10, at 1,000,000 papers): p95 <= 100 ms, <= 500 ms for words in more than 10 % of
papers; never more than 3x the floor.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).parents[1]))  # run as a script from anywhere

from benchmarks.synthetic import AUTHOR, corpus_db
from bot.query import parse
from bot.query.fts import search_expression
from bot.search import search_papers

CLASSES = [
    ("common word", "model"),
    ("rare word", "superconductor"),
    ("phrase", '"language model"'),
    ("OR", "rlhf OR dpo"),
    ("NOT", "diffusion -survey"),
    ("title:", "title:agent"),
    ("author:", f'author:"{AUTHOR}"'),
    ("cat:", "cat:cs.RO"),
    ("prefix*", "quantiz*"),
]
BARE = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT 5"


def timings(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """p50 and p95 of `fn` in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - start))
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * len(samples)))]


def share(db: sqlite_utils.Database, fts: str, papers: int) -> float:
    """The fraction of papers the expression selects."""
    found = db.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?", [fts])
    return int(found.fetchone()[0]) / papers


def bench_size(papers: int, runs: int, page_n: int) -> dict[str, float]:
    """Print the table for one size; returns each class's first-page p95."""
    path = corpus_db(papers)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    db = sqlite_utils.Database(conn)
    print(f"\n{papers:,} papers ({path.name})")
    head = (
        f"  {'class':<12} {'query':<26} {'share':>6} {'results':>8}"
        f" {'first p50/p95 ms':>17} {'page ' + str(page_n) + ' p50/p95':>16}"
        f" {'floor p50/p95':>14} {'x floor':>8} {'target':>7}"
    )
    print(head)
    firsts: dict[str, float] = {}
    for label, text in CLASSES:
        query = parse(text)
        fts, _ = search_expression(query.tree)
        assert fts is not None
        first = search_papers(db, query, count=True)
        cursor, offset = first.next_cursor, len(first.hits)
        for _ in range(page_n - 2):  # walk to page N-1 once; page N is timed from its cursor
            if cursor is None:
                break
            page = search_papers(db, query, offset=offset, cursor=cursor)
            cursor, offset = page.next_cursor, offset + len(page.hits)
        f50, f95 = timings(lambda q=query: search_papers(db, q, count=True), runs)  # type: ignore[misc]
        if cursor is not None:
            n50, n95 = timings(
                lambda q=query, c=cursor, o=offset: search_papers(db, q, offset=o, cursor=c),  # type: ignore[misc]
                runs,
            )
            nth = f"{n50:7.1f}/{n95:7.1f}"
        else:
            n95, nth = 0.0, f"{'(fewer pages)':>15}"
        b50, b95 = timings(lambda e=fts: db.execute(BARE, [e]).fetchall(), runs)  # type: ignore[misc]
        fraction = share(db, fts, papers)
        target = 500 if fraction > 0.10 else 100
        total = f"{first.total:,}{'+' if first.total_at_least else ''}"
        ratio = max(f95, n95) / b95 if b95 else float("inf")
        ok = "ok" if max(f95, n95) <= target else "MISS"
        print(
            f"  {label:<12} {text:<26} {fraction:6.1%} {total:>8} {f50:8.1f}/{f95:8.1f}"
            f" {nth:>16} {b50:6.1f}/{b95:7.1f} {ratio:7.1f}x {target:>4} {ok}"
        )
        firsts[label] = f95
    conn.close()
    return firsts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--page", type=int, default=10, help="the page N timed after the first")
    args = parser.parse_args()
    results = [(n, bench_size(n, args.runs, args.page)) for n in args.papers]
    if len(results) >= 2:
        (small, a), (large, b) = results[0], results[-1]
        print(f"\ngrowth of the first page's p95 from {small:,} to {large:,} papers")
        print(f"({large / small:.0f}x the papers; linear would be {large / small:.0f}x):")
        for label, _ in CLASSES:
            print(f"  {label:<12} {b[label] / max(a[label], 0.01):6.1f}x")


if __name__ == "__main__":
    main()
