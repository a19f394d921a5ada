"""Counters that database triggers bump on every write to papers and to subscriptions.

Anything that caches what it derived from those tables (the feeds' shared match,
`bot/delivery/shared_match.py`) compares the counters before reusing it. Triggers see writes
from every connection and process (a cron `paperboy ingest`, `paperboy import`), which an
in-process flag would miss.
"""

from __future__ import annotations

import sqlite_utils

# papers: the papers table; subscriptions: channel_ and personal_subscriptions (migration 0019)
COUNTERS = ("papers", "subscriptions")


def change_stamp(db: sqlite_utils.Database) -> tuple[int, ...]:
    """The counters now, in a fixed order: equal stamps mean nothing watched was written."""
    found = dict(db.execute("SELECT name, n FROM change_counts").fetchall())
    return tuple(int(found.get(name, 0)) for name in COUNTERS)
