"""The operator commands behind `paperboy backup|restore|export|import|doctor`: each reads its
arguments, calls one ops function, prints one short report and returns the exit code."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.ops import dblock
from bot.ops.backup import OpsError, backup, restore
from bot.ops.transfer import describe_counts, export_file, import_file, read_export
from bot.store import Store

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"paperboy: {message}", file=sys.stderr)
    return code


def backup_command(settings: Settings, args: argparse.Namespace) -> int:
    """`paperboy backup FILE`: a checked, consistent copy of the database, safe while it runs."""
    try:
        result = backup(settings.db, Path(args.file))
    except OpsError as exc:
        return _fail(str(exc), EXIT_PROBLEM)
    print(f"Backed up {settings.db} to {args.file} ({result.summary}).")
    return EXIT_OK


def restore_command(settings: Settings, args: argparse.Namespace) -> int:
    """`paperboy restore FILE`: replace the database with a checked backup (bot stopped)."""
    try:
        result = restore(Path(args.file), settings.db)
    except OpsError as exc:
        return _fail(str(exc))
    print(f"Restored {settings.db} from {args.file} ({result.summary}).")
    return EXIT_OK


def export_command(settings: Settings, args: argparse.Namespace) -> int:
    """`paperboy export FILE [--guild ID]`: feeds and subscriptions as versioned JSON."""
    if not settings.db.is_file():
        return _fail(f"no database at {settings.db} (set PAPERBOY_DB)")

    async def go() -> dict[str, int]:
        async with await Store.open(settings.db, busy_timeout=settings.db_busy_timeout) as store:
            return await export_file(store, Path(args.file), args.guild)

    try:
        counts = asyncio.run(go())
    except OSError as exc:
        return _fail(f"cannot write {args.file}: {exc.strerror}")
    print(f"Exported {describe_counts(counts)} to {args.file}.")
    return EXIT_OK


def import_command(settings: Settings, args: argparse.Namespace) -> int:
    """`paperboy import FILE`: add what the database lacks; reports added and skipped."""
    path = Path(args.file)
    try:
        read_export(path)  # refuse a bad file before creating or touching the database
    except OpsError as exc:
        return _fail(str(exc))

    async def go() -> list[str]:
        async with await Store.open(settings.db, busy_timeout=settings.db_busy_timeout) as store:
            return (await import_file(store, path)).lines()

    for line in asyncio.run(go()):
        print(line)
    if dblock.holder(settings.db) is not None:
        print("The bot is running: restart it so the imported feeds are scheduled.")
    return EXIT_OK


def doctor_command(settings: Settings, args: argparse.Namespace) -> int:
    """`paperboy doctor`: check the token, servers, feeds' permissions, sources and database."""
    from bot.ops.doctor import run_doctor

    return asyncio.run(run_doctor(settings))
