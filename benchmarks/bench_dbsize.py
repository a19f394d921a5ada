"""Benchmark: the database's size against plain sqlite-utils tables holding the same paper rows.

    .venv/bin/python benchmarks/bench_dbsize.py [--papers N ...]

Ours is the cached synthetic corpus (benchmarks/synthetic.py: built through the real writer),
compacted with `VACUUM INTO`. The peers hold the same `papers` rows, also compacted: a plain
table; the same table after sqlite-utils `enable_fts` (an external-content index of title,
abstract, authors and keywords); and the design before migration fts_contentless (a contentful
FTS5 table holding a second, folded copy of the text). Target (issue 10): at most 1.2x the
FTS-enabled plain table at 100,000 papers.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

import sqlite_utils

sys.path.insert(0, str(Path(__file__).parents[1]))  # run as a script from anywhere

from benchmarks.synthetic import corpus_db
from bot.store.papers import fts_values, row_to_paper


def compact_size(db: sqlite_utils.Database, tmp: Path, name: str) -> int:
    """Bytes of a compacted copy of the database."""
    out = tmp / f"{name}.db"
    out.unlink(missing_ok=True)
    db.execute("VACUUM INTO ?", [str(out)])
    return out.stat().st_size


def bench_size(papers: int, tmp: Path) -> tuple[int, int, int, int]:
    """(ours, plain table, FTS-enabled plain table, contentful FTS) in bytes."""
    ours_path = corpus_db(papers)
    ours = sqlite_utils.Database(
        sqlite3.connect(f"{ours_path.resolve().as_uri()}?mode=ro", uri=True)
    )
    ours_size = compact_size(ours, tmp, "ours")

    plain = sqlite_utils.Database(tmp / "plain.db")
    cursor = ours.conn.execute("SELECT * FROM papers ORDER BY rowid")
    names = [d[0] for d in cursor.description]
    rows = (dict(zip(names, r, strict=True)) for r in cursor)
    plain["papers"].insert_all(rows, pk="id", batch_size=2_000)  # type: ignore[union-attr]
    plain_size = compact_size(plain, tmp, "plain-compact")
    plain["papers"].enable_fts(  # type: ignore[union-attr]
        ["title", "abstract", "authors", "ai_keywords"], create_triggers=True
    )
    fts_size = compact_size(plain, tmp, "plain-fts-compact")
    plain["papers_fts"].drop()  # type: ignore[union-attr]
    plain.execute("DROP TRIGGER IF EXISTS papers_ai")
    plain.execute("DROP TRIGGER IF EXISTS papers_ad")
    plain.execute("DROP TRIGGER IF EXISTS papers_au")
    plain.execute(
        "CREATE VIRTUAL TABLE old_fts USING fts5(title, abstract, authors, keywords,"
        " tokenize = 'unicode61 remove_diacritics 2')"
    )
    cursor = plain.conn.execute("SELECT rowid AS rowid_, * FROM papers")
    names = [d[0] for d in cursor.description]
    with plain.conn:
        plain.conn.executemany(
            "INSERT INTO old_fts (rowid, title, abstract, authors, keywords)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                (row["rowid_"], *fts_values(row_to_paper(row)))
                for row in (dict(zip(names, r, strict=True)) for r in cursor)
            ),
        )
    old_size = compact_size(plain, tmp, "old-compact")
    plain.close()
    return ours_size, plain_size, fts_size, old_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, nargs="+", default=[10_000])
    args = parser.parse_args()
    mb = 1024 * 1024
    print("database size, compacted (MB)")
    print(
        f"  {'papers':>10} {'ours':>8} {'plain':>8} {'plain+FTS':>10} {'plain+old FTS':>14}"
        f" {'ours/plain+FTS':>15} {'old/plain+FTS':>14} {'ours/plain':>11}  target"
    )
    for papers in args.papers:
        with tempfile.TemporaryDirectory() as tmp:
            ours, plain, fts, old = bench_size(papers, Path(tmp))
        ok = "ok" if ours <= 1.2 * fts else "MISS"
        print(
            f"  {papers:>10,} {ours / mb:>8.1f} {plain / mb:>8.1f} {fts / mb:>10.1f}"
            f" {old / mb:>14.1f} {ours / fts:>14.2f}x {old / fts:>13.2f}x {ours / plain:>10.2f}x"
            f"  <= 1.2x: {ok}"
        )


if __name__ == "__main__":
    main()
