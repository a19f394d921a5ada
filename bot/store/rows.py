"""Small helpers shared by the repository modules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlite_utils


def iso(value: datetime | date | None) -> str | None:
    """Serialise a date or time; datetimes become UTC so text order is time order."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat() if value is not None else None


def parse_time(value: str | None) -> datetime | None:
    """The datetime stored by `iso`, or None."""
    return datetime.fromisoformat(value) if value else None


def rows(
    db: sqlite_utils.Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """Run a query and return its rows as dicts."""
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
