"""A deterministic synthetic corpus of papers with realistic word frequencies, for benchmarks.

    from benchmarks.synthetic import corpus_db, papers
    db_path = corpus_db(1_000_000)      # built once through the real writer, then cached

Words follow Zipf's law over a 50,000-word vocabulary (stop words at the top, then real ML terms at
fixed ranks so a benchmark knows how common each is, then generated pseudo-words); authors come from
a Zipf-popular pool of names, categories from arXiv's skewed mix, about 500 papers per day, newest
last. The same size and seed always give the same papers. A built database is cached in the temp
directory, keyed by size, seed, this generator's version and the migrations it was built with.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).parents[1]))  # run as a script from anywhere

from bot.models import Paper
from bot.store.migrations import MIGRATIONS
from bot.store.papers import upsert_papers

VERSION = 2  # bump when the generated papers change
END = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the newest paper's time
PER_DAY = 500
VOCABULARY = 50_000
ZIPF_S = 1.0

STOP_WORDS = [
    "the", "of", "and", "a", "to", "in", "we", "is", "for", "that", "on", "with", "this", "our",
    "as", "by", "are", "be", "from", "an", "it", "which", "can", "these", "at", "or", "has", "not",
    "have", "using", "show", "its",
]  # fmt: skip
# Real terms at fixed ranks: how often a word appears follows from its rank (rank 30 of 50,000
# with 150-word abstracts: in about a third of papers; rank 3,000: about 0.4 %).
PLACED = {
    "model": 30,
    "language": 60,
    "learning": 70,
    "data": 80,
    "diffusion": 120,
    "llm": 200,
    "agent": 400,
    "survey": 500,
    "reasoning": 250,
    "quantization": 900,
    "quantized": 1_500,
    "quantize": 2_500,
    "dpo": 2_600,
    "rlhf": 3_000,
    "superconductor": 20_000,
    "metamaterial": 30_000,
}
FIRST = [
    "Ada", "Alan", "Grace", "Yann", "Yoshua", "Geoffrey", "Fei", "Andrew", "Ilya", "Demis",
    "Jürgen", "Kai", "Li", "Wei", "Jun", "Ming", "Sara", "Maria", "José", "Anna", "Omar", "Priya",
    "Ravi", "Chen",
]  # fmt: skip
LAST = [
    "Lovelace", "Turing", "Hopper", "LeCun", "Bengio", "Hinton", "Li", "Ng", "Sutskever",
    "Hassabis", "Schmidhuber", "Zhang", "Wang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu",
    "Zhou", "Xu", "Sun", "Ma", "Hu", "Guo", "Lin", "Garcia", "Müller", "Smith", "Kumar", "Singh",
    "Kim", "Park", "Lee", "Nguyen",
]  # fmt: skip
CATEGORIES = {
    "cs.LG": 35, "cs.CL": 25, "cs.CV": 25, "cs.AI": 20, "stat.ML": 5, "cs.RO": 3, "cs.IR": 3,
    "cs.SD": 1, "eess.AS": 1, "math.OC": 1, "q-bio.NC": 0.5, "physics.optics": 0.2,
}  # fmt: skip
AUTHOR = "Yann LeCun"  # a popular name of the pool (rank 3): for the author: benchmark


def _pseudo_words(rng: random.Random, count: int) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    syllables = [c + v for c in consonants for v in vowels] + [
        c + v + e for c in consonants for v in vowels for e in "nrsx"
    ]
    made: dict[str, None] = {}
    while len(made) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in PLACED and word not in STOP_WORDS:
            made[word] = None
    return list(made)


class Generator:
    """Draws papers; the n-th paper depends only on the seed and n's batch."""

    def __init__(self, total: int, seed: int = 7) -> None:
        self.total = total
        rng = random.Random(seed)
        vocab = _pseudo_words(rng, VOCABULARY)
        vocab[: len(STOP_WORDS)] = STOP_WORDS
        for word, rank in PLACED.items():
            vocab[rank - 1] = word
        self.vocab = vocab
        self.word_weights = list(
            itertools.accumulate(1 / (r**ZIPF_S) for r in range(1, VOCABULARY + 1))
        )
        names = [f"{f} {last}" for last in LAST for f in FIRST]
        rng.shuffle(names)
        names.remove(AUTHOR)
        names.insert(2, AUTHOR)
        names += [
            f"{w.title()} {v.title()}" for w, v in zip(vocab[5000:], vocab[9000:], strict=False)
        ]
        self.names = names[:20_000]
        self.name_weights = list(itertools.accumulate(1 / r for r in range(1, len(self.names) + 1)))
        self.cats = list(CATEGORIES)
        self.cat_weights = list(itertools.accumulate(CATEGORIES.values()))
        self.seed = seed

    def batch(self, start: int, count: int) -> list[Paper]:
        """Papers `start` .. `start + count - 1`, oldest first."""
        rng = random.Random(f"{self.seed}:{start}:{count}")
        words, ww = self.vocab, self.word_weights
        out = []
        for n in range(start, start + count):
            published = paper_time(n, self.total)
            title = " ".join(rng.choices(words, cum_weights=ww, k=rng.randint(6, 14)))
            abstract = " ".join(rng.choices(words, cum_weights=ww, k=rng.randint(100, 220))) + "."
            authors = tuple(
                dict.fromkeys(
                    rng.choices(self.names, cum_weights=self.name_weights, k=rng.randint(2, 8))
                )
            )
            cats = tuple(
                dict.fromkeys(
                    rng.choices(self.cats, cum_weights=self.cat_weights, k=rng.randint(1, 3))
                )
            )
            hf = rng.random() < 0.15
            keywords = tuple(rng.choices(words[30:3000], k=5)) if hf else ()
            out.append(
                Paper(
                    id=f"{2000 + n // 100_000}.{n % 100_000:05d}",
                    title=title[:1].upper() + title[1:],
                    abstract=abstract[:1].upper() + abstract[1:],
                    authors=authors,
                    categories=cats,
                    ai_keywords=keywords,
                    published=published,
                    first_seen=published,
                    upvotes=rng.randint(0, 40) if hf else None,
                    sources=frozenset({"hf", "arxiv"} if hf else {"arxiv"}),
                )
            )
        return out

    def papers(self, batch: int = 2_000) -> Iterator[tuple[datetime, list[Paper]]]:
        """All papers in batches, each with the time it is stored (oldest first)."""
        total = self.total
        for start in range(0, total, batch):
            now = paper_time(min(start + batch, total) - 1, total)
            yield now, self.batch(start, min(batch, total - start))


def paper_time(n: int, total: int) -> datetime:
    """When paper n of `total` is stored: PER_DAY a day, the last at END."""
    return END - timedelta(days=(total - 1 - n) / PER_DAY)


def cache_key(size: int, seed: int) -> str:
    """The cache file's key: size, seed, generator version and the schema of the tables it fills
    (`papers`, `papers_fts`), so a migration elsewhere doesn't force a rebuild."""
    db = sqlite_utils.Database(memory=True)
    MIGRATIONS.apply(db)
    schema = db.execute(
        "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master"
        " WHERE type = 'table' AND name IN ('papers', 'papers_fts') ORDER BY name)"
    ).fetchone()[0]
    digest = hashlib.sha256(f"{VERSION}|{seed}|{schema}".encode()).hexdigest()[:12]
    return f"{size}-{digest}"


def cache_dir() -> Path:
    """Where built corpora are kept (PAPERBOY_BENCH_CACHE, else the temp directory)."""
    path = Path(
        os.environ.get("PAPERBOY_BENCH_CACHE", Path(tempfile.gettempdir()) / "paperboy-bench")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(path: Path, size: int, seed: int = 7, *, quiet: bool = False) -> None:
    """Store `size` synthetic papers in a new database at `path`, through the real writer."""
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode = WAL")
    MIGRATIONS.apply(db)
    gen = Generator(size, seed)
    started = time.perf_counter()
    for done, (now, batch) in enumerate(gen.papers()):
        with db.atomic():  # one transaction per batch, as the store runs it
            upsert_papers(db, batch, now)
        if not quiet and done % 50 == 0:
            stored = done * 2_000 + len(batch)
            rate = stored / (time.perf_counter() - started)
            print(f"  built {stored:,} / {size:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def corpus_db(size: int, seed: int = 7) -> Path:
    """A database of `size` synthetic papers, built on first use and cached."""
    path = cache_dir() / f"synthetic-{cache_key(size, seed)}.db"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        print(f"building {size:,} synthetic papers in {path} ...", file=sys.stderr, flush=True)
        build(partial, size, seed, quiet=size < 100_000)
        os.replace(partial, path)
        for suffix in ("-wal", "-shm"):
            Path(str(partial) + suffix).unlink(missing_ok=True)
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build (or find) the cached synthetic corpus.")
    parser.add_argument("--papers", type=int, nargs="+", default=[10_000])
    parser.add_argument("--seed", type=int, default=7)
    for size in parser.parse_args().papers:
        print(corpus_db(size, parser.parse_args().seed))
