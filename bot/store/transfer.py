"""Reading and writing a community's setup in bulk for `paperboy export` / `paperboy import`:
feeds, channel subscriptions, personal subscriptions and members' DM schedules, as plain rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.store.rows import iso, rows

FEED_FIELDS = (
    "guild_id",
    "channel_id",
    "schedule_time",
    "timezone",
    "days",
    "sources",
    "paused",
    "pause_reason",
    "disabled",
    "created_by",
)
CHANNEL_SUB_FIELDS = ("guild_id", "channel_id", "query", "added_by")
PERSONAL_SUB_FIELDS = ("guild_id", "user_id", "channel_id", "query", "dm")
DM_SCHEDULE_FIELDS = ("user_id", "schedule_time", "timezone", "days", "paused")


@dataclass(frozen=True, slots=True)
class Counted:
    """How many rows of one kind an import added and how many were already there."""

    added: int = 0
    skipped: int = 0


def _where_guild(guild_id: int | None) -> tuple[str, list[Any]]:
    return ("WHERE guild_id = ?", [guild_id]) if guild_id is not None else ("", [])


def export_rows(db: sqlite_utils.Database, guild_id: int | None) -> dict[str, list[dict[str, Any]]]:
    """Every feed and subscription (of one guild when `guild_id` is given), oldest first."""
    where, params = _where_guild(guild_id)
    feeds = rows(
        db, f"SELECT {', '.join(FEED_FIELDS)} FROM feeds {where} ORDER BY channel_id", params
    )
    channel = rows(
        db,
        f"SELECT {', '.join(CHANNEL_SUB_FIELDS)} FROM channel_subscriptions {where} ORDER BY id",
        params,
    )
    personal = rows(
        db,
        f"SELECT {', '.join(PERSONAL_SUB_FIELDS)} FROM personal_subscriptions {where} ORDER BY id",
        params,
    )
    # A schedule belongs to a member, not a server: a server's export carries the schedules of
    # its members who have a DM subscription there.
    members = (
        "WHERE user_id IN"
        " (SELECT user_id FROM personal_subscriptions WHERE guild_id = ? AND dm = 1)"
        if guild_id is not None
        else ""
    )
    schedules = rows(
        db,
        f"SELECT {', '.join(DM_SCHEDULE_FIELDS)} FROM dm_schedules {members} ORDER BY user_id",
        params,
    )
    for feed in feeds:
        feed["paused"], feed["disabled"] = bool(feed["paused"]), bool(feed["disabled"])
    for sub in personal:
        sub["dm"] = bool(sub["dm"])
    for schedule in schedules:
        schedule["paused"] = bool(schedule["paused"])
    return {
        "feeds": feeds,
        "channel_subscriptions": channel,
        "personal_subscriptions": personal,
        "dm_schedules": schedules,
    }


def import_feeds(
    db: sqlite_utils.Database, feeds: Iterable[dict[str, Any]], now: datetime
) -> Counted:
    """Add feeds for channels that have none; a channel's existing feed is kept as it is."""
    return _insert_missing(db, "feeds", FEED_FIELDS, "channel_id", "created_at", feeds, now)


def import_channel_subscriptions(
    db: sqlite_utils.Database, subs: Iterable[dict[str, Any]], now: datetime
) -> Counted:
    """Add channel subscriptions (with their normal form) unless the channel already has it."""
    added = skipped = 0
    for sub in subs:
        cursor = db.execute(
            "INSERT INTO channel_subscriptions"
            " (guild_id, channel_id, query, normal, added_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel_id, normal) DO NOTHING",
            [
                sub["guild_id"],
                sub["channel_id"],
                sub["query"],
                sub["normal"],
                sub["added_by"],
                iso(now),
            ],
        )
        added, skipped = (added + 1, skipped) if cursor.rowcount else (added, skipped + 1)
    return Counted(added, skipped)


def import_personal_subscriptions(
    db: sqlite_utils.Database, subs: Iterable[dict[str, Any]], now: datetime
) -> Counted:
    """Add personal subscriptions unless the member already has the same one in that server."""
    added = skipped = 0
    for sub in subs:
        dm = bool(sub["dm"])
        cursor = db.execute(
            "INSERT INTO personal_subscriptions"
            " (guild_id, user_id, channel_id, query, normal, dm, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(guild_id, user_id, normal) DO NOTHING",
            [
                sub["guild_id"],
                sub["user_id"],
                None if dm else sub["channel_id"],
                sub["query"],
                sub["normal"],
                int(dm),
                iso(now),
            ],
        )
        added, skipped = (added + 1, skipped) if cursor.rowcount else (added, skipped + 1)
    return Counted(added, skipped)


def import_dm_schedules(
    db: sqlite_utils.Database, schedules: Iterable[dict[str, Any]], now: datetime
) -> Counted:
    """Add members' DM schedules; a member who already has one here keeps theirs."""
    return _insert_missing(
        db, "dm_schedules", DM_SCHEDULE_FIELDS, "user_id", "updated_at", schedules, now
    )


def _insert_missing(
    db: sqlite_utils.Database,
    table: str,
    fields: tuple[str, ...],
    key: str,
    stamp: str,
    items: Iterable[dict[str, Any]],
    now: datetime,
) -> Counted:
    """Insert each item whose `key` the table lacks (with `stamp` = now); count the rest."""
    added = skipped = 0
    for item in items:
        cursor = db.execute(
            f"INSERT INTO {table} ({', '.join(fields)}, {stamp})"
            f" VALUES ({', '.join('?' * len(fields))}, ?) ON CONFLICT({key}) DO NOTHING",
            [*(_sql(item[f]) for f in fields), iso(now)],
        )
        added, skipped = (added + 1, skipped) if cursor.rowcount else (added, skipped + 1)
    return Counted(added, skipped)


def _sql(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value
