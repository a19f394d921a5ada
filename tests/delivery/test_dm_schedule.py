"""Members' own DM times in the scheduler: one job per distinct schedule, each job sending only
its members' DMs, pauses, and the make-up of a missed DM run (once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.delivery.dms import DmDigester
from bot.delivery.engine import DeliveryEngine
from bot.dm_settings import DmDefaults, set_dm_paused, set_dm_schedule
from bot.scheduler import FeedScheduler
from bot.store import Store
from bot.store import papers as papers_repo
from tests.delivery.support import RecordingPoster
from tests.support import FakeClock, paper, subscribe

ALICE, BOB, CAROL, DAVE = 42, 43, 44, 45
DEFAULTS = DmDefaults("09:00", "UTC")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


pytestmark = pytest.mark.now(utc(2026, 11, 26, 8, 30))  # Thursday; subscribed at 08:00


def make_scheduler(store: Store, clock: FakeClock, poster: RecordingPoster) -> FeedScheduler:
    settings = Settings(_env_file=None, digest_cap=25)  # type: ignore[call-arg]
    engine = DeliveryEngine(store, poster, settings, clock=clock)
    dms = DmDigester(store, poster, settings, clock=clock)
    return FeedScheduler(store, settings, engine, clock=clock, dm_digests=dms)


async def own_time(store: Store, clock: FakeClock, user: int, time: str, tz: str, days: str):
    return await store.run(
        set_dm_schedule, user_id=user, time_text=time, timezone_text=tz, days=days,
        defaults=DEFAULTS, now=clock.now,
    )  # fmt: skip


def dm_users(poster: RecordingPoster) -> list[int]:
    return [uid for uid, _ in poster.dms]


@pytest.fixture(autouse=True)
async def members(store: Store, clock: FakeClock) -> None:
    """Four members with a DM subscription to diffusion each (made at 08:00); one paper."""
    for user in (ALICE, BOB, CAROL, DAVE):
        await subscribe(store, 1, "diffusion", user=user, dm=True)
    await store.run(
        papers_repo.upsert_papers,
        [paper("2611.00001", "Diffusion")],
        clock.now - timedelta(hours=1),
    )


async def test_members_sharing_a_schedule_share_one_job(store, clock) -> None:
    await own_time(store, clock, ALICE, "07:30", "Europe/Berlin", "every day")
    await own_time(store, clock, BOB, "7:30", "europe/berlin", "every day")  # the same, spelled
    await own_time(store, clock, CAROL, "18:00", "Asia/Tokyo", "weekdays")
    scheduler = make_scheduler(store, clock, RecordingPoster())
    await scheduler.start()
    try:
        assert scheduler.dm_jobs is not None
        assert scheduler.dm_jobs.job_ids() == [
            "dm:07:30|Europe/Berlin|daily", "dm:09:00|UTC|daily", "dm:18:00|Asia/Tokyo|weekdays",
        ]  # fmt: skip
        job = scheduler.scheduler.get_job("dm:18:00|Asia/Tokyo|weekdays")
        assert job.trigger.get_next_fire_time(None, clock.now) == utc(2026, 11, 26, 9)
        # Carol pauses, then moves to Alice's time: her job goes, nothing new is added.
        await store.run(set_dm_paused, user_id=CAROL, paused=True, defaults=DEFAULTS, now=clock.now)
        scheduler.dm_schedules_changed()
        await scheduler.settled()
        assert "dm:18:00|Asia/Tokyo|weekdays" not in scheduler.dm_jobs.job_ids()
        await own_time(store, clock, CAROL, "07:30", "Europe/Berlin", "every day")
        scheduler.dm_schedules_changed()
        await scheduler.settled()
        assert scheduler.dm_jobs.job_ids() == ["dm:07:30|Europe/Berlin|daily", "dm:09:00|UTC|daily"]
    finally:
        await scheduler.stop()


async def test_a_job_sends_only_its_own_members_dms(store, clock) -> None:
    await own_time(store, clock, ALICE, "10:30", "Europe/Berlin", "every day")
    await store.run(set_dm_paused, user_id=DAVE, paused=True, defaults=DEFAULTS, now=clock.now)
    poster = RecordingPoster()
    scheduler = make_scheduler(store, clock, poster)
    await scheduler.start()
    try:
        await scheduler.settled()
        assert poster.dms == []  # nothing missed: the schedules lie ahead
        default = scheduler.scheduler.get_job("dm:09:00|UTC|daily")
        clock.now = utc(2026, 11, 26, 9)
        await default.func(*default.args)
        assert dm_users(poster) == [BOB, CAROL]  # Dave paused, Alice has her own time
        berlin = scheduler.scheduler.get_job("dm:10:30|Europe/Berlin|daily")
        clock.now = utc(2026, 11, 26, 9, 30)  # 10:30 in Berlin
        await berlin.func(*berlin.args)
        assert dm_users(poster) == [BOB, CAROL, ALICE]
        assert [spec.paper_ids for _, spec in poster.dms] == [("2611.00001",)] * 3
    finally:
        await scheduler.stop()


async def test_a_missed_dm_run_is_made_up_once_after_a_restart(store, clock) -> None:
    await own_time(store, clock, ALICE, "10:30", "Europe/Berlin", "weekdays")
    await store.run(set_dm_paused, user_id=BOB, paused=True, defaults=DEFAULTS, now=clock.now)
    clock.now = utc(2026, 11, 26, 10, 15)  # down over 09:00 UTC and Alice's 10:30 Berlin
    poster = RecordingPoster()
    first = make_scheduler(store, clock, poster)
    assert first.dm_jobs is not None
    assert await first.dm_jobs.missed() == {
        ("09:00", "UTC", "daily"): (utc(2026, 11, 26, 9), [CAROL, DAVE]),
        ("10:30", "Europe/Berlin", "weekdays"): (utc(2026, 11, 26, 9, 30), [ALICE]),
    }
    await first.start()
    await first.settled()
    await first.stop()
    assert sorted(dm_users(poster)) == [ALICE, CAROL, DAVE]  # Bob paused
    clock.advance(minutes=20)  # restart again: those runs happened; nothing twice
    second = make_scheduler(store, clock, poster)
    await second.start()
    await second.settled()
    await second.stop()
    assert sorted(dm_users(poster)) == [ALICE, CAROL, DAVE]
    # Saturday 10:00: Alice's last weekday slot (Friday) is over 24 h ago, not made up.
    clock.now = utc(2026, 11, 28, 10)
    later = make_scheduler(store, clock, poster)
    assert later.dm_jobs is not None
    assert await later.dm_jobs.missed() == {
        ("09:00", "UTC", "daily"): (utc(2026, 11, 28, 9), [CAROL, DAVE]),
    }
