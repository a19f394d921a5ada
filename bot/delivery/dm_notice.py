"""Telling a member, once, that their DMs are closed so their DM subscription can't reach them."""

from __future__ import annotations

import sqlite_utils

DM_CLOSED_NOTICE = (
    "I couldn't DM you your papers: open your DMs from server members, "
    "or use /subscribe without dm."
)


def take_dm_notice(db: sqlite_utils.Database, user_id: int) -> bool:
    """True (once) if a DM to the user was refused and they haven't been told; marks them told."""
    cursor = db.execute(
        "UPDATE dm_status SET told_user = 1"
        " WHERE user_id = ? AND closed_at IS NOT NULL AND told_user = 0",
        [user_id],
    )
    return cursor.rowcount > 0
