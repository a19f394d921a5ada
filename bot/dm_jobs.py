"""The scheduler's DM digest jobs: one APScheduler job per distinct DM schedule, and the
make-up of a DM run missed while the bot was down.

Members who share a time, timezone and days share a job, which looks its members up when it
fires (so a new `dm:true` subscriber on the default schedule needs no new job). Most members
keep the default, so the job count is the number of distinct schedules members chose, not the
number of members: 10,000 members on the default schedule are one job, not 10,000 triggers
APScheduler would wake for. DM runs never overlap: one lock serves every DM job, the make-up
and `run_all_now`, so a member is never planned twice at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.busy_retry import BUSY_RETRY_DELAY, retry_while_busy
from bot.dm_settings import DmDefaults, ScheduleKey, missed_dm_runs, schedule_groups
from bot.store import Store

log = logging.getLogger(__name__)

JOB_PREFIX = "dm:"


class DmRunner(Protocol):
    """What sends DM digests (`bot.delivery.dms.DmDigester`)."""

    async def run_all(self) -> object: ...

    async def run_users(
        self, user_ids: Sequence[int], *, timezone: str | None = None
    ) -> object: ...


def job_id(key: ScheduleKey) -> str:
    """The job of the members on schedule `key`, e.g. `dm:09:00|Europe/Paris|weekdays`."""
    return JOB_PREFIX + "|".join(key)


class DmJobs:
    """Keeps one job per DM schedule in `scheduler`, in step with SQLite (`sync`)."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        store: Store,
        defaults: DmDefaults,
        runner: DmRunner,
        *,
        trigger: Callable[[ScheduleKey], BaseTrigger],
        recent_slot: Callable[[BaseTrigger, datetime], datetime | None],
        clock: Callable[[], datetime],
        grace: timedelta = timedelta(hours=1),
    ) -> None:
        self.scheduler = scheduler
        self.grace = grace  # a locked database delays a DM run by at most this much
        self.busy_retry_delay = BUSY_RETRY_DELAY
        self.store = store
        self.defaults = defaults
        self.runner = runner
        self._trigger = trigger
        self._recent_slot = recent_slot  # the trigger's slot a make-up may still serve, or None
        self.clock = clock
        self._lock = asyncio.Lock()

    async def sync(self) -> None:
        """Create a job for every schedule some member is on; drop jobs nobody is on."""
        groups = await self.store.run(schedule_groups, self.defaults)
        wanted = {job_id(key): key for key in groups}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        for ident, key in wanted.items():
            if self.scheduler.get_job(ident) is None:
                self.scheduler.add_job(self._fire, self._trigger(key), args=[key], id=ident)

    def job_ids(self) -> list[str]:
        """The DM jobs scheduled now."""
        return sorted(j.id for j in self.scheduler.get_jobs() if j.id.startswith(JOB_PREFIX))

    async def _fire(self, key: ScheduleKey) -> None:
        # A database locked by another process past the busy timeout delays the run (within
        # its grace) instead of skipping the day: the ledger keeps every DM exactly once.
        await retry_while_busy(
            lambda: self._fire_once(key),
            what=f"DM digests of {job_id(key)}",
            due=self.clock(),
            grace=self.grace,
            clock=self.clock,
            delay=self.busy_retry_delay,
        )

    async def _fire_once(self, key: ScheduleKey) -> None:
        groups = await self.store.read(schedule_groups, self.defaults)
        members = groups.get(key, [])
        if members:
            await self.run(members, key)

    async def run(self, members: Sequence[int], key: ScheduleKey) -> object:
        """Run these members' DM digests (on schedule `key`), one DM run at a time."""
        async with self._lock:
            return await self.runner.run_users(members, timezone=key[1])

    async def run_all_now(self) -> object:
        """Every member's DM digest now, whatever their schedule (tests and operators)."""
        async with self._lock:
            return await self.runner.run_all()

    async def missed(self) -> dict[ScheduleKey, tuple[datetime, list[int]]]:
        """Per schedule: its recent slot and the members whose run of it is missing."""
        now = self.clock()

        def slot_for(key: ScheduleKey) -> datetime | None:
            return self._recent_slot(self._trigger(key), now)

        return await self.store.run(missed_dm_runs, self.defaults, slot_for)

    async def make_up(self) -> None:
        """Run, once, every DM digest missed while the bot was down (< 24 h ago)."""
        for key, (slot, members) in (await self.missed()).items():
            log.info(
                "Making up %d members' DM digest of %s, missed while offline", len(members), slot
            )
            await self.run(members, key)
