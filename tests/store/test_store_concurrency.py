"""The store under concurrency, with real SQLite files: reads on a read-only pool that never waits
for the writer, `BEGIN IMMEDIATE` writes that wait for another process's lock (and say so in one
line when it outlasts the busy timeout), and migrations two processes can run at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bot.delivery.planner import plan_digest
from bot.query import parse
from bot.store import Store, StoreBusy
from bot.store import papers as papers_repo
from bot.store.migrations import MIGRATIONS
from bot.subscribing import FeedDefaults, dry_run_of, subscribe_channel
from tests.support import FakeClock, paper, subscribe

ROUNDS = 12  # fresh files two processes open at the same moment


def _count(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM source_status").fetchone()[0])


def _insert(db: sqlite_utils.Database, source: str) -> None:
    db.execute(
        "INSERT INTO source_status (source, last_ok_at) VALUES (?, '2026-11-26T09:00:00+00:00')",
        [source],
    )


@contextmanager
def held_write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's writer: holds the write lock (BEGIN IMMEDIATE) until the block ends."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_read_does_not_wait_for_a_write_in_progress(store: Store) -> None:
    started, release = threading.Event(), threading.Event()

    def long_write(db: sqlite_utils.Database) -> None:
        _insert(db, "hf")
        started.set()
        release.wait()  # the writer thread is busy, inside its transaction, until released

    writing = asyncio.create_task(store.write(long_write))
    await asyncio.to_thread(started.wait)
    try:
        # answered while the write is still open: the last committed state, not the row
        assert await store.read(_count) == 0
        assert not release.is_set() and not writing.done()
    finally:
        release.set()
    await writing
    assert await store.read(_count) == 1  # committed: the next read sees it


async def test_read_connections_cannot_write(store: Store) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await store.read(_insert, "hf")
    assert await store.read(_count) == 0
    await store.write(_insert, "hf")  # the writer still can
    assert await store.read(_count) == 1


async def test_reads_run_on_the_reader_threads_together(store: Store) -> None:
    barrier = threading.Barrier(3)

    def meet(db: sqlite_utils.Database) -> str:
        # three reads in flight at once: each would wait forever if reads were serialised
        barrier.wait()
        return threading.current_thread().name

    names = await asyncio.gather(*(store.read(meet) for _ in range(3)))
    assert len(set(names)) == 3 and all(n.startswith("paperboy-db-read") for n in names)


async def test_writes_are_durable_and_in_wal(store: Store) -> None:
    def pragmas(db: sqlite_utils.Database) -> tuple[str, int]:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        return str(mode), int(db.execute("PRAGMA synchronous").fetchone()[0])

    assert await store.write(pragmas) == ("wal", 2)  # 2 = FULL: the ledger survives power loss


async def test_a_write_waits_for_another_process_lock(store: Store) -> None:
    def read_then_write(db: sqlite_utils.Database) -> None:
        # a read first: in a DEFERRED transaction the later write could not wait for the lock
        _count(db)
        _insert(db, "arxiv")

    other = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    waiting = asyncio.create_task(store.write(read_then_write))
    await asyncio.sleep(0.2)  # let the write reach SQLite and start waiting for the lock
    assert not waiting.done()  # it cannot finish while the other process holds the lock
    other.execute(
        "INSERT INTO source_status (source, last_ok_at) VALUES ('hf', '2026-11-26T09:00:00+00:00')"
    )
    other.execute("COMMIT")
    other.close()
    await waiting  # went through once the lock was free, on top of the other's row
    assert await store.read(_count) == 2


async def test_a_lock_held_past_the_timeout_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "paperboy.db"
    async with await Store.open(path, busy_timeout=0.2) as store:
        with held_write_lock(path), pytest.raises(StoreBusy) as caught:
            await store.write(_insert, "hf")
        message = str(caught.value)
        assert "\n" not in message and "locked by another process" in message
        assert "PAPERBOY_DB_BUSY_TIMEOUT" in message and str(path) in message
        assert isinstance(caught.value, sqlite3.OperationalError)  # old handlers still see it
        await store.write(_insert, "hf")  # and once the lock is gone, writes go through
        assert await store.read(_count) == 1


def _open_fresh_files(directory: str, rounds: int, barrier: Any) -> None:
    """In a child process: open (creating and migrating) each round's file with the other."""
    for n in range(rounds):
        barrier.wait()  # both processes start on the same fresh file at the same moment

        async def open_and_close(path: Path) -> None:
            store = await Store.open(path, busy_timeout=30)
            await store.close()

        asyncio.run(open_and_close(Path(directory) / f"fresh-{n}.db"))


def test_two_processes_open_a_fresh_database_together(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # a clean interpreter, like a second command
    barrier = context.Barrier(2, timeout=60)
    children = [
        context.Process(target=_open_fresh_files, args=(str(tmp_path), ROUNDS, barrier))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=180)
    assert [c.exitcode for c in children] == [0, 0]
    expected = [m.name for m in MIGRATIONS._migrations]
    for n in range(ROUNDS):
        db = sqlite_utils.Database(tmp_path / f"fresh-{n}.db")
        # every migration applied exactly once, whichever process got there first
        assert [m.name for m in MIGRATIONS.applied(db)] == expected


async def test_dry_runs_and_previews_only_read(store: Store, clock: FakeClock) -> None:
    """Subscribing's dry run and /feed preview's plan run on read-only connections, where any
    write would fail: they must not write (nor wait for the writer)."""
    await subscribe(store, 500, "diffusion")
    await store.write(
        papers_repo.upsert_papers,
        [paper("2611.00001", "Diffusion models"), paper("2611.00002", "Optics")],
        clock() - timedelta(hours=2),
    )
    done = await store.write(
        subscribe_channel, guild_id=1, channel_id=500, user_id=7, query=parse("models"),
        text="models", defaults=FeedDefaults("09:00", "UTC"), now=clock(),
    )  # fmt: skip
    preview = await store.read(dry_run_of, done)
    assert (preview.matched, [p.id for p in preview.examples]) == (1, ["2611.00001"])
    plan = await store.read(plan_digest, 500, clock(), cap=25)
    assert plan is not None and [e.paper.id for e in plan.digest.entries] == ["2611.00001"]
