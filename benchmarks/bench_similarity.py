"""Benchmark: how good and how fast `like:<arXiv id>` is.

    .venv/bin/python benchmarks/bench_similarity.py [--papers N ...] [--seed S]

Quality, on the bundled sample day (bot/sample_data, 21 real papers): for each paper with
hand-labelled related papers, `/search query:like:ID` (bot.likes.search_similar) returns its
top 3; precision@3 counts the related ones among them, out of min(3, number related) so a paper
with one related paper can still score 1.0. Also the share of the labelled related and
unrelated pairs on each side of the threshold.

Speed, on synthetic stores of N papers (Zipf-distributed content words, 80-word abstracts):
`/search like:ID` (full-text search narrows to the papers sharing the paper's heaviest terms)
against the baseline of scoring every stored paper, measured in the same process; and a digest
of 2,000 new papers matched against 1,000 `like:` subscriptions. Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.delivery.digest import Subscriber
from bot.likes import default_scorer, match_with_likes, search_similar
from bot.query import parse
from bot.query.text import index_text
from bot.similarity import TFIDF_THRESHOLD, cosine
from bot.sources.sample import load_sample_day
from bot.store import Store
from bot.store.migrations import MIGRATIONS
from bot.store.papers import get_papers, row_to_paper, upsert_papers
from bot.store.rows import iso, rows

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

# Related papers in the sample day, labelled by hand from titles and abstracts.
RELATED = {
    "2403.06504": {"2111.00160"},  # fine-tuning 100B models on one GPU / efficient tuning
    "2111.00160": {"2403.06504"},
    "2210.02414": {"2205.05131"},  # pre-training large language models (GLM-130B, UL2)
    "2205.05131": {"2210.02414"},
    "2306.07536": {"2301.12726", "2409.00106", "2309.15129"},  # reasoning with (V)LMs
    "2301.12726": {"2306.07536", "2409.00106", "2309.15129", "2305.16635"},
    "2409.00106": {"2306.07536", "2301.12726"},
    "2309.15129": {"2306.07536", "2301.12726"},
    "2305.16635": {"2301.12726", "2311.07167"},  # distilling / steering smaller models
    "2311.07167": {"2305.16635"},
}
UNRELATED = [
    ("2403.06504", "2311.18260"),
    ("2210.02414", "2409.00106"),
    ("2410.18514", "2306.17563"),
    ("2309.15129", "2111.00160"),
    ("2305.16635", "2403.06504"),
    ("2306.17563", "2311.18260"),
]


def quality() -> None:
    """precision@3 of /search like:ID on the sample day, and the pairs around the threshold."""

    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            async with await Store.open(Path(tmp) / "sample.db") as store:
                _, papers = load_sample_day()
                await store.run(upsert_papers, list(papers), NOW)
                await store.run(report)

    def report(db: sqlite_utils.Database) -> None:
        scores = []
        print(f"precision@3 of /search like:ID on the sample day (threshold {TFIDF_THRESHOLD}):")
        for pid, related in RELATED.items():
            page = search_similar(db, parse(f"like:{pid}"), limit=3)
            top = [h.paper.id for h in page.hits]
            p3 = len(set(top) & related) / min(3, len(related))
            scores.append(p3)
            print(f"  like:{pid}  top 3 {top}  precision@3 {p3:.2f}")
        print(f"mean precision@3: {sum(scores) / len(scores):.2f} over {len(scores)} papers")
        stored = get_papers(db, {p for pair in _pairs() + UNRELATED for p in pair})
        vectors = default_scorer(db).vectors(list(stored.values()))  # type: ignore[attr-defined]
        above = [cosine(vectors[a], vectors[b]) >= TFIDF_THRESHOLD for a, b in _pairs()]
        below = [cosine(vectors[a], vectors[b]) < TFIDF_THRESHOLD for a, b in UNRELATED]
        print(
            f"related pairs at or above the threshold: {sum(above)}/{len(above)}; "
            f"unrelated pairs below it: {sum(below)}/{len(below)}"
        )

    asyncio.run(run())


def _pairs() -> list[tuple[str, str]]:
    return sorted({tuple(sorted((a, b))) for a, rel in RELATED.items() for b in rel})  # type: ignore[misc]


def fill(db: sqlite_utils.Database, papers: int, rng: random.Random) -> None:
    """`papers` synthetic papers: Zipf-distributed words from a 20,000-word vocabulary, without
    its 200 most frequent words (real text loses its function words to the stop list)."""
    vocab = [f"w{n}" for n in range(20_000)]
    cum = list(itertools.accumulate(1 / (n + 200) for n in range(len(vocab))))
    batch_rows, fts = [], []
    listed = iso(NOW)
    for n in range(papers):
        title = " ".join(rng.choices(vocab, cum_weights=cum, k=8))
        abstract = " ".join(rng.choices(vocab, cum_weights=cum, k=80))
        pid = f"{2401 + n // 100_000}.{n % 100_000:05d}"
        batch_rows.append((pid, title, abstract, listed, listed, listed, '["hf"]'))
        fts.append((n + 1, index_text((title,)), index_text((abstract,)), "", ""))
        if len(batch_rows) == 50_000 or n == papers - 1:
            with db.conn:
                db.conn.executemany(
                    "INSERT INTO papers (id, title, abstract, first_seen, updated_at, listed_at,"
                    " sources) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    batch_rows,
                )
                db.conn.executemany(
                    "INSERT INTO papers_fts (rowid, title, abstract, authors, keywords)"
                    " VALUES (?, ?, ?, ?, ?)",
                    fts,
                )
            batch_rows, fts = [], []


def timed(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """Run once, print the time, return the result and seconds."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    took = time.perf_counter() - start
    print(f"  {label}: {took * 1000:.0f} ms")
    return result, took


def score_everything(db: sqlite_utils.Database, paper_id: str) -> list[tuple[float, str]]:
    """The baseline: score every stored paper against one, best first."""
    everything = [row_to_paper(r) for r in rows(db, "SELECT * FROM papers")]
    ref = next(p for p in everything if p.id == paper_id)
    found = default_scorer(db).similarities([ref], everything)
    return sorted(((s[paper_id], pid) for pid, s in found.items()), reverse=True)


def speed(papers: int, seed: int, baseline: bool) -> None:
    """/search like:ID and a like: digest on a store of `papers` papers."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite_utils.Database(Path(tmp) / "bench.db")
        db.conn.execute("PRAGMA journal_mode = WAL")
        MIGRATIONS.apply(db)
        start = time.perf_counter()
        fill(db, papers, rng)
        print(f"{papers:,} papers (filled in {time.perf_counter() - start:.0f} s):")
        query = parse("like:2401.00042")
        _, fast = timed("/search like:ID (FTS-narrowed)", search_similar, db, query)
        if baseline:
            ranked, slow = timed(
                "baseline: score every stored paper", score_everything, db, "2401.00042"
            )
            everything = {pid for _, pid in ranked} - {"2401.00042"}
            everything_found = search_similar(db, query, limit=len(everything) + 1)
            found = {h.paper.id for h in everything_found.hits}
            print(
                f"  speed-up {slow / fast:.0f}x; the narrowed search found"
                f" {len(found & everything)} of the {len(everything)} papers at or above"
                " the threshold"
            )
        new = [row_to_paper(r) for r in rows(db, "SELECT * FROM papers LIMIT 2000")]
        subs = [
            (
                Subscriber("personal", n, n, ""),
                parse(f"like:2401.{rng.randrange(2000, 90_000):05d}"),
            )
            for n in range(1000)
        ]
        found, _ = timed(
            "digest: 2,000 new papers x 1,000 like: subscriptions",
            match_with_likes,
            db,
            new,
            subs,
            {},
        )
        print(f"  ({len(found)} papers matched)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    quality()
    for n in args.papers:
        speed(n, args.seed, baseline=n <= 100_000)


if __name__ == "__main__":
    main()
