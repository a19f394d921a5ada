"""The record of which slash-command payload was last published where: one hash per
application and target (0 = the global commands, else a guild id), so a restart with an
unchanged command tree does not sync again."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from bot.store.rows import iso

GLOBAL = 0  # the `guild_id` of the global commands


def synced_hash(db: sqlite_utils.Database, application_id: int, guild_id: int) -> str | None:
    """The hash last published to this target, or None if it never was (or was forgotten)."""
    row = db.execute(
        "SELECT tree_hash FROM command_syncs WHERE application_id = ? AND guild_id = ?",
        [application_id, guild_id],
    ).fetchone()
    return str(row[0]) if row else None


def record_sync(
    db: sqlite_utils.Database, application_id: int, guild_id: int, tree_hash: str, now: datetime
) -> None:
    """Remember that `tree_hash` is what this target now holds."""
    db.execute(
        "INSERT INTO command_syncs (application_id, guild_id, tree_hash, synced_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT(application_id, guild_id) DO UPDATE SET"
        " tree_hash = excluded.tree_hash, synced_at = excluded.synced_at",
        [application_id, guild_id, tree_hash, iso(now)],
    )


def synced_guilds(db: sqlite_utils.Database, application_id: int) -> list[int]:
    """The guilds this application has published guild commands to (earlier dev servers)."""
    found = db.execute(
        "SELECT guild_id FROM command_syncs WHERE application_id = ? AND guild_id != ?"
        " ORDER BY guild_id",
        [application_id, GLOBAL],
    ).fetchall()
    return [int(r[0]) for r in found]


def forget(db: sqlite_utils.Database, application_id: int, guild_id: int) -> None:
    """Drop a target's record (its commands were cleared, or must be published again)."""
    db.execute(
        "DELETE FROM command_syncs WHERE application_id = ? AND guild_id = ?",
        [application_id, guild_id],
    )
