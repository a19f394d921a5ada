"""Hugging Face upvote history (migration 0017), written as polls run, and the /trending
ranking read from it.

One row per paper per change: a poll that sees the same count as the last row writes nothing,
so the table grows with changes, not with polls. A paper's first row is the count Paperboy
first saw; what it gained is its current `papers.upvotes` minus that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.store.rows import iso

_CHUNK = 500  # ids per statement: under SQLite's bound-parameter limit


def record_upvotes(db: sqlite_utils.Database, paper_ids: Iterable[str], now: datetime) -> int:
    """Append the stored upvote count of each paper whose count changed since its last row (or
    that has none yet); returns how many rows were written. Call after the papers are stored."""
    ids = list(dict.fromkeys(paper_ids))
    written = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        cursor = db.execute(
            "INSERT OR IGNORE INTO upvote_history (paper_id, seen_at, upvotes)"
            " SELECT p.id, ?, p.upvotes FROM papers p"
            f" WHERE p.id IN ({marks}) AND p.upvotes IS NOT NULL AND p.upvotes IS NOT"
            " (SELECT h.upvotes FROM upvote_history h WHERE h.paper_id = p.id"
            "  ORDER BY h.seen_at DESC LIMIT 1)",
            [iso(now), *chunk],
        )
        written += max(cursor.rowcount, 0)
    return written


def history(db: sqlite_utils.Database, paper_id: str) -> list[tuple[datetime, int]]:
    """The paper's recorded counts, oldest first."""
    found = db.execute(
        "SELECT seen_at, upvotes FROM upvote_history WHERE paper_id = ? ORDER BY seen_at",
        [paper_id],
    ).fetchall()
    return [(datetime.fromisoformat(seen), count) for seen, count in found]


@dataclass(frozen=True, slots=True)
class Trend:
    """A paper's place in /trending: upvotes gained since first seen, and its total."""

    paper_id: str
    gained: int
    upvotes: int


def trending(
    db: sqlite_utils.Database, since: datetime, until: datetime, fts: str = ""
) -> list[Trend]:
    """Papers listed in [since, until) that Hugging Face lists (they have upvotes), most upvotes
    gained first, then most upvotes, then newest id; only those the FTS5 expression `fts`
    selects, when given (a superset of a query's matches: see `Query.to_fts`)."""
    narrow = (
        " AND p.rowid IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)" if fts else ""
    )
    found = db.execute(
        "SELECT p.id, p.upvotes - coalesce("
        "  (SELECT h.upvotes FROM upvote_history h WHERE h.paper_id = p.id"
        "   ORDER BY h.seen_at LIMIT 1), p.upvotes) AS gained, p.upvotes"
        " FROM papers p WHERE p.listed_at >= ? AND p.listed_at < ? AND p.upvotes IS NOT NULL"
        f"{narrow} ORDER BY gained DESC, p.upvotes DESC, p.id DESC",
        [iso(since), iso(until), *([fts] if fts else [])],
    ).fetchall()
    return [Trend(pid, int(gained), int(upvotes)) for pid, gained, upvotes in found]
