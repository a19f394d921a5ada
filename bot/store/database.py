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


class Store:
    """Async access to the Paperboy database.

    sqlite-utils is synchronous and the connection may only be used by the thread that made it,
    so every piece of database work is sent to one dedicated thread (never the event loop, never
    the shared default pool). Callers pass plain functions taking the `sqlite_utils.Database`.
    """

    def __init__(self, path: Path | str, *, clock: Clock = utcnow) -> None:
        self.path = Path(path)
        self.clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperboy-db")
        self._db: sqlite_utils.Database | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str, *, clock: Clock = utcnow) -> Store:
        """Open (creating if needed) and migrate the database file."""
        store = cls(path, clock=clock)
        await store._submit(store._connect)
        return store

    def _connect(self) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        MIGRATIONS.apply(db)
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
