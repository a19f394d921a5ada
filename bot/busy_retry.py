"""Scheduled work that meets a database locked by another process (`paperboy ingest` from cron, a
backup) tries again a little later, as long as the run would still be within its grace time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from bot.store import StoreBusy

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_RETRY_DELAY = 30.0  # seconds between tries: longer than any ingest's write holds the lock


async def retry_while_busy(
    work: Callable[[], Awaitable[T]],
    *,
    what: str,
    due: datetime,
    grace: timedelta,
    clock: Callable[[], datetime],
    delay: float = BUSY_RETRY_DELAY,
) -> T:
    """Run `work()`; on StoreBusy wait `delay` seconds and run it again while the next try would
    start within `grace` of `due`, then let the last StoreBusy through.

    Safe for a digest: every delivery is in the exactly-once ledger, so a run that failed part
    way resumes where it stopped.
    """
    tries = max(1, int(grace.total_seconds() // max(delay, 0.001)))
    for attempt in range(1, tries + 1):
        try:
            return await work()
        except StoreBusy as exc:
            later = clock() + timedelta(seconds=delay)
            if attempt == tries or later - due > grace:
                raise
            log.warning("%s: %s; trying again in %g s", what, exc, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises
