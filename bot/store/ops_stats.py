"""Figures for `/metrics` and `/healthz`, read at scrape time: digest runs by outcome, paused
feeds by reason, deliveries by state, and each source's health. Cheap at a year of data: the
feed and source tables are small and delivery states are counted from their index."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

from bot.store.rows import rows
from bot.store.source_status import SourceStatus, all_statuses

DELIVERY_STATES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class OpsSnapshot:
    """Counts describing what the bot has done and what is waiting."""

    digest_runs: dict[str, int] = field(default_factory=dict)  # posted | empty | failed | running
    dm_digest_runs: dict[str, int] = field(default_factory=dict)  # posted | empty | running
    feeds: dict[str, int] = field(default_factory=dict)  # active | paused | disabled
    paused_by_reason: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)  # pending | sent | failed
    sources: dict[str, SourceStatus] = field(default_factory=dict)


def ops_snapshot(db: sqlite_utils.Database) -> OpsSnapshot:
    """Everything `/metrics` derives from the database, in one read."""
    runs = rows(
        db,
        "SELECT CASE WHEN state = 'done' AND posted > 0 THEN 'posted'"
        " WHEN state = 'done' THEN 'empty' ELSE state END AS outcome, count(*) AS n"
        " FROM feed_runs GROUP BY outcome",
    )
    dm_runs = rows(
        db,
        "SELECT CASE WHEN state = 'done' AND posted > 0 THEN 'posted'"
        " WHEN state = 'done' THEN 'empty' ELSE state END AS outcome, count(*) AS n"
        " FROM dm_runs GROUP BY outcome",
    )
    feeds = rows(
        db,
        "SELECT CASE WHEN disabled THEN 'disabled' WHEN paused THEN 'paused' ELSE 'active' END"
        " AS state, count(*) AS n FROM feeds GROUP BY state",
    )
    paused = rows(
        db,
        "SELECT coalesce(pause_reason, 'paused by a moderator') AS reason, count(*) AS n"
        " FROM feeds WHERE paused AND NOT disabled GROUP BY reason",
    )
    # One indexed count per state (deliveries_state) rather than a scan of the whole ledger.
    deliveries = {
        state: db.execute("SELECT count(*) FROM deliveries WHERE state = ?", [state]).fetchone()[0]
        for state in DELIVERY_STATES
    }
    return OpsSnapshot(
        digest_runs={r["outcome"]: r["n"] for r in runs},
        dm_digest_runs={r["outcome"]: r["n"] for r in dm_runs},
        feeds={r["state"]: r["n"] for r in feeds},
        paused_by_reason={r["reason"]: r["n"] for r in paused},
        deliveries=deliveries,
        sources=all_statuses(db),
    )


def probe_write(db: sqlite_utils.Database) -> None:
    """Take the write lock and let it go: fails when the database cannot be written."""
    # A DELETE matching nothing still opens a write transaction (RESERVED lock), so a read-only
    # file, a full disk on journal creation or a lock held past the busy timeout all raise here.
    db.execute("DELETE FROM source_status WHERE 0")
