"""When things happen: source polls, one job per feed at its own local time, and the make-up of a
run missed while the bot was down. APScheduler 3 (`AsyncIOScheduler`) on the bot's event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlite_utils
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.busy_retry import BUSY_RETRY_DELAY, retry_while_busy
from bot.config import Settings
from bot.delivery.engine import RunReport
from bot.dm_jobs import DmJobs, DmRunner
from bot.dm_settings import DmDefaults
from bot.feed_settings import cron_days
from bot.store import Store, StoreBusy
from bot.store import feeds as feeds_repo
from bot.store.database import Clock

log = logging.getLogger(__name__)

MISFIRE_GRACE = timedelta(hours=1)  # a run delayed by a busy loop or a quick restart still happens
MAKE_UP_LIMIT = timedelta(hours=24)  # older missed runs are skipped: the next one covers them
ARXIV_TZ = ZoneInfo("America/New_York")

Ingest = Callable[[str], Awaitable[object]]  # source name -> fetch it into the store
Prepare = Callable[[], Awaitable[None]]  # make the digests' shared matches ready
# How often the shared matches catch up with papers another process stored (a cron `paperboy
# ingest`): a digest due later finds its match made, not built while it waits.
PREPARE_EVERY = timedelta(minutes=5)


class FeedRunner(Protocol):
    """What runs a feed's digest (the delivery engine)."""

    async def run_feed(
        self, channel_id: int, *, scheduled_for: datetime | None = None
    ) -> RunReport: ...


def feed_trigger(schedule_time: str, timezone: str, days: str) -> CronTrigger:
    """The cron trigger of a schedule: HH:MM in its IANA timezone (DST-correct), daily, Mon–Fri
    or one day a week."""
    hour, minute = (int(part) for part in schedule_time.split(":"))
    return CronTrigger(
        hour=hour,
        minute=minute,
        day_of_week=cron_days(days),
        timezone=ZoneInfo(timezone),
    )


def arxiv_trigger(hours: str) -> OrTrigger:
    """When to fetch arXiv's listing: `hours` (US/Eastern, at :05) on announcement days.

    arXiv announces at 20:00 Eastern, Sunday to Thursday, and regenerates its RSS around
    midnight. An evening hour (>= 12) fires Sunday–Thursday, right after the announcement; a
    morning hour (< 12) fires Monday–Friday, after the RSS has caught up. Several fetches of
    one listing merge into the same papers, never duplicates.
    """
    triggers = []
    for hour in sorted({int(h) for h in hours.split(",") if h.strip()}):
        if not 0 <= hour <= 23:
            raise ValueError(f"arXiv fetch hour {hour} is not between 0 and 23")
        days = "sun,mon,tue,wed,thu" if hour >= 12 else "mon-fri"  # weeks start on Monday
        triggers.append(CronTrigger(day_of_week=days, hour=hour, minute=5, timezone=ARXIV_TZ))
    if not triggers:
        raise ValueError("PAPERBOY_ARXIV_FETCH_HOURS names no hour")
    return OrTrigger(triggers)


def latest_slot(trigger: BaseTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The trigger's last fire time in (now - within, now], or None."""
    latest = None
    moment = trigger.get_next_fire_time(None, now - within + timedelta(microseconds=1))
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return latest


class FeedScheduler:
    """Owns every timed job; `reschedule` applies a feed's stored schedule and pause state."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        engine: FeedRunner,
        *,
        clock: Clock,
        ingest: Ingest | None = None,
        dm_digests: DmRunner | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self._ingest = ingest
        self._prepare = prepare
        self.scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self._locks: dict[int, asyncio.Lock] = {}
        self.busy_retry_delay = BUSY_RETRY_DELAY  # a locked database: try again this much later
        self._tasks: set[asyncio.Task[object]] = set()
        self.dm_jobs: DmJobs | None = None
        if dm_digests is not None:  # one job per distinct DM schedule (see bot/dm_jobs.py)
            defaults = DmDefaults(settings.default_schedule, settings.default_timezone)
            self.dm_jobs = DmJobs(
                self.scheduler, store, defaults, dm_digests, clock=clock,
                trigger=lambda key: feed_trigger(*key),
                recent_slot=lambda trigger, now: latest_slot(trigger, now, MAKE_UP_LIMIT),
                grace=MISFIRE_GRACE,
            )  # fmt: skip

    # Lifecycle (the bot's Service protocol)

    async def start(self) -> None:
        """Build every job from SQLite, start ticking, and make up runs missed while down."""
        self._add_source_jobs()
        feeds = await self.store.run(feeds_repo.list_feeds)
        for feed in feeds:
            self._apply(feed.channel_id, feed)
        if self.dm_jobs is not None:
            await self.dm_jobs.sync()
        self.scheduler.start()
        for channel_id, slot in await self.missed_runs():
            log.info("Making up feed %s's run of %s, missed while offline", channel_id, slot)
            self._spawn(self._run_within_grace(channel_id, slot, due=self.clock()))
        if self.dm_jobs is not None:
            self._spawn(self.dm_jobs.make_up())

    async def stop(self) -> None:
        """Stop ticking and wait for nothing: runs in progress are resumed after a restart."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()

    async def settled(self) -> None:
        """Wait for every reschedule and make-up run started so far (e.g. before reading jobs)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    def _spawn(self, coro: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Jobs

    def _add_source_jobs(self) -> None:
        if self._prepare is not None:  # cheap when nothing changed: a counter read
            self.scheduler.add_job(
                self._prepare, IntervalTrigger(seconds=PREPARE_EVERY.total_seconds()),
                id="prepare", replace_existing=True, next_run_time=datetime.now(UTC),
            )  # fmt: skip
        if self._ingest is not None:
            self.scheduler.add_job(
                self._ingest_job, IntervalTrigger(minutes=self.settings.hf_poll_minutes),
                args=["hf"], id="ingest:hf", replace_existing=True, next_run_time=datetime.now(UTC),
            )  # fmt: skip
            self.scheduler.add_job(
                self._ingest_job, arxiv_trigger(self.settings.arxiv_fetch_hours),
                args=["arxiv"], id="ingest:arxiv", replace_existing=True,
            )  # fmt: skip

    async def _ingest_job(self, source: str) -> None:
        assert self._ingest is not None
        try:
            await self._ingest(source)
        except StoreBusy as exc:  # another process's write (a cron ingest, a backup): one line
            log.warning("Polling %s skipped: %s; the next poll fetches again", source, exc)

    def _job_id(self, channel_id: int) -> str:
        return f"feed:{channel_id}"

    def trigger_for(self, feed: feeds_repo.Feed) -> BaseTrigger:
        """When the feed's digest runs: its stored schedule (tests may fire a job sooner)."""
        return feed_trigger(feed.schedule_time, feed.timezone, feed.days)

    def _apply(self, channel_id: int, feed: feeds_repo.Feed | None) -> None:
        job_id = self._job_id(channel_id)
        if feed is None or not feed.active:
            if self.scheduler.get_job(job_id) is not None:
                self.scheduler.remove_job(job_id)
            return
        trigger = self.trigger_for(feed)
        self.scheduler.add_job(
            self._scheduled_run, trigger, args=[channel_id], id=job_id, replace_existing=True
        )

    def reschedule(self, channel_id: int) -> None:
        """Apply the feed's stored schedule and pause state now (create, replace or remove)."""
        # Stop the old job at once (pause takes effect even before the store answers), then
        # rebuild it from SQLite.
        job = self.scheduler.get_job(self._job_id(channel_id))
        if job is not None:
            job.remove()
        self._spawn(self.refresh(channel_id))

    async def refresh(self, channel_id: int) -> None:
        """Re-read one feed and (re)create or drop its job; `reschedule` without waiting."""
        feed = await self.store.run(feeds_repo.get_feed, channel_id)
        self._apply(channel_id, feed)

    def next_run(self, channel_id: int) -> datetime | None:
        """When the feed's digest runs next, or None if it is not scheduled."""
        job = self.scheduler.get_job(self._job_id(channel_id))
        if job is None:
            return None
        # From the trigger and the bot's clock (not APScheduler's wall clock): the same answer
        # in production, and a controllable one in tests.
        return job.trigger.get_next_fire_time(None, self.clock())

    async def run_feed_now(self, channel_id: int) -> RunReport:
        """Run the feed's digest now (`/feed post-now`): the same path as a scheduled run."""
        return await self._run(channel_id, scheduled_for=None)

    async def run_dm_digests_now(self) -> object:
        """Run every member's DM digest now, whatever their schedule; None if not wired."""
        if self.dm_jobs is None:
            return None
        return await self.dm_jobs.run_all_now()

    def dm_schedules_changed(self) -> None:
        """A member's DM schedule or pause changed: bring the DM jobs in step (not waiting)."""
        if self.dm_jobs is not None:
            self._spawn(self.dm_jobs.sync())

    async def _scheduled_run(self, channel_id: int) -> None:
        feed = await self.store.read(feeds_repo.get_feed, channel_id)
        if feed is None:
            return
        # APScheduler does not tell a job its scheduled time: find the slot that fired.
        slot = latest_slot(
            self.trigger_for(feed), self.clock(), MISFIRE_GRACE + timedelta(minutes=1)
        )
        await self._run_within_grace(channel_id, slot, due=slot or self.clock())

    async def _run_within_grace(
        self, channel_id: int, slot: datetime | None, *, due: datetime
    ) -> RunReport:
        # Another process holding the database past its busy timeout (an ingest from cron)
        # delays the digest rather than skipping it: the same grace APScheduler gives a late job.
        return await retry_while_busy(
            lambda: self._run(channel_id, scheduled_for=slot),
            what=f"Feed {channel_id}'s digest",
            due=due,
            grace=MISFIRE_GRACE,
            clock=self.clock,
            delay=self.busy_retry_delay,
        )

    async def _run(self, channel_id: int, *, scheduled_for: datetime | None) -> RunReport:
        # One run per feed at a time: a scheduled run and /feed post-now wait for each other.
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            report = await self.engine.run_feed(channel_id, scheduled_for=scheduled_for)
        log.info(
            "Feed %s: posted %d of %d matched (%d listed)%s",
            channel_id, report.posted, report.matched, report.listed,
            f"; {report.reason}" if report.reason else "",
        )  # fmt: skip
        return report

    async def missed_runs(self) -> list[tuple[int, datetime]]:
        """Active feeds whose latest slot (< 24 h ago) came after their last completed run."""
        now = self.clock()

        def find(db: sqlite_utils.Database) -> list[tuple[int, datetime]]:
            missed = []
            for feed in feeds_repo.list_feeds(db):
                if not feed.active:
                    continue
                slot = latest_slot(self.trigger_for(feed), now, MAKE_UP_LIMIT)
                if slot is None or slot <= datetime.fromisoformat(feed.created_at):
                    continue
                last = feeds_repo.last_run(db, feed.channel_id, finished=True)
                if last is None or last.started_at < slot:
                    missed.append((feed.channel_id, slot))
            return missed

        return await self.store.run(find)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("Job %s missed its %s run", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error(
                "Job %s failed", event.job_id,
                exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
            )  # fmt: skip
