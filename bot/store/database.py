"""The Store: the writer thread that owns the write connection, and a pool of read-only readers."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import sqlite_utils

from bot.store.connections import (
    DEFAULT_BUSY_TIMEOUT,
    StoreBusy,
    busy_error,
    enable_wal,
    is_busy,
    migrate,
    open_reader,
    open_writer,
    read_transaction,
    write_transaction,
)
from bot.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
Clock = Callable[[], datetime]
DEFAULT_READERS = 3  # read connections: commands and autocomplete rarely overlap more
__all__ = ["DEFAULT_BUSY_TIMEOUT", "Store", "StoreBusy", "StoreError", "utcnow"]


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
    """Async access to the Paperboy database: one writer thread, a small pool of readers.

    sqlite-utils is synchronous, so no database work runs on the event loop. Every write goes to
    one dedicated thread that owns the write connection (Datasette's `execute_write_fn`), each
    call one `BEGIN IMMEDIATE` transaction. Reads a person waits for (commands, autocomplete,
    search) go to `read`: a few threads with read-only connections which, thanks to WAL, see
    the last committed state and never queue behind a long write (Datasette's read
    connections). Callers pass plain functions taking the `sqlite_utils.Database`.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Clock = utcnow,
        check: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        readers: int = DEFAULT_READERS,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.busy_timeout = busy_timeout
        self._check = check
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperboy-db")
        self._readers = ThreadPoolExecutor(
            max_workers=max(1, readers), thread_name_prefix="paperboy-db-read"
        )
        # One connection per reader thread at most; a reader takes one and puts it back.
        self._idle: queue.SimpleQueue[sqlite_utils.Database] = queue.SimpleQueue()
        self._opened: list[sqlite_utils.Database] = []
        self._opened_lock = threading.Lock()
        self._db: sqlite_utils.Database | None = None
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        clock: Clock = utcnow,
        check: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        readers: int = DEFAULT_READERS,
    ) -> Store:
        """Open (creating if needed) and migrate the database file; with `check`, first run
        SQLite's integrity check. A file that cannot be used raises StoreError (one line); one
        another process keeps locked past `busy_timeout` seconds raises StoreBusy."""
        store = cls(path, clock=clock, check=check, busy_timeout=busy_timeout, readers=readers)
        try:
            await store._submit(store._connect)
        except BaseException:
            store._closed = True
            store._executor.shutdown(wait=True)
            store._readers.shutdown(wait=True)
            raise
        return store

    def _connect(self) -> None:
        conn: sqlite3.Connection | None = None
        deadline = time.monotonic() + self.busy_timeout
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = open_writer(self.path, self.busy_timeout)
            db = sqlite_utils.Database(conn)
            check_database(db, self.path, integrity=self._check)
            enable_wal(db, deadline)
            migrate(db)
        except (sqlite3.DatabaseError, OSError) as exc:
            if conn is not None:
                conn.close()
            if is_busy(exc):
                raise busy_error(self.path, self.busy_timeout) from None
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

    async def write(
        self,
        fn: Callable[Concatenate[sqlite_utils.Database, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(db, *args, **kwargs)` on the writer thread in one `BEGIN IMMEDIATE`
        transaction (committed durably); StoreBusy if another process holds the lock too long."""

        def work() -> T:
            db = self._require_db()
            try:
                return write_transaction(db.conn, lambda: fn(db, *args, **kwargs))
            except sqlite3.OperationalError as exc:
                if is_busy(exc) and not isinstance(exc, StoreBusy):
                    raise busy_error(self.path, self.busy_timeout) from exc
                raise

        return await self._submit(work)

    # The name every caller used before reads and writes were told apart: a write.
    run = write

    async def read(
        self,
        fn: Callable[Concatenate[sqlite_utils.Database, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(db, *args, **kwargs)` on a read-only connection, in one snapshot, without
        waiting for the writer; a write attempted through it raises `sqlite3.OperationalError`."""

        def work() -> T:
            db = self._take_reader()
            try:
                return read_transaction(db.conn, lambda: fn(db, *args, **kwargs))
            except sqlite3.OperationalError as exc:
                if is_busy(exc) and not isinstance(exc, StoreBusy):
                    raise busy_error(self.path, self.busy_timeout) from exc
                raise
            finally:
                self._idle.put(db)

        if self._closed or self._db is None:
            raise RuntimeError("the store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, work)

    def _take_reader(self) -> sqlite_utils.Database:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        # Never more connections than reader threads: each thread holds at most one at a time.
        db = sqlite_utils.Database(open_reader(self.path, self.busy_timeout))
        with self._opened_lock:
            self._opened.append(db)
        return db

    def _require_db(self) -> sqlite_utils.Database:
        if self._db is None:
            raise RuntimeError("the store is closed")
        return self._db

    async def close(self) -> None:
        """Close every connection and stop the database threads."""
        self._closed = True
        # Readers first (waiting for reads in flight), so the writer is the last to close and
        # SQLite can checkpoint and remove the WAL file.
        await asyncio.get_running_loop().run_in_executor(None, self._close_readers)
        if self._db is not None:

            def shut() -> None:
                assert self._db is not None
                self._db.conn.close()
                self._db = None

            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)

    def _close_readers(self) -> None:
        self._readers.shutdown(wait=True)
        with self._opened_lock:
            for db in self._opened:
                db.conn.close()
            self._opened.clear()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def now(self) -> datetime:
        """The store's clock (UTC)."""
        return self.clock()
