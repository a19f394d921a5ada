"""Feed schedule settings: times, timezones (with autocomplete), days, next slot."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from bot.feed_settings import (
    DAYS,
    MAX_CHOICES,
    FeedSettingError,
    describe_schedule,
    next_slot,
    parse_days,
    parse_time,
    parse_timezone,
    timezone_choices,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", "09:00"),
        ("9:05", "09:05"),
        (" 21.30 ", "21:30"),
        ("7h15", "07:15"),
        ("0:00", "00:00"),
    ],
)
def test_times_in_common_spellings_are_canonical(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "9", "noon", "", "9:5", "-1:00", "12:00pm"])
def test_bad_times_say_what_to_type_in_one_line(text: str) -> None:
    with pytest.raises(FeedSettingError) as raised:
        parse_time(text)
    message = str(raised.value)
    assert "HH:MM" in message and "\n" not in message
    assert isinstance(raised.value, UserError)  # the command tree shows it ephemerally


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_valid_time_round_trips(hour: int, minute: int) -> None:
    text = f"{hour:02d}:{minute:02d}"
    assert parse_time(text) == text
    assert parse_time(f"{hour}:{minute:02d}") == text


def test_timezones_are_matched_case_insensitively_to_the_iana_spelling() -> None:
    assert parse_timezone("Europe/Paris") == "Europe/Paris"
    assert parse_timezone("europe/paris") == "Europe/Paris"
    assert parse_timezone("America/New York") == "America/New_York"
    assert parse_timezone("utc") == "UTC"


def test_unknown_timezone_is_refused_with_a_suggestion() -> None:
    with pytest.raises(FeedSettingError) as raised:
        parse_timezone("Paris")
    assert "`Paris` is not a timezone" in str(raised.value)
    assert "Europe/Paris" in str(raised.value)
    with pytest.raises(FeedSettingError, match="not a timezone"):
        parse_timezone("Mars/Olympus_Mons")


def test_timezone_choices_put_the_best_matches_first() -> None:
    assert timezone_choices("europe/par")[0] == "Europe/Paris"
    assert timezone_choices("paris")[0] == "Europe/Paris"  # city name alone
    assert timezone_choices("UTC")[0] == "UTC"
    new_york = timezone_choices("new")
    assert "America/New_York" in new_york
    assert all("new" in name.lower() for name in new_york)


def test_timezone_choices_respect_discords_limits() -> None:
    for typed in ("", "a", "america", "e"):
        choices = timezone_choices(typed)
        assert 0 < len(choices) <= MAX_CHOICES
        assert all(len(name) <= 100 for name in choices)
        assert all(parse_timezone(name) == name for name in choices)
    assert timezone_choices("zzzz-nothing") == []


def test_days_labels_map_to_stored_values() -> None:
    assert DAYS == {"every day": "daily", "weekdays": "weekdays", "weekly": "weekly"}
    assert parse_days("every day") == "daily"
    assert parse_days("weekdays") == "weekdays"
    assert parse_days("daily") == "daily"
    with pytest.raises(FeedSettingError):
        parse_days("weekends")


def test_weekly_is_stored_with_its_weekday_defaulting_to_monday() -> None:
    assert parse_days("weekly") == "weekly:mon"
    assert parse_days("weekly", "Friday") == "weekly:fri"
    assert parse_days("weekly", "sun") == "weekly:sun"
    assert parse_days("weekly:wed") == "weekly:wed"  # a stored value (e.g. an import) as it is
    with pytest.raises(FeedSettingError, match="is not a weekday"):
        parse_days("weekly", "Funday")
    with pytest.raises(FeedSettingError, match="only goes with `days: weekly`"):
        parse_days("every day", "Monday")
    with pytest.raises(FeedSettingError):
        parse_days("weekly:xyz")


def test_next_slot_of_a_weekly_schedule_is_its_day() -> None:
    thursday = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    paris = ZoneInfo("Europe/Paris")
    assert next_slot("09:00", "Europe/Paris", "weekly:mon", thursday) == datetime(
        2026, 3, 9, 9, 0, tzinfo=paris
    )
    # Today's weekday, but the time has passed: a week later.
    assert next_slot("09:00", "Europe/Paris", "weekly:thu", thursday) == datetime(
        2026, 3, 12, 9, 0, tzinfo=paris
    )


def test_next_slot_follows_the_timezone_and_skips_weekends() -> None:
    friday_evening = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # a Friday
    slot = next_slot("09:00", "Europe/Paris", "weekdays", friday_evening)
    assert slot == datetime(2026, 3, 9, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))  # Monday
    daily = next_slot("09:00", "Europe/Paris", "daily", friday_evening)
    assert daily == datetime(2026, 3, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    early = datetime(2026, 3, 6, 7, 0, tzinfo=UTC)  # 08:00 in Paris: today's slot is still ahead
    assert next_slot("09:00", "Europe/Paris", "daily", early).day == 6


def test_schedule_description_reads_naturally() -> None:
    assert describe_schedule("09:00", "Europe/Paris", "weekdays") == "09:00 Europe/Paris, weekdays"
    assert describe_schedule("18:30", "UTC", "daily") == "18:30 UTC, every day"
    assert describe_schedule("08:00", "UTC", "weekly:mon") == "08:00 UTC, weekly on Monday"
