"""Channel feeds (schedule, sources, pause state), their runs, and removal with a guild/channel."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.destinations import RunState
from bot.store.rows import iso, parse_time, rows


@dataclass(frozen=True, slots=True)
class Feed:
    """A channel that receives a daily digest."""

    channel_id: int
    guild_id: int
    schedule_time: str  # HH:MM in `timezone`
    timezone: str
    days: str  # "daily" | "weekdays" | "weekly:mon"… (validated by bot/feed_settings.py)
    sources: str  # e.g. "hf, arxiv:cs.CL"
    paused: bool
    pause_reason: str | None
    disabled: bool
    created_by: int | None
    created_at: str
    notes: str | None
    threads_refused: bool = False  # Discord refused a thread here: digests go out as plain posts

    @property
    def active(self) -> bool:
        """Whether the scheduler should run this feed."""
        return not self.paused and not self.disabled


@dataclass(frozen=True, slots=True)
class FeedRun:
    """One run of a feed's digest, and what it found."""

    id: int
    channel_id: int
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    window_start: datetime
    listed: int
    matched: int
    posted: int
    reason: str | None
    state: RunState


_FEED_COLUMNS = {f.name for f in fields(Feed)}


def _feed(row: dict[str, Any]) -> Feed:
    flags = {name: bool(row[name]) for name in ("paused", "disabled", "threads_refused")}
    return Feed(**{**row, **flags})


def _run(row: dict[str, Any]) -> FeedRun:
    times = ("scheduled_for", "started_at", "finished_at", "window_start")
    values: dict[str, Any] = {k: parse_time(v) if k in times else v for k, v in row.items()}
    return FeedRun(**{**values, "state": RunState(row["state"])})


def get_feed(db: sqlite_utils.Database, channel_id: int) -> Feed | None:
    """The channel's feed, or None."""
    found = rows(db, "SELECT * FROM feeds WHERE channel_id = ?", [channel_id])
    return _feed(found[0]) if found else None


def ensure_feed(
    db: sqlite_utils.Database,
    *,
    channel_id: int,
    guild_id: int,
    schedule_time: str,
    timezone: str,
    sources: str,
    created_by: int | None,
    now: datetime,
) -> tuple[Feed, bool]:
    """The channel's feed, creating it with these defaults if missing; True when created."""
    feed = get_feed(db, channel_id)
    if feed is not None:
        return feed, False
    db.execute(
        "INSERT INTO feeds (channel_id, guild_id, schedule_time, timezone, sources, created_by,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [channel_id, guild_id, schedule_time, timezone, sources, created_by, iso(now)],
    )
    created = get_feed(db, channel_id)
    assert created is not None
    return created, True


def update_feed(db: sqlite_utils.Database, channel_id: int, **changes: Any) -> Feed | None:
    """Change some of a feed's settings; returns the updated feed (None if there is none)."""
    unknown = set(changes) - _FEED_COLUMNS
    if unknown:
        raise ValueError(f"unknown feed fields: {sorted(unknown)}")
    if changes:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
        db.execute(f"UPDATE feeds SET {assignments} WHERE channel_id = ?", [*values, channel_id])
    return get_feed(db, channel_id)


def list_feeds(db: sqlite_utils.Database) -> list[Feed]:
    """Every feed."""
    return [_feed(r) for r in rows(db, "SELECT * FROM feeds ORDER BY channel_id")]


def delete_channel(db: sqlite_utils.Database, channel_id: int) -> None:
    """Forget a deleted channel: its feed and every subscription delivered there."""
    db.execute("DELETE FROM feeds WHERE channel_id = ?", [channel_id])
    db.execute("DELETE FROM channel_subscriptions WHERE channel_id = ?", [channel_id])
    db.execute("DELETE FROM personal_subscriptions WHERE channel_id = ?", [channel_id])


def delete_guild(db: sqlite_utils.Database, guild_id: int) -> None:
    """Forget a server the bot left: its feeds and all subscriptions made in it."""
    db.execute("DELETE FROM feeds WHERE guild_id = ?", [guild_id])
    db.execute("DELETE FROM channel_subscriptions WHERE guild_id = ?", [guild_id])
    db.execute("DELETE FROM personal_subscriptions WHERE guild_id = ?", [guild_id])


def start_run(
    db: sqlite_utils.Database,
    *,
    channel_id: int,
    window_start: datetime,
    now: datetime,
    scheduled_for: datetime | None = None,
) -> FeedRun:
    """Record the start of a feed run."""
    cursor = db.execute(
        "INSERT INTO feed_runs (channel_id, scheduled_for, started_at, window_start)"
        " VALUES (?, ?, ?, ?)",
        [channel_id, iso(scheduled_for), iso(now), iso(window_start)],
    )
    return _run(rows(db, "SELECT * FROM feed_runs WHERE id = ?", [cursor.lastrowid])[0])


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    now: datetime,
    listed: int,
    matched: int,
    posted: int,
    reason: str | None,
    state: RunState = RunState.DONE,
) -> None:
    """Record how a feed run ended."""
    db.execute(
        "UPDATE feed_runs SET finished_at = ?, listed = ?, matched = ?, posted = ?, reason = ?,"
        " state = ? WHERE id = ?",
        [iso(now), listed, matched, posted, reason, state.value, run_id],
    )


def last_run(
    db: sqlite_utils.Database, channel_id: int, *, finished: bool = False
) -> FeedRun | None:
    """The feed's latest run (only finished ones when `finished`)."""
    where = "channel_id = ?" + (" AND state = 'done'" if finished else "")
    sql = f"SELECT * FROM feed_runs WHERE {where} ORDER BY id DESC LIMIT 1"
    found = rows(db, sql, [channel_id])
    return _run(found[0]) if found else None


def pause_feed(db: sqlite_utils.Database, channel_id: int, *, reason: str) -> bool:
    """Pause the feed with a reason; True if this paused it (False: already paused or gone)."""
    cursor = db.execute(
        "UPDATE feeds SET paused = 1, pause_reason = ? WHERE channel_id = ? AND paused = 0",
        [reason, channel_id],
    )
    return cursor.rowcount > 0
