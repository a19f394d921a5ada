"""Opening SQLite connections the way the store uses them: one writer (WAL, durable commits,
`BEGIN IMMEDIATE`), read-only readers, migrations under an exclusive lock, and one exception
for a lock that outlasted the busy timeout."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlite_utils

from bot.store.migrations import MIGRATIONS

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a write waits for another process's write lock
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class StoreBusy(sqlite3.OperationalError):
    """Another process held the database's write lock for longer than the busy timeout.

    A subclass of `sqlite3.OperationalError` so handlers of database errors still see it;
    `str()` is one line naming the file and the setting to raise.
    """


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" (any extended code of either)."""
    if isinstance(exc, StoreBusy):
        return True
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def busy_error(path: Path, timeout: float) -> StoreBusy:
    """The one-line error for a lock that outlasted `timeout` seconds."""
    return StoreBusy(
        f"{path} is locked by another process (waited {timeout:g} s):"
        " try again, or raise PAPERBOY_DB_BUSY_TIMEOUT"
    )


def open_writer(path: Path, timeout: float) -> sqlite3.Connection:
    """The write connection: WAL, foreign keys, busy timeout, durable commits."""
    conn = sqlite3.connect(path, timeout=timeout)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # synchronous=FULL fsyncs the WAL at every commit. NORMAL would be enough for papers (a
    # power cut loses at most the last ingest, which the next poll fetches again), but the
    # delivery ledger promises at-most-once: `begin_attempt` must be on disk before the
    # message is sent, or a power cut forgets the attempt and the paper is posted twice
    # (issue 11). Every write is one batched transaction, so this costs one fsync per write,
    # and the ledger can never be written through a connection that skips it.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def open_reader(path: Path, timeout: float) -> sqlite3.Connection:
    """A read-only connection (`mode=ro`): any write through it fails at once."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    # check_same_thread off: the pool hands a connection to one reader thread at a time and the
    # store closes them all from its own thread at shutdown.
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    return conn


def write_transaction(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    """Run `fn` in one `BEGIN IMMEDIATE` transaction: the write lock is taken first, so the
    busy timeout applies (a DEFERRED transaction upgrading to a write fails at once instead)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn()
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if not conn.in_transaction:  # `fn` committed on its own (sqlite-utils' `with conn:`)
        return result
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def read_transaction(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    """Run `fn` in one read transaction: every query it makes sees the same snapshot."""
    conn.execute("BEGIN")
    try:
        return fn()
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def enable_wal(db: sqlite_utils.Database, deadline: float) -> None:
    """Switch the file to WAL, retrying while another process is doing the same.

    Changing the journal mode needs an exclusive lock and SQLite does not always wait for it
    with the busy handler (a fresh file two processes create at once), so retry until
    `deadline` (a `time.monotonic()` value).
    """
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations under an exclusive lock, re-checking what is pending inside it,
    so two processes opening a fresh file together apply each migration exactly once."""
    if not MIGRATIONS.pending(db):
        return  # the common case: nothing to do, and no lock taken
    db.conn.execute("BEGIN EXCLUSIVE")  # waits (busy timeout) for another migrating process
    try:
        # sqlite-utils' atomic() blocks inside become savepoints of this one transaction;
        # `apply` reads the applied list again now that nobody else can change it
        MIGRATIONS.apply(db)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    if db.conn.in_transaction:
        db.conn.execute("COMMIT")
