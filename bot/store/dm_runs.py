"""Runs of members' daily DM digests (migration 0006): the window each one covered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.destinations import RunState
from bot.store.rows import iso, parse_time, rows


@dataclass(frozen=True, slots=True)
class DmRun:
    """One run of a member's DM digest."""

    id: int
    user_id: int
    started_at: datetime
    finished_at: datetime | None
    window_start: datetime
    matched: int
    posted: int
    state: RunState


def _run(row: dict[str, Any]) -> DmRun:
    times = ("started_at", "finished_at", "window_start")
    values: dict[str, Any] = {k: parse_time(v) if k in times else v for k, v in row.items()}
    return DmRun(**{**values, "state": RunState(row["state"])})


def start_dm_run(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    window_start: datetime,
    now: datetime,
    matched: int = 0,
) -> DmRun:
    """Record the start of a member's DM digest run (and how many papers it matched)."""
    cursor = db.execute(
        "INSERT INTO dm_runs (user_id, started_at, window_start, matched) VALUES (?, ?, ?, ?)",
        [user_id, iso(now), iso(window_start), matched],
    )
    return _run(rows(db, "SELECT * FROM dm_runs WHERE id = ?", [cursor.lastrowid])[0])


def finish_dm_run(db: sqlite_utils.Database, run_id: int, *, now: datetime, posted: int) -> None:
    """Record that a DM digest run completed (its window is covered); once only."""
    db.execute(
        "UPDATE dm_runs SET finished_at = ?, posted = ?, state = 'done'"
        " WHERE id = ? AND state = 'running'",
        [iso(now), posted, run_id],
    )


def last_dm_run(db: sqlite_utils.Database, user_id: int, *, finished: bool = True) -> DmRun | None:
    """The member's latest (by default: latest completed) DM digest run."""
    where = "user_id = ?" + (" AND state = 'done'" if finished else "")
    found = rows(db, f"SELECT * FROM dm_runs WHERE {where} ORDER BY id DESC LIMIT 1", [user_id])
    return _run(found[0]) if found else None
