"""The SQLite connection and the one thread that owns it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import sqlite_utils

from bot.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time in UTC (the default clock; tests pass their own)."""
    return datetime.now(UTC)


class StoreError(Exception):
    """The database file cannot be used as it is; `str()` is one line naming the file."""


def check_database(db: sqlite_utils.Database, path: Path, *, integrity: bool) -> None:
    """Refuse a file that is not sound or that a newer Paperboy wrote (StoreError)."""
    if integrity:
        # quick_check reads every page once (no index cross-check): seconds even for a big file
        problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            first = " ".join(problems[0].split())  # SQLite's report spans lines
            first = first if len(first) <= 160 else first[:159] + "…"
            raise StoreError(
                f"{path} failed its integrity check ({first}; {len(problems)} problem(s)):"
                " restore a backup"
            )
    known = {m.name for m in MIGRATIONS._migrations}
    newer = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if newer:
        raise StoreError(
            f"{path} was written by a newer Paperboy (schema {newer[-1]}):"
            " upgrade Paperboy, or point PAPERBOY_DB at another file"
        )


class Store:
    """Async access to the Paperboy database.

    sqlite-utils is synchronous and the connection may only be used by the thread that made it,
    so every piece of database work is sent to one dedicated thread (never the event loop, never
    the shared default pool). Callers pass plain functions taking the `sqlite_utils.Database`.
    """

    def __init__(self, path: Path | str, *, clock: Clock = utcnow, check: bool = False) -> None:
        self.path = Path(path)
        self.clock = clock
        self._check = check
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperboy-db")
        self._db: sqlite_utils.Database | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str, *, clock: Clock = utcnow, check: bool = False) -> Store:
        """Open (creating if needed) and migrate the database file; with `check`, first run
        SQLite's integrity check. A file that cannot be used raises StoreError (one line)."""
        store = cls(path, clock=clock, check=check)
        try:
            await store._submit(store._connect)
        except BaseException:
            store._closed = True
            store._executor.shutdown(wait=True)
            raise
        return store

    def _connect(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            db = sqlite_utils.Database(conn)
            check_database(db, self.path, integrity=self._check)
            db.enable_wal()
            MIGRATIONS.apply(db)
        except (sqlite3.DatabaseError, OSError) as exc:
            if conn is not None:
                conn.close()
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(
                f"{self.path} cannot be used as Paperboy's database: {reason}"
            ) from None
        except StoreError:
            if conn is not None:
                conn.close()
            raise
        self._db = db
        log.debug("database %s ready", self.path)

    async def _submit(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    async def run(
        self,
        fn: Callable[Concatenate[sqlite_utils.Database, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(db, *args, **kwargs)` on the database thread, inside one transaction."""

        def work() -> T:
            db = self._require_db()
            with db.atomic():
                return fn(db, *args, **kwargs)

        return await self._submit(work)

    def _require_db(self) -> sqlite_utils.Database:
        if self._db is None:
            raise RuntimeError("the store is closed")
        return self._db

    async def close(self) -> None:
        """Close the connection and stop the database thread."""
        if self._db is not None:

            def shut() -> None:
                assert self._db is not None
                self._db.conn.close()
                self._db = None

            await self._submit(shut)
        self._closed = True
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def now(self) -> datetime:
        """The store's clock (UTC)."""
        return self.clock()
