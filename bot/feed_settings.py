"""Validating a schedule's settings (time of day, timezone, days, weekday) with one-line errors.

Feeds and members' DM digests share these. `days` is stored as `daily`, `weekdays` or, for a
weekly digest, `weekly:<day>` (`weekly:mon` … `weekly:sun`): one value says on which days the
schedule fires, so everything that reads a schedule reads one column.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.errors import UserError

# The choice labels /feed schedule offers, and the value each is stored as.
DAYS: dict[str, str] = {"every day": "daily", "weekdays": "weekdays", "weekly": "weekly"}
DAYS_LABEL: dict[str, str] = {value: label for label, value in DAYS.items()}
# /feed schedule's weekday choices, and the cron day each is stored as (weeks start on Monday).
WEEKDAYS: dict[str, str] = {
    "Monday": "mon",
    "Tuesday": "tue",
    "Wednesday": "wed",
    "Thursday": "thu",
    "Friday": "fri",
    "Saturday": "sat",
    "Sunday": "sun",
}
WEEKDAY_NAME: dict[str, str] = {short: name for name, short in WEEKDAYS.items()}
WEEKLY_PREFIX = "weekly:"

MAX_CHOICES = 25  # Discord's autocomplete limit

# Offered before anything is typed: zones most servers will want.
POPULAR_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
)

_TIME = re.compile(r"^\s*(\d{1,2})\s*[:.h]\s*(\d{2})\s*$")


class FeedSettingError(UserError):
    """A schedule setting that can't be used; the message says what to type instead."""


def parse_time(text: str) -> str:
    """`9:05`, `09:05` or `21.30` as a canonical `HH:MM` (24-hour clock)."""
    match = _TIME.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    shown = text.strip()[:20] or "(empty)"
    raise FeedSettingError(f"`{shown}` is not a time: use HH:MM on a 24-hour clock, e.g. 09:00.")


@cache
def _zones() -> dict[str, str]:
    """Every IANA zone name keyed by its lower-case spelling."""
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(name: str) -> str:
    """The canonical IANA spelling of `name` (case-insensitive, spaces for underscores)."""
    key = name.strip().replace(" ", "_").lower()
    found = _zones().get(key)
    if found is not None:
        return found
    shown = name.strip()[:40] or "(empty)"
    suggestions = timezone_choices(name)[:2]
    hint = f"did you mean {' or '.join(suggestions)}?" if suggestions else "e.g. Europe/Paris."
    raise FeedSettingError(
        f"`{shown}` is not a timezone: pick one from the list (IANA names), {hint}"
    )


def timezone_choices(typed: str, limit: int = MAX_CHOICES) -> list[str]:
    """Zone names for autocomplete: exact, then prefix, then city prefix, then substring matches."""
    needle = typed.strip().replace(" ", "_").lower()
    if not needle:
        return list(POPULAR_TIMEZONES[:limit])
    ranked: list[tuple[int, str]] = []
    for key, name in _zones().items():
        city = key.rsplit("/", 1)[-1]
        if key == needle:
            rank = 0
        elif key.startswith(needle):
            rank = 1
        elif city.startswith(needle):
            rank = 2
        elif needle in key:
            rank = 3
        else:
            continue
        ranked.append((rank, name))
    # Within a rank, the popular zones first, then shorter (less obscure) names.
    popular = {n: i for i, n in enumerate(POPULAR_TIMEZONES)}
    ranked.sort(key=lambda r: (r[0], popular.get(r[1], len(popular)), len(r[1]), r[1]))
    return [name for _, name in ranked[:limit]]


def parse_days(value: str, weekday: str | None = None) -> str:
    """The stored form (`daily`, `weekdays`, `weekly:mon`…) of a days label and weekday.

    `weekday` (Monday…Sunday, default Monday) only goes with weekly; a stored value is accepted
    as it is.
    """
    key = value.strip().lower()
    if key in DAYS:
        key = DAYS[key]
    if key.startswith(WEEKLY_PREFIX) and key[len(WEEKLY_PREFIX) :] in WEEKDAY_NAME:
        return key if weekday is None else parse_days("weekly", weekday)
    if key not in DAYS_LABEL:
        raise FeedSettingError("Days must be `every day`, `weekdays` or `weekly`.")
    if key != "weekly":
        if weekday is not None:
            raise FeedSettingError("A weekday only goes with `days: weekly`.")
        return key
    return WEEKLY_PREFIX + parse_weekday(weekday or "Monday")


def parse_weekday(text: str) -> str:
    """`Monday`, `mon` or `monday` as the stored day (`mon`)."""
    key = text.strip().lower()
    for name, short in WEEKDAYS.items():
        if key in (name.lower(), short):
            return short
    shown = text.strip()[:20] or "(empty)"
    raise FeedSettingError(f"`{shown}` is not a weekday: pick one of Monday … Sunday.")


def weekly_day(days: str) -> int | None:
    """The weekday (0 = Monday) of a weekly schedule, or None for daily and weekdays."""
    if not days.startswith(WEEKLY_PREFIX):
        return None
    return list(WEEKDAY_NAME).index(days[len(WEEKLY_PREFIX) :])


def cron_days(days: str) -> str:
    """The schedule's days as a cron `day_of_week` (`*`, `mon-fri`, `mon`…)."""
    if days == "weekdays":
        return "mon-fri"
    if days.startswith(WEEKLY_PREFIX):
        return days[len(WEEKLY_PREFIX) :]
    return "*"


def next_slot(schedule_time: str, timezone: str, days: str, now: datetime) -> datetime:
    """The next moment (aware, in `timezone`) the schedule fires at or after `now`."""
    tz = ZoneInfo(timezone)
    hour, minute = (int(part) for part in schedule_time.split(":"))
    local = now.astimezone(tz)
    for offset in range(9):
        day = local.date() + timedelta(days=offset)
        if days == "weekdays" and day.weekday() >= 5:
            continue
        if weekly_day(days) not in (None, day.weekday()):
            continue
        slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        if slot >= now:
            return slot
    raise AssertionError("a week always holds a slot")  # pragma: no cover


def describe_schedule(schedule_time: str, timezone: str, days: str) -> str:
    """e.g. `09:00 Europe/Paris, weekdays` or `09:00 UTC, weekly on Monday`."""
    if days.startswith(WEEKLY_PREFIX):
        return f"{schedule_time} {timezone}, weekly on {WEEKDAY_NAME[days[len(WEEKLY_PREFIX) :]]}"
    return f"{schedule_time} {timezone}, {DAYS_LABEL.get(days, days)}"
