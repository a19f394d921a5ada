"""`paperboy backup` and `paperboy restore`: consistent copies of the SQLite file.

A backup uses SQLite's online backup API in one step, which reads a single snapshot (WAL lets
the running bot keep writing meanwhile), writes it to a temporary file, checks it with
`PRAGMA integrity_check`, and only then moves it into place. A restore checks the file first
(integrity, a Paperboy schema this version knows), refuses while a bot holds the database, and
copies it in through the same API so no stale WAL is left behind.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.ops.dblock import DatabaseBusy, DatabaseLock
from bot.store.file_checks import applied_migrations, integrity_problems, make_self_contained
from bot.store.migrations import MIGRATIONS


class OpsError(Exception):
    """An operation refused or failed; `str()` is one line for the operator."""


@dataclass(frozen=True, slots=True)
class DatabaseCheck:
    """What `check_database` found."""

    ok: bool
    problems: tuple[str, ...]
    schema: str | None  # the newest applied migration
    unknown_migrations: tuple[str, ...]  # applied by a newer Paperboy

    @property
    def summary(self) -> str:
        """One line: integrity and schema version."""
        state = "integrity ok" if self.ok else f"integrity FAILED ({'; '.join(self.problems)})"
        return f"{state}, schema {self.schema or 'none'}"


def check_connection(conn: sqlite3.Connection) -> DatabaseCheck:
    """Integrity and schema version of an open database."""
    problems = integrity_problems(conn)
    ok = problems == ("ok",)
    applied = applied_migrations(conn)
    known = {m.name for m in MIGRATIONS._migrations}
    unknown = tuple(name for name in applied if name not in known)
    return DatabaseCheck(ok, () if ok else problems, applied[-1] if applied else None, unknown)


def check_database(path: Path) -> DatabaseCheck:
    """Open `path` read-only and check it; `OpsError` if it is not an SQLite database."""
    if not path.is_file():
        raise OpsError(f"no database file at {path}")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            return check_connection(conn)
    except sqlite3.DatabaseError as exc:
        raise OpsError(f"{path} is not a readable SQLite database ({exc})") from None


def backup(db: Path, dest: Path) -> DatabaseCheck:
    """Copy the live database `db` to `dest` consistently; the copy's check is returned."""
    if not db.is_file():
        raise OpsError(f"no database at {db} (set PAPERBOY_DB)")
    if dest.resolve() == db.resolve():
        raise OpsError("the backup file must not be the database itself")
    if not dest.parent.is_dir():
        raise OpsError(f"no such directory: {dest.parent}")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(db, timeout=30)) as src,
            closing(sqlite3.connect(partial)) as out,
        ):
            src.backup(out)  # pages=-1: one step, one snapshot, never restarted by writers
            make_self_contained(out)
            result = check_connection(out)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise OpsError(f"backup failed: {exc}") from None
    if not result.ok:
        partial.unlink(missing_ok=True)
        raise OpsError(f"the copy failed its integrity check: {result.summary}")
    os.replace(partial, dest)
    return result


def restore(source: Path, db: Path) -> DatabaseCheck:
    """Replace `db` with `source` after checking it; refuses while a bot holds `db`."""
    found = check_database(source)
    if not found.ok:
        raise OpsError(f"refusing to restore {source}: {found.summary}")
    if found.schema is None:
        raise OpsError(f"refusing to restore {source}: it is not a Paperboy database")
    if found.unknown_migrations:
        raise OpsError(
            f"refusing to restore {source}: it was made by a newer Paperboy"
            f" (schema {found.unknown_migrations[-1]}); upgrade first"
        )
    try:
        with (
            DatabaseLock(db),
            closing(sqlite3.connect(source)) as src,
            closing(sqlite3.connect(db)) as out,
        ):
            src.backup(out)
            result = check_connection(out)
    except DatabaseBusy as busy:
        raise OpsError(f"refusing to restore: {busy}; stop the bot first") from None
    except sqlite3.Error as exc:
        raise OpsError(f"restore failed: {exc}") from None
    return result
