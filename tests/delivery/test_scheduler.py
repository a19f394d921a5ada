"""The scheduler: DST-correct feed times, weekdays, pause, make-up after downtime, no overlap."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from bot.config import Settings
from bot.delivery.dms import DmDigester
from bot.delivery.engine import DeliveryEngine, RunReport
from bot.dm_settings import DmDefaults, set_dm_schedule
from bot.scheduler import PREPARE_EVERY, FeedScheduler, arxiv_trigger, feed_trigger, latest_slot
from bot.store import Store, StoreBusy
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from tests.delivery.support import RecordingPoster
from tests.support import FakeClock, eventually, make_feed, paper, subscribe

CHANNEL = 500


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# 10:30 in Berlin: today's 09:00 slot has passed.
pytestmark = pytest.mark.now(utc(2026, 11, 26, 9, 30))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Autumn: CEST (UTC+2) until 25 Oct 2026 03:00, then CET (UTC+1).
        (utc(2026, 10, 23, 12), utc(2026, 10, 24, 7)),
        (utc(2026, 10, 24, 12), utc(2026, 10, 25, 8)),
        # Spring: CET until 29 Mar 2026 02:00, then CEST.
        (utc(2026, 3, 28, 12), utc(2026, 3, 29, 7)),
        (utc(2026, 3, 27, 12), utc(2026, 3, 28, 8)),
    ],
)
def test_berlin_nine_oclock_fires_at_the_right_instant_across_dst(now, expected) -> None:
    trigger = feed_trigger("09:00", "Europe/Berlin", "daily")
    assert trigger.get_next_fire_time(None, now) == expected


def test_weekdays_only_skips_the_weekend() -> None:
    trigger = feed_trigger("09:00", "Europe/Berlin", "weekdays")
    friday_after = utc(2026, 11, 27, 10)
    assert trigger.get_next_fire_time(None, friday_after) == utc(2026, 11, 30, 8)  # Monday
    daily = feed_trigger("09:00", "Europe/Berlin", "daily")
    assert daily.get_next_fire_time(None, friday_after) == utc(2026, 11, 28, 8)  # Saturday


def test_latest_slot_looks_back_only_as_far_as_asked() -> None:
    trigger = feed_trigger("09:00", "UTC", "weekdays")
    monday_morning = utc(2026, 11, 30, 8)
    assert latest_slot(trigger, monday_morning, timedelta(days=4)) == utc(2026, 11, 27, 9)
    assert latest_slot(trigger, monday_morning, timedelta(hours=24)) is None


@pytest.fixture(autouse=True)
async def feed(store: Store) -> None:
    """Every test here schedules one feed (09:00 Berlin, daily), in channel CHANNEL."""
    await make_feed(store, CHANNEL, created=utc(2026, 11, 1))


@pytest.fixture
def apscheduler_time(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """APScheduler reads `clock` instead of the wall clock: it takes no clock of its own, and
    asks `datetime.now` only in these two modules (pinned APScheduler 3.11)."""
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    class ClockTime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return clock().astimezone(tz)

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", ClockTime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", ClockTime)
    return clock


def make_scheduler(store: Store, clock: FakeClock, poster: RecordingPoster) -> FeedScheduler:
    settings = Settings()
    engine = DeliveryEngine(store, poster, settings, clock=clock)
    return FeedScheduler(store, settings, engine, clock=clock)


async def settle(scheduler: FeedScheduler) -> None:
    await scheduler.settled()


async def test_jobs_follow_the_stored_schedule_and_pause(store, clock) -> None:
    scheduler = make_scheduler(store, clock, RecordingPoster())
    await scheduler.start()
    try:
        await settle(scheduler)
        assert scheduler.next_run(CHANNEL) == utc(2026, 11, 27, 8)
        await store.run(feeds_repo.update_feed, CHANNEL, schedule_time="18:30", timezone="UTC")
        scheduler.reschedule(CHANNEL)
        await settle(scheduler)
        assert scheduler.next_run(CHANNEL) == utc(2026, 11, 26, 18, 30)
        await store.run(feeds_repo.update_feed, CHANNEL, paused=True)
        scheduler.reschedule(CHANNEL)
        assert scheduler.next_run(CHANNEL) is None  # at once, before the store even answers
        await settle(scheduler)
        assert scheduler.next_run(CHANNEL) is None
        await store.run(feeds_repo.update_feed, CHANNEL, paused=False)
        scheduler.reschedule(CHANNEL)
        await settle(scheduler)
        assert scheduler.next_run(CHANNEL) == utc(2026, 11, 26, 18, 30)
    finally:
        await scheduler.stop()


async def test_a_missed_run_is_made_up_once_after_a_restart(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await store.run(
        papers_repo.upsert_papers, [paper("2611.00001", "Diffusion")], utc(2026, 11, 26, 6)
    )
    poster = RecordingPoster()
    first = make_scheduler(store, clock, poster)
    await first.start()
    await settle(first)
    await first.stop()
    assert [m.spec.paper_ids for m in poster.sent if m.spec.paper_ids] == [("2611.00001",)]
    run = await store.run(feeds_repo.last_run, CHANNEL, finished=True)
    assert run is not None and run.scheduled_for == utc(2026, 11, 26, 8)
    # Restart an hour later: the 09:00 run already happened, nothing is made up again.
    clock.advance(hours=1)
    second = make_scheduler(store, clock, poster)
    assert await second.missed_runs() == []
    await second.start()
    await settle(second)
    await second.stop()
    assert len(poster.sent) == 2  # one header, one paper: nothing twice


async def test_nothing_to_make_up_when_the_last_slot_is_over_a_day_ago(store, clock) -> None:
    await store.run(feeds_repo.update_feed, CHANNEL, days="weekdays")
    clock.now = utc(2026, 11, 29, 10)  # Sunday; Friday's slot was 49 h ago
    assert await make_scheduler(store, clock, RecordingPoster()).missed_runs() == []
    clock.now = utc(2026, 11, 30, 8, 30)  # Monday after 09:00 Berlin
    assert await make_scheduler(store, clock, RecordingPoster()).missed_runs() == [
        (CHANNEL, utc(2026, 11, 30, 8))
    ]


async def test_post_now_and_a_scheduled_run_never_overlap_for_one_feed(store, clock) -> None:
    active = 0
    most = 0

    class SlowEngine:
        async def run_feed(self, channel_id, *, scheduled_for=None) -> RunReport:
            nonlocal active, most
            active += 1
            most = max(most, active)
            await asyncio.sleep(0.01)
            active -= 1
            return RunReport(0, 0, 0, "nothing")

    scheduler = FeedScheduler(store, Settings(), SlowEngine(), clock=clock)  # type: ignore[arg-type]
    await scheduler.refresh(CHANNEL)  # builds the feed's job, as `start` does
    job = scheduler.scheduler.get_job(f"feed:{CHANNEL}")
    # Post-now and what the feed's job runs when it fires, at once.
    await asyncio.gather(scheduler.run_feed_now(CHANNEL), job.func(*job.args))
    assert most == 1


async def test_a_started_scheduler_really_fires_the_feed_job_once(store, apscheduler_time) -> None:
    clock = apscheduler_time
    fire_at = clock.now + timedelta(seconds=2)
    calls: list[tuple[int, datetime | None]] = []
    fired = asyncio.Event()

    class RecordingEngine:
        async def run_feed(self, channel_id, *, scheduled_for=None) -> RunReport:
            calls.append((channel_id, scheduled_for))
            fired.set()
            return RunReport(0, 0, 0, "nothing")

    class Soon(FeedScheduler):  # the feed's slot is two seconds away instead of 09:00 Berlin
        def trigger_for(self, feed: feeds_repo.Feed) -> BaseTrigger:
            return DateTrigger(run_date=fire_at)

    scheduler = Soon(store, Settings(), RecordingEngine(), clock=clock)  # type: ignore[arg-type]
    await scheduler.start()
    try:
        assert calls == []  # nothing to make up: the job has not fired yet
        job = scheduler.scheduler.get_job(f"feed:{CHANNEL}")
        assert job is not None and job.next_run_time == fire_at
        clock.now = fire_at
        scheduler.scheduler.wakeup()  # what APScheduler's own timer does at `fire_at`
        await asyncio.wait_for(fired.wait(), timeout=20)
        await settle(scheduler)
        assert calls == [(CHANNEL, fire_at)]
        assert scheduler.scheduler.get_job(f"feed:{CHANNEL}") is None  # it has no later slot
    finally:
        await scheduler.stop()


def test_arxiv_is_fetched_after_each_announcement_and_after_the_rss_regenerates() -> None:
    eastern = ZoneInfo("America/New_York")
    trigger = arxiv_trigger("20,1,4")
    fires = []
    moment = datetime(2026, 11, 22, 0, 0, tzinfo=eastern)  # Sunday 00:00
    while True:
        moment = trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
        if moment >= datetime(2026, 11, 29, 0, 0, tzinfo=eastern):
            break
        fires.append(moment.astimezone(eastern).strftime("%a %H:%M"))
    assert fires == [
        "Sun 20:05",
        "Mon 01:05", "Mon 04:05", "Mon 20:05",
        "Tue 01:05", "Tue 04:05", "Tue 20:05",
        "Wed 01:05", "Wed 04:05", "Wed 20:05",
        "Thu 01:05", "Thu 04:05", "Thu 20:05",
        "Fri 01:05", "Fri 04:05",  # Thursday's announcement, once the RSS has it
    ]  # fmt: skip
    with pytest.raises(ValueError):
        arxiv_trigger("25")


# Weekly feeds


def test_weekly_fires_once_a_week_on_its_day_across_dst() -> None:
    trigger = feed_trigger("09:00", "Europe/Berlin", "weekly:mon")
    fires = []
    moment = utc(2026, 10, 14, 12)  # a Wednesday; Berlin leaves summer time on 25 Oct
    for _ in range(3):
        moment = trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
        fires.append(moment)
    assert fires == [utc(2026, 10, 19, 7), utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)]
    friday = feed_trigger("18:30", "UTC", "weekly:fri")
    assert friday.get_next_fire_time(None, utc(2026, 11, 26, 9)) == utc(2026, 11, 27, 18, 30)


async def test_a_weekly_feed_job_and_next_run_follow_its_weekday(store, clock) -> None:
    await store.run(feeds_repo.update_feed, CHANNEL, days="weekly:tue")
    scheduler = make_scheduler(store, clock, RecordingPoster())
    await scheduler.start()
    try:
        await settle(scheduler)
        assert scheduler.next_run(CHANNEL) == utc(2026, 12, 1, 8)  # next Tuesday, 09:00 Berlin
    finally:
        await scheduler.stop()


async def test_a_missed_weekly_run_is_made_up_once_and_covers_the_week(store, clock) -> None:
    """Down over Monday's 09:00 (Berlin) slot, back at 11:30: the week's digest goes out once,
    with papers from six days ago that a daily feed's 3-day window would have dropped."""
    await store.run(feeds_repo.update_feed, CHANNEL, days="weekly:mon")
    await subscribe(store, CHANNEL, "diffusion")
    last_week = utc(2026, 11, 23, 8)  # the previous Monday's digest
    run = await store.run(
        feeds_repo.start_run, channel_id=CHANNEL, window_start=last_week, now=last_week
    )
    await store.run(
        feeds_repo.finish_run, run.id, now=last_week, listed=0, matched=0, posted=0, reason=None
    )
    await store.run(
        papers_repo.upsert_papers, [paper("2611.00001", "Diffusion early")], utc(2026, 11, 24, 6)
    )
    await store.run(
        papers_repo.upsert_papers, [paper("2611.00002", "Diffusion late")], utc(2026, 11, 29, 6)
    )
    clock.now = utc(2026, 11, 30, 10, 30)
    poster = RecordingPoster()
    scheduler = make_scheduler(store, clock, poster)
    assert await scheduler.missed_runs() == [(CHANNEL, utc(2026, 11, 30, 8))]
    await scheduler.start()
    await settle(scheduler)
    await scheduler.stop()
    posted = sorted(pid for m in poster.sent for pid in m.spec.paper_ids)
    assert posted == ["2611.00001", "2611.00002"]
    clock.advance(hours=1)  # a second restart: the week's run happened, nothing twice
    again = make_scheduler(store, clock, poster)
    assert await again.missed_runs() == []
    # Tuesday: no slot in the last 24 hours for a Monday feed, nothing to make up.
    clock.now = utc(2026, 12, 1, 12)
    assert await make_scheduler(store, clock, RecordingPoster()).missed_runs() == []


async def test_a_started_scheduler_really_fires_a_members_own_dm_time(
    store, apscheduler_time
) -> None:
    """APScheduler itself (on the controllable clock) fires the job of Alice's own DM time."""
    clock = apscheduler_time
    alice = 42
    await subscribe(store, CHANNEL, "diffusion", user=alice, dm=True)
    await store.run(
        papers_repo.upsert_papers,
        [paper("2611.00001", "Diffusion")],
        clock.now - timedelta(hours=1),
    )
    await store.run(
        set_dm_schedule, user_id=alice, time_text="09:31", timezone_text="UTC", days="daily",
        defaults=DmDefaults("09:00", "UTC"), now=clock.now,
    )  # fmt: skip
    poster = RecordingPoster()
    settings = Settings()
    engine = DeliveryEngine(store, poster, settings, clock=clock)
    dms = DmDigester(store, poster, settings, clock=clock)
    scheduler = FeedScheduler(store, settings, engine, clock=clock, dm_digests=dms)
    await scheduler.start()
    try:
        await settle(scheduler)
        assert poster.dms == []  # 09:31 is a minute ahead; yesterday's predates her subscription
        job = scheduler.scheduler.get_job("dm:09:31|UTC|daily")
        assert job is not None and job.next_run_time == utc(2026, 11, 26, 9, 31)
        clock.now = utc(2026, 11, 26, 9, 31)
        scheduler.scheduler.wakeup()  # what APScheduler's own timer does at 09:31
        await eventually(lambda: len(poster.dms) == 1, "Alice's DM at her own time")
        ((user, spec),) = poster.dms
        assert user == alice and spec.paper_ids == ("2611.00001",)
    finally:
        await scheduler.stop()


async def _locked_feed(tmp_path: Path, clock: FakeClock) -> Store:
    """A store whose writes give up after 0.1 s, holding the feed, its subscription and a paper."""
    locked = await Store.open(tmp_path / "locked.db", clock=clock, busy_timeout=0.1)
    await make_feed(locked, CHANNEL, created=utc(2026, 11, 1))
    await subscribe(locked, CHANNEL, "diffusion")
    await locked.run(
        papers_repo.upsert_papers, [paper("2611.00001", "Diffusion")], utc(2026, 11, 26, 6)
    )
    return locked


async def test_a_digest_meeting_a_locked_database_runs_again_within_its_grace(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    locked = await _locked_feed(tmp_path, clock)
    poster = RecordingPoster()
    scheduler = make_scheduler(locked, clock, poster)
    scheduler.busy_retry_delay = 0.05
    await scheduler.refresh(CHANNEL)
    job = scheduler.scheduler.get_job(f"feed:{CHANNEL}")
    other = sqlite3.connect(locked.path, isolation_level=None)  # e.g. `paperboy ingest` by cron
    other.execute("BEGIN IMMEDIATE")
    try:
        running = asyncio.create_task(job.func(*job.args))
        await eventually(lambda: "trying again" in caplog.text, "the digest to meet the lock")
        assert poster.sent == []
    finally:
        other.execute("ROLLBACK")
        other.close()
    await running
    assert [m.spec.paper_ids for m in poster.sent if m.spec.paper_ids] == [("2611.00001",)]
    await locked.close()


async def test_a_lock_outlasting_the_grace_fails_the_job(tmp_path: Path, clock: FakeClock) -> None:
    locked = await _locked_feed(tmp_path, clock)
    clock.now = utc(2026, 11, 26, 8, 59, 50)  # today's 09:00 Berlin slot is almost an hour old
    scheduler = make_scheduler(locked, clock, RecordingPoster())
    await scheduler.refresh(CHANNEL)
    job = scheduler.scheduler.get_job(f"feed:{CHANNEL}")
    other = sqlite3.connect(locked.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy):  # logged by the job-error listener, retried tomorrow
            await job.func(*job.args)
    finally:
        other.execute("ROLLBACK")
        other.close()
        await locked.close()


async def test_dm_digests_meeting_a_locked_database_run_again(store, clock) -> None:
    alice = 42
    await subscribe(store, CHANNEL, "diffusion", user=alice, dm=True)
    runs: list[list[int]] = []

    class LockedOnce:
        """Meets another process's lock on its first run (as DmDigester would: StoreBusy)."""

        async def run_users(self, user_ids, *, timezone=None) -> None:  # type: ignore[no-untyped-def]
            runs.append(list(user_ids))
            if len(runs) == 1:
                raise StoreBusy("paperboy.db is locked by another process")

        async def run_all(self) -> None:
            raise AssertionError("not asked")

    settings = Settings()
    engine = DeliveryEngine(store, RecordingPoster(), settings, clock=clock)
    scheduler = FeedScheduler(store, settings, engine, clock=clock, dm_digests=LockedOnce())
    assert scheduler.dm_jobs is not None
    scheduler.dm_jobs.busy_retry_delay = 0.01
    await scheduler.dm_jobs.sync()
    (ident,) = scheduler.dm_jobs.job_ids()
    job = scheduler.scheduler.get_job(ident)
    await job.func(*job.args)
    assert runs == [[alice], [alice]]


async def test_a_poll_meeting_a_locked_database_is_one_log_line(
    store, clock, caplog: pytest.LogCaptureFixture
) -> None:
    async def locked_ingest(source: str) -> None:
        raise StoreBusy("paperboy.db is locked by another process (waited 10 s)")

    engine = DeliveryEngine(store, RecordingPoster(), Settings(), clock=clock)
    scheduler = FeedScheduler(store, Settings(), engine, clock=clock, ingest=locked_ingest)
    await scheduler._ingest_job("hf")  # what the poll job runs: no exception for APScheduler
    (line,) = [r for r in caplog.records if r.name == "bot.scheduler"]
    assert line.getMessage() == (
        "Polling hf skipped: paperboy.db is locked by another process (waited 10 s);"
        " the next poll fetches again"
    )
    assert line.exc_info is None


async def test_the_shared_matches_are_prepared_at_start_and_then_every_few_minutes(
    store, clock
) -> None:
    """Papers a cron `paperboy ingest` stores are matched within minutes, not at the slot."""
    settings = Settings()
    engine = DeliveryEngine(store, RecordingPoster(), settings, clock=clock)
    prepared = asyncio.Event()

    async def prepare() -> None:
        await engine.prepare()
        prepared.set()

    scheduler = FeedScheduler(store, settings, engine, clock=clock, prepare=prepare)
    await scheduler.start()
    try:
        await asyncio.wait_for(prepared.wait(), timeout=10)
        assert engine.match_cache.builds == 1
        job = scheduler.scheduler.get_job("prepare")
        assert job is not None and job.trigger.interval == PREPARE_EVERY
    finally:
        await scheduler.stop()
