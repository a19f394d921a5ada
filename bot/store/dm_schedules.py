"""Members' own DM digest schedules (migration 0018): time, timezone, days and pause.

A member without a row gets the default schedule; a row is written the first time they run
`/dm schedule` or `/dm pause`. Rows are keyed by the member alone, and every function takes the
member's own id: nothing here reads or changes another member's schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.store.rows import iso, rows


@dataclass(frozen=True, slots=True)
class DmSchedule:
    """When a member's DM digest goes out, and whether it is paused."""

    schedule_time: str  # HH:MM in `timezone`
    timezone: str
    days: str  # "daily" | "weekdays"
    paused: bool = False
    personal: bool = True  # False: the default schedule (the member never set one)

    @property
    def key(self) -> tuple[str, str, str]:
        """What members with the same schedule share (one scheduler job per key)."""
        return (self.schedule_time, self.timezone, self.days)


def _schedule(row: dict[str, Any]) -> DmSchedule:
    return DmSchedule(row["schedule_time"], row["timezone"], row["days"], bool(row["paused"]))


def get_schedule(db: sqlite_utils.Database, user_id: int) -> DmSchedule | None:
    """The member's own schedule, or None when they have the default."""
    found = rows(db, "SELECT * FROM dm_schedules WHERE user_id = ?", [user_id])
    return _schedule(found[0]) if found else None


def all_schedules(db: sqlite_utils.Database) -> dict[int, DmSchedule]:
    """Every member's own schedule, keyed by member."""
    found = rows(db, "SELECT * FROM dm_schedules ORDER BY user_id")
    return {r["user_id"]: _schedule(r) for r in found}


def save_schedule(
    db: sqlite_utils.Database, user_id: int, schedule: DmSchedule, now: datetime
) -> DmSchedule:
    """Store the member's schedule and pause state (insert or replace); returns it."""
    db.execute(
        "INSERT INTO dm_schedules (user_id, schedule_time, timezone, days, paused, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
        " schedule_time = excluded.schedule_time, timezone = excluded.timezone,"
        " days = excluded.days, paused = excluded.paused, updated_at = excluded.updated_at",
        [
            user_id,
            schedule.schedule_time,
            schedule.timezone,
            schedule.days,
            int(schedule.paused),
            iso(now),
        ],
    )
    return DmSchedule(schedule.schedule_time, schedule.timezone, schedule.days, schedule.paused)


def dm_members_since(db: sqlite_utils.Database) -> dict[int, datetime]:
    """Members with `dm:true` subscriptions, and when their first one was made."""
    found = rows(
        db,
        "SELECT user_id, min(created_at) AS since FROM personal_subscriptions WHERE dm = 1"
        " GROUP BY user_id ORDER BY user_id",
    )
    return {r["user_id"]: datetime.fromisoformat(r["since"]) for r in found}


def dm_subscription_count(db: sqlite_utils.Database, user_id: int) -> int:
    """How many `dm:true` subscriptions the member has."""
    found = db.execute(
        "SELECT count(*) FROM personal_subscriptions WHERE dm = 1 AND user_id = ?", [user_id]
    ).fetchone()
    return int(found[0])
