"""The SQL `paperboy backup`, `restore` and `doctor` run on a raw connection to a database file:
its integrity, the migrations applied to it, and turning a copy into one self-contained file."""

from __future__ import annotations

import sqlite3

from bot.store.migrations import MIGRATIONS


def integrity_problems(conn: sqlite3.Connection) -> tuple[str, ...]:
    """What `PRAGMA integrity_check` reports (`("ok",)` for a sound file)."""
    return tuple(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """The names of the Paperboy migrations applied to the file, oldest first."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
        [MIGRATIONS.migrations_table],
    ).fetchone()
    if not has_table:
        return []
    return [
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {MIGRATIONS.migrations_table}"
            " WHERE migration_set = ? ORDER BY rowid",
            [MIGRATIONS.name],
        )
    ]


def make_self_contained(conn: sqlite3.Connection) -> None:
    """Leave WAL mode, so the file is the whole database (no -wal beside it)."""
    conn.execute("PRAGMA journal_mode = DELETE")
