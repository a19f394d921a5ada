"""The full-text queries behind /search: candidates in rank or newest-first order from a cursor,
a capped count, and a time limit per search.

Pure functions of a `sqlite_utils.Database`, so they run on any connection (the writer's or a
read-only one). `fts` is an FTS5 MATCH expression over `papers_fts` (see `bot.query.fts`);
`since` keeps only papers published or listed since then.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.store.rows import iso, rows

# bm25 column weights for papers_fts(title, abstract, authors, keywords, categories)
BM25_WEIGHTS = (10.0, 1.0, 2.0, 4.0, 0.0)
_SCORE = "bm25(papers_fts, " + ", ".join(str(w) for w in BM25_WEIGHTS) + ")"
# Papers in the window: two index ranges, never a scan of `papers`
_SINCE = (
    " AND papers_fts.rowid IN (SELECT rowid FROM papers WHERE published >= :since"
    " UNION SELECT rowid FROM papers WHERE listed_at >= :since)"
)
_PROGRESS_STEPS = 10_000  # SQLite VM steps between two looks at the clock


class Interrupted(Exception):
    """The search ran past its time limit (SQLite was interrupted, or a loop looked)."""


def _filters(lo: int | None, hi: int | None, since: datetime | None) -> tuple[str, dict[str, Any]]:
    sql, params = "", dict[str, Any]()
    if lo is not None:
        sql += " AND papers_fts.rowid >= :lo"
        params["lo"] = lo
    if hi is not None:
        sql += " AND papers_fts.rowid < :hi"
        params["hi"] = hi
    if since is not None:
        sql += _SINCE
        params["since"] = iso(since)
    return sql, params


def ranked_candidates(
    db: sqlite_utils.Database,
    fts: str,
    *,
    lo: int | None,
    hi: int | None,
    after: tuple[float, int] | None,
    since: datetime | None,
    limit: int,
) -> list[tuple[int, float]]:
    """(rowid, bm25 score) of the best-ranked candidates with `lo <= rowid < hi`, after the
    keyset `after` (score, rowid), best first (lower bm25 is better)."""
    where, params = _filters(lo, hi, since)
    if after is not None:
        where += f" AND ({_SCORE}, papers_fts.rowid) > (:score, :rowid)"
        params.update(score=after[0], rowid=after[1])
    found = db.execute(
        f"SELECT papers_fts.rowid, {_SCORE} AS score FROM papers_fts"
        f" WHERE papers_fts MATCH :fts{where} ORDER BY score, papers_fts.rowid LIMIT :limit",
        {**params, "fts": fts, "limit": limit},
    ).fetchall()
    return [(int(r), float(s)) for r, s in found]


def scored_candidates(
    db: sqlite_utils.Database, fts: str, *, since: datetime | None, cap: int
) -> list[tuple[int, float]]:
    """(rowid, bm25 score) of the first `cap` candidates, in no particular order: for a query
    with few matches, its count and its whole ranking in one pass."""
    where, params = _filters(None, None, since)
    found = db.execute(
        f"SELECT papers_fts.rowid, {_SCORE} FROM papers_fts WHERE papers_fts MATCH :fts{where}"
        " LIMIT :cap",
        {**params, "fts": fts, "cap": cap},
    ).fetchall()
    return [(int(r), float(s)) for r, s in found]


def newest_candidates(
    db: sqlite_utils.Database,
    fts: str | None,
    *,
    before: int | None,
    since: datetime | None,
    limit: int,
) -> list[int]:
    """Rowids of the candidates stored most recently, below `before`, newest first (every paper
    when `fts` is None)."""
    where, params = _filters(None, before, since)
    if fts is None:
        where = where.replace("papers_fts.", "papers.").replace(" AND ", " WHERE ", 1)
        sql = f"SELECT rowid FROM papers{where} ORDER BY rowid DESC LIMIT :limit"
    else:
        sql = (
            "SELECT rowid FROM papers_fts WHERE papers_fts MATCH :fts"
            f"{where} ORDER BY rowid DESC LIMIT :limit"
        )
        params["fts"] = fts
    return [int(r) for (r,) in db.execute(sql, {**params, "limit": limit}).fetchall()]


def candidate_score(db: sqlite_utils.Database, fts: str, rowid: int) -> float | None:
    """The bm25 score one candidate has now (scores move as papers arrive), or None if it is no
    longer a candidate."""
    found = db.execute(
        f"SELECT {_SCORE} FROM papers_fts WHERE papers_fts MATCH :fts AND rowid = :rowid",
        {"fts": fts, "rowid": rowid},
    ).fetchone()
    return float(found[0]) if found else None


def window_floor(
    db: sqlite_utils.Database, fts: str, *, below: int | None, since: datetime | None, size: int
) -> int | None:
    """The rowid of the `size`-th newest candidate below `below`, or None when there are fewer:
    ranking `[floor, below)` scores at most `size` candidates."""
    where, params = _filters(None, below, since)
    found = db.execute(
        f"SELECT rowid FROM papers_fts WHERE papers_fts MATCH :fts{where}"
        " ORDER BY rowid DESC LIMIT 1 OFFSET :skip",
        {**params, "fts": fts, "skip": size - 1},
    ).fetchone()
    return int(found[0]) if found else None


def count_candidates(
    db: sqlite_utils.Database, fts: str | None, *, since: datetime | None, cap: int
) -> int:
    """How many candidates there are, counting no further than `cap`."""
    where, params = _filters(None, None, since)
    if fts is None:
        where = where.replace("papers_fts.", "papers.").replace(" AND ", " WHERE ", 1)
        inner = f"SELECT 1 FROM papers{where} LIMIT :cap"
    else:
        inner = f"SELECT 1 FROM papers_fts WHERE papers_fts MATCH :fts{where} LIMIT :cap"
        params["fts"] = fts
    return int(db.execute(f"SELECT count(*) FROM ({inner})", {**params, "cap": cap}).fetchone()[0])


def newest_rowid(db: sqlite_utils.Database) -> int:
    """The rowid of the paper stored last (0: none): it moves whenever a paper arrives."""
    return int(db.execute("SELECT coalesce(max(rowid), 0) FROM papers").fetchone()[0])


def rows_by_rowid(db: sqlite_utils.Database, rowids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The `papers` rows with these rowids (a paper deleted meanwhile is missing)."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(rowids), 500):  # stay under SQLite's bound-parameter limit
        chunk = list(rowids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for row in rows(
            db, f"SELECT rowid AS rowid_, * FROM papers WHERE rowid IN ({marks})", chunk
        ):
            found[row.pop("rowid_")] = row
    return found


@contextmanager
def time_limit(db: sqlite_utils.Database, seconds: float) -> Iterator[float]:
    """Interrupt any statement still running `seconds` from now (raising `Interrupted`); yields
    the deadline (a `time.monotonic()` value) for Python loops to check too."""
    deadline = time.monotonic() + seconds
    conn = db.conn
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        yield deadline
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc) and time.monotonic() > deadline:
            raise Interrupted from exc
        raise
    finally:
        conn.set_progress_handler(None, 0)
