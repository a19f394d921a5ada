"""Health of each paper source, so an empty digest can say why it is empty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.store.rows import iso, parse_time, rows

SOURCE_NAMES = {"hf": "Hugging Face", "arxiv": "arXiv"}


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The last outcome of fetching one source."""

    source: str
    last_ok_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    last_count: int | None


def record_success(db: sqlite_utils.Database, source: str, now: datetime, count: int) -> None:
    """A fetch worked: the source is healthy again."""
    db.execute(
        "INSERT INTO source_status (source, last_ok_at, failing_since, last_error, last_count)"
        " VALUES (?, ?, NULL, NULL, ?) ON CONFLICT(source) DO UPDATE SET"
        " last_ok_at = excluded.last_ok_at, failing_since = NULL, last_error = NULL,"
        " last_count = excluded.last_count",
        [source, iso(now), count],
    )


def record_failure(db: sqlite_utils.Database, source: str, now: datetime, error: str) -> None:
    """A fetch failed; `failing_since` keeps the time of the first failure in a row."""
    db.execute(
        "INSERT INTO source_status (source, failing_since, last_error) VALUES (?, ?, ?)"
        " ON CONFLICT(source) DO UPDATE SET"
        " failing_since = coalesce(source_status.failing_since, excluded.failing_since),"
        " last_error = excluded.last_error",
        [source, iso(now), error[:500]],
    )


def all_statuses(db: sqlite_utils.Database) -> dict[str, SourceStatus]:
    """Every source's status, keyed by source name."""
    found = rows(db, "SELECT * FROM source_status")
    return {
        r["source"]: SourceStatus(
            source=r["source"],
            last_ok_at=parse_time(r["last_ok_at"]),
            failing_since=parse_time(r["failing_since"]),
            last_error=r["last_error"],
            last_count=r["last_count"],
        )
        for r in found
    }
