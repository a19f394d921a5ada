"""/feed schedule's weekly digests and /dm schedule|pause|resume|status end to end: fake Discord,
real bot, real SQLite (the scheduler recorded or off; see test_schedules_restart_e2e.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.discord.client import PaperboyBot
from bot.store import dm_schedules
from bot.store import feeds as feeds_repo
from bot.store.dm_schedules import DmSchedule
from tests.e2e.world import COMMAND_EXTENSIONS, NOW, RecordingScheduler, World, running_world
from tests.fakediscord import CommandError, FakeDiscord
from tests.support import subscribe

NEXT_RUN = NOW + timedelta(days=3)
EXTENSIONS = (*COMMAND_EXTENSIONS, "cogs.dm")


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    def attach(bot: PaperboyBot) -> None:
        bot.scheduler = RecordingScheduler(NEXT_RUN)  # type: ignore[assignment]

    async with running_world(
        discord_at_fake, tmp_path, prepare=attach, extensions=EXTENSIONS, scheduler_enabled=False
    ) as w:
        yield w


@pytest.fixture(autouse=True)
def dm_changes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The recording scheduler also records that DM schedules changed."""
    seen: list[str] = []
    monkeypatch.setattr(
        RecordingScheduler, "dm_schedules_changed", lambda self: seen.append("dm"), raising=False
    )
    return seen


def timestamp(moment: datetime) -> str:
    return f"<t:{int(moment.timestamp())}:f>"


# /feed schedule days:weekly


async def test_weekly_schedule_is_stored_shown_and_rescheduled(world: World) -> None:
    reply = await world.run(
        world.mod, "feed schedule", time="08:00", timezone="UTC", days="weekly", weekday="Friday"
    )
    assert reply.ephemeral
    assert reply.content == "This channel's digest now goes out at 08:00 UTC, weekly on Friday."
    feed = await world.db(feeds_repo.get_feed, world.channel.id)
    assert feed is not None and feed.days == "weekly:fri"
    assert world.bot.scheduler.rescheduled == [world.channel.id]  # type: ignore[union-attr]
    status = await world.run(world.mod, "feed status")
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    friday = datetime(2026, 3, 13, 8, 0, tzinfo=ZoneInfo("UTC"))  # NOW is Tuesday 10 March
    assert fields["Schedule"] == (
        f"08:00 UTC, weekly on Friday (your time: <t:{int(friday.timestamp())}:F>)"
    )
    monday = await world.run(world.mod, "feed schedule", time="9:00", timezone="UTC", days="weekly")
    assert monday.content.endswith("09:00 UTC, weekly on Monday.")


async def test_a_weekday_without_weekly_is_one_line_and_changes_nothing(world: World) -> None:
    await world.run(world.mod, "feed schedule", time="07:00", timezone="Europe/Paris")
    before = await world.db(feeds_repo.get_feed, world.channel.id)
    reply = await world.run(
        world.mod, "feed schedule", time="10:00", timezone="UTC", days="weekdays", weekday="Monday"
    )
    assert reply.ephemeral and reply.content == "A weekday only goes with `days: weekly`."
    assert await world.db(feeds_repo.get_feed, world.channel.id) == before
    with pytest.raises(CommandError):  # only the seven days are offered, Discord checks it
        await world.fake.run_command(
            world.mod, world.channel, "feed schedule",
            time="10:00", timezone="UTC", days="weekly", weekday="Funday",
        )  # fmt: skip


# /dm schedule, pause, resume, status


async def test_dm_schedule_is_validated_stored_and_shown_privately(
    world: World, dm_changes: list[str]
) -> None:
    reply = await world.run(
        world.alice, "dm schedule", time="7:30", timezone="europe/paris", days="weekdays"
    )
    assert reply.ephemeral
    assert reply.content == "Your DM digest now comes at 07:30 Europe/Paris, weekdays."
    assert await world.db(dm_schedules.get_schedule, world.alice.id) == DmSchedule(
        "07:30", "Europe/Paris", "weekdays"
    )
    assert dm_changes == ["dm"]
    status = await world.run(world.alice, "dm status")
    wednesday = datetime(2026, 3, 11, 7, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert status.ephemeral
    assert status.content.splitlines() == [
        "Your DM digest: 07:30 Europe/Paris, weekdays.",
        f"Next: {timestamp(wednesday)}.",
        "You have no DM subscriptions yet: add one with /subscribe dm:true.",
    ]
    assert not status.messages[0].mentioned_user_ids


@pytest.mark.parametrize(
    ("time", "timezone", "expected"),
    [
        ("25:00", "UTC", "`25:00` is not a time: use HH:MM on a 24-hour clock, e.g. 09:00."),
        ("09:00", "Mars/Base", "`Mars/Base` is not a timezone"),
    ],
)
async def test_a_bad_dm_schedule_is_one_line_and_changes_nothing(
    world: World, dm_changes: list[str], time: str, timezone: str, expected: str
) -> None:
    await world.run(world.alice, "dm schedule", time="08:00", timezone="UTC")
    reply = await world.run(world.alice, "dm schedule", time=time, timezone=timezone)
    assert reply.ephemeral and reply.content.startswith(expected)
    assert "\n" not in reply.content
    assert await world.db(dm_schedules.get_schedule, world.alice.id) == DmSchedule(
        "08:00", "UTC", "daily"
    )
    assert dm_changes == ["dm"]  # only the good one


async def test_pause_and_resume_say_what_they_did_once(world: World) -> None:
    paused = await world.run(world.alice, "dm pause")
    assert paused.ephemeral
    assert paused.content == "Paused your DM digest; /dm resume starts it again."
    again = await world.run(world.alice, "dm pause")
    assert again.content == "Your DM digest is already paused."
    status = await world.run(world.alice, "dm status")
    assert status.content.splitlines()[:2] == [
        "Your DM digest: 09:00 UTC, every day.",  # the default, kept while paused
        "Paused: /dm resume starts it again.",
    ]
    resumed = await world.run(world.alice, "dm resume")
    tomorrow = NOW.replace(day=11, hour=9)
    assert resumed.content == f"Resumed your DM digest: next at {timestamp(tomorrow)}."
    assert (await world.run(world.alice, "dm resume")).content == "Your DM digest is not paused."


async def test_a_members_dm_schedule_is_theirs_alone(world: World) -> None:
    await subscribe(world.bot.store, world.channel.id, "diffusion", user=world.alice.id, dm=True)
    await world.run(world.alice, "dm schedule", time="06:15", timezone="Asia/Tokyo")
    await world.run(world.alice, "dm pause")
    alices = await world.db(dm_schedules.get_schedule, world.alice.id)
    # Bob (and the moderator) see only their own: the default, not paused, no subscriptions.
    for other in (world.bob, world.mod):
        status = await world.run(other, "dm status")
        assert status.content.splitlines()[0] == (
            "Your DM digest: 09:00 UTC, every day (the default; /dm schedule sets yours)."
        )
        assert "Tokyo" not in status.content and "Paused" not in status.content
    await world.run(world.bob, "dm schedule", time="20:00", timezone="UTC")
    await world.run(world.mod, "dm resume")  # not paused: refused, and Alice's stays paused
    assert await world.db(dm_schedules.get_schedule, world.alice.id) == alices
    mine = await world.run(world.alice, "dm status")
    assert mine.content.splitlines() == [
        "Your DM digest: 06:15 Asia/Tokyo, every day.",
        "Paused: /dm resume starts it again.",
        "1 DM subscription (/subscriptions).",
    ]
    # No /dm command takes a member, so nobody can even name someone else's schedule.
    (dm,) = [c for c in world.fake.synced_commands() if c["name"] == "dm"]
    options = [o for sub in dm["options"] for o in sub.get("options", [])]
    assert {o["name"] for o in options} == {"time", "timezone", "days"}
    assert dm.get("default_member_permissions") is None  # every member may use it


async def test_dm_schedule_offers_timezones_and_only_daily_or_weekdays(world: World) -> None:
    choices = await world.fake.autocomplete(
        world.alice, world.channel, "dm schedule", "timezone", typed="tokyo"
    )
    assert choices[0] == {"name": "Asia/Tokyo", "value": "Asia/Tokyo"}
    (dm,) = [c for c in world.fake.synced_commands() if c["name"] == "dm"]
    (schedule,) = [o for o in dm["options"] if o["name"] == "schedule"]
    (days,) = [o for o in schedule["options"] if o["name"] == "days"]
    assert [c["name"] for c in days["choices"]] == ["every day", "weekdays"]
