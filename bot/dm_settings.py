"""Members' DM digest schedules: `/dm schedule`, `/dm pause`, `/dm resume` and `/dm status`, and
which members share which schedule (the scheduler runs one job per distinct schedule).

A member's schedule is their own (their user id is the only key), or the default schedule
(`PAPERBOY_DEFAULT_SCHEDULE` in the default timezone, every day) until they set one. Validation
is the same as `/feed schedule`'s, with the same one-line errors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import sqlite_utils

from bot.errors import UserError
from bot.feed_settings import FeedSettingError, parse_days, parse_time, parse_timezone
from bot.store import dm_runs
from bot.store import dm_schedules as repo
from bot.store.dm_runs import DmRun
from bot.store.dm_schedules import DmSchedule

ScheduleKey = tuple[str, str, str]  # (HH:MM, timezone, days)

# The choice labels /dm schedule offers (a DM digest goes out daily or on weekdays).
DM_DAYS = ("every day", "weekdays")


@dataclass(frozen=True, slots=True)
class DmDefaults:
    """The schedule of members who never set their own."""

    schedule_time: str
    timezone: str

    @property
    def schedule(self) -> DmSchedule:
        """The default schedule, as a member without one gets it."""
        return DmSchedule(self.schedule_time, self.timezone, "daily", personal=False)


def effective_schedule(db: sqlite_utils.Database, user_id: int, defaults: DmDefaults) -> DmSchedule:
    """The member's own schedule, else the default one."""
    return repo.get_schedule(db, user_id) or defaults.schedule


def set_dm_schedule(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    time_text: str,
    timezone_text: str,
    days: str,
    defaults: DmDefaults,
    now: datetime,
) -> DmSchedule:
    """Validate and store the member's DM time, timezone and days (a pause stays as it was);
    nothing is written when any of them is refused."""
    schedule_time, timezone = parse_time(time_text), parse_timezone(timezone_text)
    stored_days = parse_days(days)
    if stored_days not in ("daily", "weekdays"):
        raise FeedSettingError("Days must be `every day` or `weekdays` for a DM digest.")
    paused = effective_schedule(db, user_id, defaults).paused
    return repo.save_schedule(
        db, user_id, DmSchedule(schedule_time, timezone, stored_days, paused), now
    )


def set_dm_paused(
    db: sqlite_utils.Database, *, user_id: int, paused: bool, defaults: DmDefaults, now: datetime
) -> DmSchedule:
    """Pause or resume the member's DM digest (keeping its schedule)."""
    current = effective_schedule(db, user_id, defaults)
    if current.paused == paused:
        raise UserError(
            "Your DM digest is already paused." if paused else "Your DM digest is not paused."
        )
    return repo.save_schedule(db, user_id, replace(current, paused=paused), now)


@dataclass(frozen=True, slots=True)
class DmStatus:
    """Everything /dm status shows a member about their own DM digest."""

    schedule: DmSchedule
    subscriptions: int  # their dm:true subscriptions
    last_run: DmRun | None


def dm_status(db: sqlite_utils.Database, user_id: int, defaults: DmDefaults) -> DmStatus:
    """The member's schedule, how many DM subscriptions they have and their last DM digest."""
    return DmStatus(
        schedule=effective_schedule(db, user_id, defaults),
        subscriptions=repo.dm_subscription_count(db, user_id),
        last_run=dm_runs.last_dm_run(db, user_id),
    )


def schedule_groups(
    db: sqlite_utils.Database, defaults: DmDefaults
) -> dict[ScheduleKey, list[int]]:
    """Members with DM subscriptions and no pause, grouped by schedule; the default schedule is
    always present (possibly empty) so its job exists before anyone subscribes."""
    own = repo.all_schedules(db)
    groups: dict[ScheduleKey, list[int]] = defaultdict(list)
    groups[defaults.schedule.key] = []
    for user_id in repo.dm_members_since(db):
        schedule = own.get(user_id, defaults.schedule)
        if not schedule.paused:
            groups[schedule.key].append(user_id)
    return dict(groups)


def missed_dm_runs(
    db: sqlite_utils.Database,
    defaults: DmDefaults,
    slot_for: Callable[[ScheduleKey], datetime | None],
) -> dict[ScheduleKey, tuple[datetime, list[int]]]:
    """Per schedule with a recent slot (`slot_for`): that slot, and the members whose last
    completed DM run started before it and whose first DM subscription was made before it."""
    since = repo.dm_members_since(db)
    missed: dict[ScheduleKey, tuple[datetime, list[int]]] = {}
    for key, members in schedule_groups(db, defaults).items():
        slot = slot_for(key)
        if slot is None:
            continue
        late = []
        for user_id in members:
            last = dm_runs.last_dm_run(db, user_id)
            if since[user_id] < slot and (last is None or last.started_at < slot):
                late.append(user_id)
        if late:
            missed[key] = (slot, late)
    return missed
