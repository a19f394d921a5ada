"""Who holds the database: a running bot keeps an exclusive `flock` on `<db>.lock` for its
whole life, so `paperboy restore` (and a second bot) can tell reliably that it is in use.

`flock` locks belong to the open file and vanish when the process dies, even by SIGKILL, so a
crashed bot never leaves a stale lock behind; the pid written into the file is only for the
message shown to the operator.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class DatabaseBusy(Exception):
    """Another process holds the database's lock."""

    def __init__(self, db: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"{db} is in use by a running Paperboy ({who})")
        self.pid = pid


def lock_path(db: Path) -> Path:
    """The lock file beside the database."""
    return db.with_name(db.name + ".lock")


class DatabaseLock:
    """An exclusive, non-blocking lock on a database; `acquire` raises `DatabaseBusy`."""

    def __init__(self, db: Path) -> None:
        self.db = Path(db)
        self.path = lock_path(self.db)
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        """Take the lock now or raise `DatabaseBusy` naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise DatabaseBusy(self.db, holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race with the next holder)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def holder(db: Path) -> int | None:
    """The pid of the process holding `db`'s lock, 0 if unknown, None when nobody holds it."""
    if not lock_path(db).exists():
        return None  # no bot has ever run on it
    try:
        with DatabaseLock(db):
            return None
    except DatabaseBusy as busy:
        return busy.pid or 0


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
