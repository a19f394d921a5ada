"""/feed ... end to end: fake Discord, real bot, real SQLite (the scheduler recorded, not run)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from bot.discord.client import PaperboyBot
from bot.feed_admin import set_paused
from bot.store import feeds as feeds_repo
from bot.store import subscriptions as subs_repo
from tests.e2e.world import MANAGE_CHANNELS, NOW, RecordingScheduler, World, paper, running_world
from tests.fakediscord import CommandError, FakeDiscord
from tests.fakediscord import actions as fake_actions

REFUSED = "Only members with the Manage Channels permission can change this channel's feed."
NEXT_RUN = NOW + timedelta(hours=3)


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    def attach(bot: PaperboyBot) -> None:
        bot.scheduler = RecordingScheduler(NEXT_RUN)  # type: ignore[assignment]

    async with running_world(
        discord_at_fake, tmp_path, prepare=attach, scheduler_enabled=False
    ) as w:
        await w.add_papers(
            [
                paper(1, "Masked diffusion language models", days_ago=0.5, upvotes=40),
                paper(2, "Diffusion transformers at scale", days_ago=0.5, upvotes=5),
                paper(3, "Sparse attention kernels", days_ago=0.5, upvotes=80),
            ]
        )
        yield w


@pytest.fixture
def overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server admin let everyone see /feed (Integrations settings): only our check is left."""
    original = fake_actions.check_can_use

    def without_default_permissions(user: Any, channel: Any, command: dict[str, Any]) -> Any:
        return original(user, channel, {**command, "default_member_permissions": None})

    monkeypatch.setattr(fake_actions, "check_can_use", without_default_permissions)


def rescheduled(world: World) -> list[int]:
    return world.bot.scheduler.rescheduled  # type: ignore[union-attr]


async def feed_of(world: World) -> feeds_repo.Feed | None:
    return await world.db(feeds_repo.get_feed, world.channel.id)


def no_pings(*replies: Any) -> bool:
    return all(
        not m.mentioned_user_ids and not m.mention_everyone for r in replies for m in r.messages
    )


# Who may use /feed


async def test_feed_is_hidden_from_members_without_manage_channels(world: World) -> None:
    (feed,) = [c for c in world.fake.synced_commands() if c["name"] == "feed"]
    assert int(feed["default_member_permissions"]) == MANAGE_CHANNELS
    subcommands = {o["name"] for o in feed["options"]}
    assert subcommands == {
        "subscribe", "unsubscribe", "schedule", "sources", "pause", "resume", "status",
        "preview", "post-now",
    }  # fmt: skip
    with pytest.raises(CommandError, match="needs permissions"):
        await world.fake.run_command(world.alice, world.channel, "feed status")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("feed subscribe", {"query": "diffusion"}),
        ("feed unsubscribe", {"subscription": "1"}),
        ("feed schedule", {"time": "10:00", "timezone": "UTC"}),
        ("feed sources", {"sources": "hf"}),
        ("feed pause", {}),
        ("feed resume", {}),
        ("feed status", {}),
        ("feed preview", {}),
        ("feed post-now", {}),
    ],
)
async def test_members_without_manage_channels_are_refused_in_code_too(
    world: World, overridden: None, name: str, options: dict[str, Any]
) -> None:
    await world.run(world.mod, "feed subscribe", query="llm")
    before = await feed_of(world)
    reply = await world.run(world.alice, name, **options)
    assert reply.ephemeral and reply.content == REFUSED
    assert await feed_of(world) == before
    assert await world.count("channel_subscriptions") == 1


async def test_unsubscribe_autocomplete_offers_nothing_to_non_moderators(
    world: World, overridden: None
) -> None:
    await world.run(world.mod, "feed subscribe", query="llm")
    choices = await world.fake.autocomplete(
        world.alice, world.channel, "feed unsubscribe", "subscription"
    )
    assert choices == []


# /feed subscribe and unsubscribe


async def test_feed_subscribe_starts_the_feed_and_dry_runs(world: World) -> None:
    reply = await world.run(world.mod, "feed subscribe", query="Diffusion")
    assert reply.ephemeral and reply.deferred
    lines = reply.content.splitlines()
    assert lines[0] == "Subscribed to `diffusion`: in this channel's daily digest."
    assert lines[-1] == (
        "Here the digest is a header message with a thread holding one message per paper."
    )
    assert lines[1] == (
        "This channel had no feed, so I started one with the default schedule: "
        "09:00 UTC, every day (change it with /feed schedule)."
    )
    assert lines[2] == "2 papers of the last 7 days would have matched. For example:"
    (sub,) = await world.db(subs_repo.list_channel, world.channel.id)
    assert (sub.normal, sub.added_by) == ("diffusion", world.mod.id)
    assert (await feed_of(world)) is not None
    assert rescheduled(world) == [world.channel.id]


async def test_feed_subscribe_refuses_bad_queries_duplicates_and_the_51st(world: World) -> None:
    bad = await world.run(world.mod, "feed subscribe", query="(diffusion")
    assert bad.ephemeral and bad.content.startswith("That query doesn't work:")
    assert len(bad.content.splitlines()) == 1
    assert await world.count("feeds") == 0

    await world.run(world.mod, "feed subscribe", query="diffusion")
    dup = await world.run(world.mod, "feed subscribe", query="DIFFUSION")
    assert dup.content == "This channel is already subscribed to `diffusion`."

    def fill(db: sqlite_utils.Database) -> None:
        for n in range(49):
            subs_repo.add_channel(
                db, guild_id=world.guild.id, channel_id=world.channel.id, query=f"t{n}",
                normal=f"t{n}", added_by=world.mod.id, now=NOW,
            )  # fmt: skip

    await world.db(fill)
    full = await world.run(world.mod, "feed subscribe", query="attention")
    assert full.content.startswith("This channel has reached the limit of 50 subscriptions")
    assert await world.count("channel_subscriptions") == 50


async def test_feed_unsubscribe_autocompletes_and_removes_only_this_channels(
    world: World,
) -> None:
    other = world.guild.add_text_channel("other")
    await world.run(world.mod, "feed subscribe", query="diffusion")
    await world.run(world.mod, "feed subscribe", query="attention")
    await world.run_in(other, world.mod, "feed subscribe", query="robotics")
    here = {s.normal: s.id for s in await world.db(subs_repo.list_channel, world.channel.id)}
    (elsewhere,) = await world.db(subs_repo.list_channel, other.id)

    choices = await world.fake.autocomplete(
        world.mod, world.channel, "feed unsubscribe", "subscription"
    )
    assert choices == [
        {"name": "diffusion", "value": str(here["diffusion"])},
        {"name": "attention", "value": str(here["attention"])},
    ]
    typed = await world.fake.autocomplete(
        world.mod, world.channel, "feed unsubscribe", "subscription", typed="att"
    )
    assert [c["name"] for c in typed] == ["attention"]

    wrong = await world.run(world.mod, "feed unsubscribe", subscription=str(elsewhere.id))
    assert (
        wrong.content == "That isn't one of this channel's subscriptions; pick one from the list."
    )
    done = await world.run(world.mod, "feed unsubscribe", subscription=str(here["diffusion"]))
    assert done.ephemeral
    assert done.content == "This channel is no longer subscribed to `diffusion`."
    assert [s.normal for s in await world.db(subs_repo.list_channel, world.channel.id)] == [
        "attention"
    ]
    assert await world.count("channel_subscriptions") == 2

    elsewhere_typed = await world.run(world.mod, "feed unsubscribe", subscription="robotics")
    assert elsewhere_typed.content.startswith("That isn't one of this channel's subscriptions")
    typed_in = await world.run(world.mod, "feed unsubscribe", subscription="Attention")
    assert typed_in.content == "This channel is no longer subscribed to `attention`."
    assert await world.count("channel_subscriptions") == 1


async def test_feed_unsubscribe_reads_digits_as_this_channels_id_first_then_as_a_query(
    world: World,
) -> None:
    other = world.guild.add_text_channel("other")
    await world.run(world.mod, "feed subscribe", query="attention")
    await world.run_in(other, world.mod, "feed subscribe", query="robotics")
    (attention,) = await world.db(subs_repo.list_channel, world.channel.id)
    (robotics,) = await world.db(subs_repo.list_channel, other.id)
    await world.run(world.mod, "feed subscribe", query=str(attention.id))
    await world.run(world.mod, "feed subscribe", query=str(robotics.id))  # another channel's id
    await world.run(world.mod, "feed subscribe", query="2024")

    by_id = await world.run(world.mod, "feed unsubscribe", subscription=str(attention.id))
    assert by_id.content == "This channel is no longer subscribed to `attention`."
    by_query = await world.run(world.mod, "feed unsubscribe", subscription=str(attention.id))
    assert by_query.content == f"This channel is no longer subscribed to `{attention.id}`."
    not_elsewhere = await world.run(world.mod, "feed unsubscribe", subscription=str(robotics.id))
    assert not_elsewhere.content == f"This channel is no longer subscribed to `{robotics.id}`."
    year = await world.run(world.mod, "feed unsubscribe", subscription="2024")
    assert year.content == "This channel is no longer subscribed to `2024`."
    assert await world.db(subs_repo.list_channel, world.channel.id) == []
    assert [s.normal for s in await world.db(subs_repo.list_channel, other.id)] == ["robotics"]


# /feed schedule and sources


async def test_schedule_is_validated_stored_and_rescheduled(world: World) -> None:
    reply = await world.run(
        world.mod, "feed schedule", time="7:30", timezone="europe/paris", days="weekdays"
    )
    assert reply.ephemeral
    assert reply.content == "This channel's digest now goes out at 07:30 Europe/Paris, weekdays."
    feed = await feed_of(world)
    assert feed is not None
    assert (feed.schedule_time, feed.timezone, feed.days) == ("07:30", "Europe/Paris", "weekdays")
    assert rescheduled(world) == [world.channel.id]

    again = await world.run(world.mod, "feed schedule", time="18:00", timezone="UTC")
    assert again.content.endswith("18:00 UTC, every day.")


@pytest.mark.parametrize(
    ("time", "timezone", "expected"),
    [
        ("25:00", "UTC", "`25:00` is not a time: use HH:MM on a 24-hour clock, e.g. 09:00."),
        ("9am", "UTC", "`9am` is not a time: use HH:MM on a 24-hour clock, e.g. 09:00."),
        ("09:00", "Paris", "`Paris` is not a timezone: pick one from the list (IANA names),"),
        ("09:00", "Mars/Base", "`Mars/Base` is not a timezone"),
    ],
)
async def test_bad_schedules_change_nothing(
    world: World, time: str, timezone: str, expected: str
) -> None:
    await world.run(world.mod, "feed subscribe", query="diffusion")
    before = await feed_of(world)
    reply = await world.run(world.mod, "feed schedule", time=time, timezone=timezone)
    assert reply.ephemeral and reply.content.startswith(expected)
    assert len(reply.content.splitlines()) == 1
    assert await feed_of(world) == before
    assert rescheduled(world) == [world.channel.id]  # only the feed's creation


async def test_timezone_autocomplete_suggests_best_matches(world: World) -> None:
    choices = await world.fake.autocomplete(
        world.mod, world.channel, "feed schedule", "timezone", typed="paris", time="09:00"
    )
    assert choices[0] == {"name": "Europe/Paris", "value": "Europe/Paris"}
    blank = await world.fake.autocomplete(
        world.mod, world.channel, "feed schedule", "timezone", time="09:00"
    )
    assert blank[0]["value"] == "UTC" and len(blank) <= 25
    york = await world.fake.autocomplete(
        world.mod, world.channel, "feed schedule", "timezone", typed="new_y"
    )
    assert "America/New_York" in [c["value"] for c in york]


async def test_days_are_offered_as_choices(world: World) -> None:
    (feed,) = [c for c in world.fake.synced_commands() if c["name"] == "feed"]
    (schedule,) = [o for o in feed["options"] if o["name"] == "schedule"]
    (days,) = [o for o in schedule["options"] if o["name"] == "days"]
    assert [c["name"] for c in days["choices"]] == ["every day", "weekdays", "weekly"]
    (weekday,) = [o for o in schedule["options"] if o["name"] == "weekday"]
    assert [c["name"] for c in weekday["choices"]] == [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ]  # fmt: skip
    assert not weekday.get("required")


async def test_sources_are_validated_and_stored_canonically(world: World) -> None:
    reply = await world.run(world.mod, "feed sources", sources="HF, arxiv: cs.lg + CS.CL")
    assert reply.ephemeral
    assert reply.content == (
        "Sources set to `hf, arxiv:cs.CL+cs.LG`: Hugging Face Daily Papers + arXiv (cs.CL, cs.LG)."
    )
    feed = await feed_of(world)
    assert feed is not None and feed.sources == "hf, arxiv:cs.CL+cs.LG"
    assert rescheduled(world) == [world.channel.id]

    bad = await world.run(world.mod, "feed sources", sources="hf, reddit")
    assert bad.ephemeral and bad.content.startswith("Unknown source `reddit`")
    assert (await feed_of(world)).sources == "hf, arxiv:cs.CL+cs.LG"  # type: ignore[union-attr]


async def test_sources_warn_about_arxiv_categories_the_bot_does_not_fetch(world: World) -> None:
    reply = await world.run(world.mod, "feed sources", sources="hf, arxiv:cs.CL+math.PR")
    assert reply.content.splitlines() == [
        "Sources set to `hf, arxiv:cs.CL+math.PR`: Hugging Face Daily Papers + arXiv "
        "(cs.CL, math.PR).",
        "Note: this bot only fetches arXiv cs.AI, cs.CL, cs.CV, cs.LG, "
        "so math.PR will bring no arXiv papers.",
    ]
    fetched = await world.run(world.mod, "feed sources", sources="arxiv:cs.CV")
    assert "Note" not in fetched.content


# /feed pause and resume


async def test_pause_and_resume(world: World) -> None:
    no_feed = await world.run(world.mod, "feed pause")
    assert no_feed.content.startswith("This channel has no feed yet")

    await world.run(world.mod, "feed subscribe", query="diffusion")
    paused = await world.run(world.mod, "feed pause")
    assert paused.ephemeral and paused.content.startswith("Paused this channel's digest")
    feed = await feed_of(world)
    assert feed is not None and feed.paused and feed.pause_reason == "paused by mod"
    twice = await world.run(world.mod, "feed pause")
    assert twice.content == "This channel's feed is already paused."

    resumed = await world.run(world.mod, "feed resume")
    assert resumed.content == "Resumed this channel's digest."
    feed = await feed_of(world)
    assert feed is not None and not feed.paused and feed.pause_reason is None
    assert rescheduled(world) == [world.channel.id] * 3  # created, paused, resumed


async def test_a_pause_reason_never_pings(world: World) -> None:
    sneaky = world.guild.add_member("@everyone", permissions=["manage_channels"])
    await world.run(world.mod, "feed subscribe", query="diffusion")
    await world.run(sneaky, "feed pause")
    status = await world.run(world.mod, "feed status")
    state = next(f for f in status.embeds[0]["fields"] if f["name"] == "State")["value"]
    assert "@\u200beveryone" in state and "@everyone" not in state
    assert no_pings(status)


# /feed status


async def test_status_shows_schedule_sources_runs_and_subscriptions(world: World) -> None:
    await world.run(world.mod, "feed subscribe", query="diffusion")
    await world.run(world.alice, "subscribe", query="attention")
    await world.run(world.mod, "feed schedule", time="09:30", timezone="Europe/Paris")

    def ran(db: sqlite_utils.Database) -> None:
        run = feeds_repo.start_run(
            db, channel_id=world.channel.id, window_start=NOW - timedelta(days=1),
            now=NOW - timedelta(hours=2),
        )  # fmt: skip
        feeds_repo.finish_run(
            db, run.id, now=NOW - timedelta(hours=2), listed=12, matched=0, posted=0,
            reason="0 of 12 listed papers matched",
        )  # fmt: skip
        feeds_repo.update_feed(db, world.channel.id, notes="Thread creation refused: no permission")

    await world.db(ran)
    reply = await world.run(world.mod, "feed status")
    assert reply.ephemeral
    (embed,) = reply.embeds
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    # NOW is 13:00 in Paris, so the next 09:30 there is tomorrow's.
    paris_slot = datetime(2026, 3, 11, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert fields["Schedule"] == (
        f"09:30 Europe/Paris, every day (your time: <t:{int(paris_slot.timestamp())}:t>)"
    )
    assert fields["Sources"] == "Hugging Face Daily Papers + arXiv (all)"
    assert fields["State"] == f"Next run <t:{int(NEXT_RUN.timestamp())}:R>"
    assert fields["Last run"].startswith("10 Mar 2026 11:00 (<t:")  # 10:00 UTC in Paris
    assert fields["Last run"].endswith(
        "12 listed, 0 matched, 0 posted — 0 of 12 listed papers matched"
    )
    assert fields["Notes"] == "Thread creation refused: no permission"
    assert fields["Subscriptions"] == f"• `diffusion`\n• `attention` (<@{world.alice.id}>)"
    assert no_pings(reply)


async def test_status_of_a_paused_feed_and_of_no_feed(world: World) -> None:
    none = await world.run(world.mod, "feed status")
    assert none.ephemeral and none.content.startswith("This channel has no feed yet")
    await world.run(world.mod, "feed subscribe", query="diffusion")
    await world.run(world.mod, "feed pause")
    reply = await world.run(world.mod, "feed status")
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert fields["State"] == "Paused by mod — /feed resume starts it again."

    await world.run(world.mod, "feed resume")
    lost = "I lost the Send Messages permission here — fix it and run /feed resume"
    await world.db(set_paused, channel_id=world.channel.id, paused=True, reason=lost)
    again = await world.run(world.mod, "feed status")
    fields = {f["name"]: f["value"] for f in again.embeds[0]["fields"]}
    assert fields["State"] == f"Paused: {lost}."  # said once, not "(/feed resume)" again
    assert fields["Last run"] == "Never run yet."


# /feed preview


async def test_preview_shows_the_digest_with_names_and_no_pings(world: World) -> None:
    await world.run(world.mod, "feed subscribe", query="diffusion")
    await world.run(world.alice, "subscribe", query="masked")
    reply = await world.run(world.mod, "feed preview")
    assert reply.ephemeral and reply.deferred
    lines = reply.content.splitlines()
    assert lines[0] == (
        "**Preview** — 2 of 3 new papers match this channel's subscriptions. "
        "Nothing is posted and nobody is pinged."
    )
    assert lines[1] == "📰 **Papers · 10 Mar 2026** — 2 new papers"  # the digest's own header
    assert lines[2].startswith("1. [Masked diffusion language models](<https://arxiv.org/abs/")
    assert lines[3].startswith("2. [Diffusion transformers at scale]")
    first, second = reply.embeds
    assert first["title"] == "Masked diffusion language models"
    assert "**Matched:**" in first["description"]
    who = {f["name"]: f["value"] for f in first["fields"]}
    assert who["Would mention"] == "@alice"
    assert "Would mention" not in {f["name"] for f in second["fields"]}
    assert no_pings(reply)
    assert world.fake.messages_in(world.channel, include_ephemeral=False) == []  # nothing posted


async def test_preview_dates_the_digest_in_the_feeds_timezone(world: World) -> None:
    await world.run(world.mod, "feed subscribe", query="diffusion")
    # NOW is 12:00 UTC on 10 Mar: already 11 Mar at UTC+14, where this feed's digest is dated.
    await world.run(world.mod, "feed schedule", time="08:00", timezone="Pacific/Kiritimati")
    reply = await world.run(world.mod, "feed preview")
    assert reply.content.splitlines()[1] == "📰 **Papers · 11 Mar 2026** — 2 new papers"


async def test_preview_explains_why_nothing_would_be_posted(world: World) -> None:
    await world.run(world.mod, "feed subscribe", query='"protein folding"')
    reply = await world.run(world.mod, "feed preview")
    assert reply.content == "Nothing would be posted now: 0 of 3 listed papers matched."
    await world.run(world.mod, "feed pause")  # paused feeds still preview: the moderator asks


async def test_post_now_without_a_scheduler_says_so(world: World) -> None:
    world.bot.scheduler = None
    await world.run(world.mod, "feed subscribe", query="diffusion")
    reply = await world.run(world.mod, "feed post-now")
    assert reply.ephemeral and reply.content == "The scheduler isn't running."
