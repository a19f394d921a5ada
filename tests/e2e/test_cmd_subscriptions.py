"""/subscribe, /unsubscribe and /subscriptions end to end: fake Discord, real bot, real SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlite_utils

from bot.delivery.dm_notice import DM_CLOSED_NOTICE
from bot.discord.client import PaperboyBot
from bot.store import feeds as feeds_repo
from bot.store import subscriptions as subs_repo
from cogs.common import DRY_RUN
from tests.e2e.world import NOW, RecordingScheduler, World, paper, running_world
from tests.fakediscord import FakeDiscord


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    def attach(bot: PaperboyBot) -> None:
        bot.scheduler = RecordingScheduler()  # type: ignore[attr-defined]

    async with running_world(
        discord_at_fake, tmp_path, prepare=attach, scheduler_enabled=False
    ) as w:
        await w.add_papers(
            [
                paper(1, "Masked diffusion language models", upvotes=40),
                paper(2, "Diffusion transformers at scale", days_ago=3, upvotes=5),
                paper(3, "A survey of diffusion models", days_ago=2, upvotes=90),
                paper(4, "Sparse attention kernels", upvotes=80),
                paper(5, "Old diffusion results", days_ago=20),
            ]
        )
        yield w


def no_pings(*replies: object) -> bool:
    return all(
        not m.mentioned_user_ids and not m.mention_everyone for r in replies for m in r.messages
    )  # type: ignore[attr-defined]


# /subscribe


async def test_subscribe_shows_the_normal_form_and_a_dry_run_and_starts_the_feed(
    world: World,
) -> None:
    reply = await world.run(world.alice, "subscribe", query="Diffusion  -survey")

    assert reply.ephemeral and reply.deferred and reply.answered_in_time
    lines = reply.content.splitlines()
    assert lines[0] == (
        f"Subscribed to `diffusion -survey`: in the daily digest of <#{world.channel.id}>,"
        " mentioning you."
    )
    assert lines[1] == (
        "This channel had no feed, so I started one with the default schedule: "
        "09:00 UTC, every day (change it with /feed schedule)."
    )
    assert lines[2] == "2 papers of the last 7 days would have matched. For example:"
    assert "Masked diffusion language models" in lines[3]  # most upvoted first
    assert "Diffusion transformers at scale" in lines[4]
    assert "survey" not in reply.content.lower().split("matched")[1]
    assert no_pings(reply)

    (sub,) = await world.db(
        subs_repo.list_personal, guild_id=world.guild.id, user_id=world.alice.id
    )
    assert (sub.normal, sub.query, sub.channel_id, sub.dm) == (
        "diffusion -survey",
        "Diffusion  -survey",
        world.channel.id,
        False,
    )
    feed = await world.db(feeds_repo.get_feed, world.channel.id)
    assert (feed.schedule_time, feed.timezone, feed.sources, feed.guild_id) == (
        "09:00",
        "UTC",
        "hf, arxiv",
        world.guild.id,
    )
    assert world.bot.scheduler.rescheduled == [world.channel.id]  # type: ignore[attr-defined]


async def test_a_second_subscription_in_the_channel_reuses_its_feed(world: World) -> None:
    await world.run(world.alice, "subscribe", query="diffusion")
    reply = await world.run(world.bob, "subscribe", query="attention")
    assert "started one" not in reply.content
    assert "1 paper of the last 7 days would have matched." in reply.content
    assert world.bot.scheduler.rescheduled == [world.channel.id]  # type: ignore[attr-defined]
    assert await world.count("feeds") == 1


async def test_subscribe_by_dm_creates_no_feed(world: World) -> None:
    reply = await world.run(world.alice, "subscribe", query="attention", dm=True)
    assert reply.ephemeral
    assert reply.content.startswith("Subscribed to `attention`: daily by DM.")
    (sub,) = await world.db(
        subs_repo.list_personal, guild_id=world.guild.id, user_id=world.alice.id
    )
    assert sub.dm and sub.channel_id is None
    assert await world.count("feeds") == 0


async def test_no_matches_in_the_dry_run_is_said_plainly(world: World) -> None:
    reply = await world.run(world.alice, "subscribe", query='"protein folding"', dm=True)
    assert reply.content.splitlines()[1:] == [
        "0 papers of the last 7 days would have matched.",
        "That's fine for a new topic — matches are delivered as they appear. To widen it, use "
        "fewer words, `OR` between alternatives, or a prefix such as `quantiz*`.",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("diffusion AND", "That query doesn't work: AND needs a term on both sides at column 11."),
        ("x" * 201, "That query is 201 characters long; the limit is 200."),
        (
            "-survey",
            "That query doesn't work: only exclusions at column 1 — an exclusion alone would "
            "match almost every paper, so add a word the paper must contain (e.g. `llm -survey`).",
        ),
    ],
)
async def test_bad_queries_get_one_line_and_change_nothing(
    world: World, query: str, expected: str
) -> None:
    reply = await world.run(world.alice, "subscribe", query=query)
    assert reply.ephemeral and not reply.deferred
    assert reply.content == expected
    assert await world.count("personal_subscriptions") == 0
    assert await world.count("feeds") == 0


async def test_a_duplicate_is_refused_politely_by_its_normal_form(world: World) -> None:
    await world.run(world.alice, "subscribe", query="Diffusion models")
    reply = await world.run(world.alice, "subscribe", query="diffusion   MODELS", dm=True)
    assert reply.ephemeral
    assert reply.content == "You already have a subscription to `diffusion models` in this server."
    assert await world.count("personal_subscriptions") == 1


async def test_the_25_subscription_limit_is_shown_and_nothing_is_added(world: World) -> None:
    def fill(db: sqlite_utils.Database) -> None:
        for n in range(25):
            subs_repo.add_personal(
                db,
                guild_id=world.guild.id,
                user_id=world.alice.id,
                channel_id=None,
                query=f"topic{n}",
                normal=f"topic{n}",
                dm=True,
                now=NOW,
            )

    await world.db(fill)
    reply = await world.run(world.alice, "subscribe", query="diffusion")
    assert reply.content.startswith("You have reached the limit of 25 subscriptions")
    assert await world.count("personal_subscriptions") == 25
    assert await world.count("feeds") == 0  # the feed it would have started was rolled back


async def test_no_feed_is_started_where_the_member_cannot_post(world: World) -> None:
    reply = await world.run_in(world.quiet, world.alice, "subscribe", query="diffusion")
    assert reply.ephemeral
    assert "ask a moderator" in reply.content and "dm:true" in reply.content
    assert len(reply.content.splitlines()) == 1
    assert await world.count("personal_subscriptions") == 0
    assert await world.count("feeds") == 0

    by_dm = await world.run_in(world.quiet, world.alice, "subscribe", query="diffusion", dm=True)
    assert by_dm.content.startswith("Subscribed to `diffusion`: daily by DM.")


async def test_a_member_who_cannot_post_may_join_a_feed_a_moderator_started(world: World) -> None:
    await world.run_in(world.quiet, world.mod, "feed subscribe", query="llm")
    reply = await world.run_in(world.quiet, world.alice, "subscribe", query="diffusion")
    assert reply.content.startswith("Subscribed to `diffusion`: in the daily digest of <#")
    (sub,) = await world.db(
        subs_repo.list_personal, guild_id=world.guild.id, user_id=world.alice.id
    )
    assert sub.channel_id == world.quiet.id


async def test_mentions_typed_into_a_query_never_ping(world: World) -> None:
    reply = await world.run(
        world.alice, "subscribe", query=f"<@{world.bob.id}> @everyone diffusion"
    )
    assert reply.content.startswith("Subscribed to `")
    assert no_pings(reply)
    bad = await world.run(world.alice, "subscribe", query="@everyone AND")
    assert bad.content.startswith("That query doesn't work")
    assert "@everyone" not in bad.content  # neutralised, whatever the parser echoes
    assert no_pings(bad)


# /unsubscribe


async def test_unsubscribe_autocomplete_offers_only_my_subscriptions_here(world: World) -> None:
    await world.run(world.alice, "subscribe", query="diffusion")
    await world.run(world.alice, "subscribe", query="attention", dm=True)
    await world.run(world.bob, "subscribe", query="robotics")
    other = world.fake.add_guild("Elsewhere")
    other.add_existing_member(world.alice.user)
    # A subscription in another server is not offered here.
    await world.db(
        subs_repo.add_personal,
        guild_id=other.id,
        user_id=world.alice.id,
        channel_id=None,
        query="graphs",
        normal="graphs",
        dm=True,
        now=NOW,
    )
    mine = await world.db(subs_repo.list_personal, guild_id=world.guild.id, user_id=world.alice.id)
    ids = {s.normal: str(s.id) for s in mine}

    choices = await world.fake.autocomplete(
        world.alice, world.channel, "unsubscribe", "subscription"
    )
    assert choices == [
        {"name": "diffusion · #papers", "value": ids["diffusion"]},
        {"name": "attention · DM", "value": ids["attention"]},
    ]
    typed = await world.fake.autocomplete(
        world.alice, world.channel, "unsubscribe", "subscription", typed="ATT"
    )
    assert typed == [{"name": "attention · DM", "value": ids["attention"]}]
    bobs = await world.fake.autocomplete(world.bob, world.channel, "unsubscribe", "subscription")
    assert [c["name"] for c in bobs] == ["robotics · #papers"]


async def test_autocomplete_stays_within_discords_limits(world: World) -> None:
    def fill(db: sqlite_utils.Database) -> None:
        for n in range(25):
            long = f"topic{n} " + "verylongword " * 10
            subs_repo.add_personal(
                db,
                guild_id=world.guild.id,
                user_id=world.alice.id,
                channel_id=None,
                query=long,
                normal=long.strip(),
                dm=True,
                now=NOW,
            )

    await world.db(fill)
    choices = await world.fake.autocomplete(
        world.alice, world.channel, "unsubscribe", "subscription"
    )
    assert len(choices) == 25
    assert all(len(c["name"]) <= 100 and c["name"].endswith("…") for c in choices)


async def test_unsubscribe_removes_mine_and_refuses_someone_elses(world: World) -> None:
    await world.run(world.alice, "subscribe", query="diffusion")
    (sub,) = await world.db(
        subs_repo.list_personal, guild_id=world.guild.id, user_id=world.alice.id
    )

    stolen = await world.run(world.bob, "unsubscribe", subscription=str(sub.id))
    assert stolen.ephemeral
    assert stolen.content == "That isn't one of your subscriptions here; pick one from the list."
    unknown = await world.run(world.alice, "unsubscribe", subscription="robotics")
    assert unknown.content == "That isn't one of your subscriptions here; pick one from the list."
    theirs = await world.run(world.bob, "unsubscribe", subscription="diffusion")
    assert theirs.content == "That isn't one of your subscriptions here; pick one from the list."
    assert await world.count("personal_subscriptions") == 1

    done = await world.run(world.alice, "unsubscribe", subscription=str(sub.id))
    assert done.ephemeral and done.content == "Unsubscribed from `diffusion`."
    assert await world.count("personal_subscriptions") == 0


async def test_unsubscribe_takes_a_subscription_typed_instead_of_picked(world: World) -> None:
    await world.run(world.alice, "subscribe", query="diffusion")
    await world.run(world.alice, "subscribe", query='"masked diffusion"', dm=True)

    typed = await world.run(world.alice, "unsubscribe", subscription="Diffusion")
    assert typed.content == "Unsubscribed from `diffusion`."
    label = await world.run(world.alice, "unsubscribe", subscription='"masked diffusion" · DM')
    assert label.content == 'Unsubscribed from `"masked diffusion"`.'
    assert await world.count("personal_subscriptions") == 0


async def test_typed_digits_mean_my_subscription_id_first_and_else_a_query(world: World) -> None:
    await world.run(world.alice, "subscribe", query="diffusion")
    (diffusion,) = await world.db(
        subs_repo.list_personal, guild_id=world.guild.id, user_id=world.alice.id
    )
    same_digits = str(diffusion.id)
    await world.run(world.alice, "subscribe", query=same_digits, dm=True)  # a query like `2024`
    await world.run(world.alice, "subscribe", query="2024", dm=True)

    by_id = await world.run(world.alice, "unsubscribe", subscription=same_digits)
    assert by_id.content == "Unsubscribed from `diffusion`."  # the exact id of mine wins
    by_query = await world.run(world.alice, "unsubscribe", subscription=same_digits)
    assert by_query.content == f"Unsubscribed from `{same_digits}`."  # no such id left: a query
    year = await world.run(world.alice, "unsubscribe", subscription=" 2024 ")
    assert year.content == "Unsubscribed from `2024`."
    assert await world.count("personal_subscriptions") == 0
    nothing = await world.run(world.alice, "unsubscribe", subscription="2024")
    assert nothing.content == "That isn't one of your subscriptions here; pick one from the list."


async def test_another_members_id_is_not_mine_even_when_i_have_that_query(world: World) -> None:
    await world.run(world.bob, "subscribe", query="robotics")
    (bobs,) = await world.db(subs_repo.list_personal, guild_id=world.guild.id, user_id=world.bob.id)
    await world.run(world.alice, "subscribe", query=str(bobs.id), dm=True)

    done = await world.run(world.alice, "unsubscribe", subscription=str(bobs.id))
    assert done.content == f"Unsubscribed from `{bobs.id}`."  # alice's query, not bob's id
    assert [
        s.normal
        for s in await world.db(
            subs_repo.list_personal, guild_id=world.guild.id, user_id=world.bob.id
        )
    ] == ["robotics"]


# /subscriptions


async def test_subscriptions_lists_mine_and_this_channels_feed(world: World) -> None:
    empty = await world.run(world.alice, "subscriptions")
    assert empty.ephemeral
    assert "None yet" in empty.content and "This channel has no feed." in empty.content

    await world.run(world.alice, "subscribe", query="diffusion")
    await world.run(world.alice, "subscribe", query="attention", dm=True)
    await world.run(world.bob, "subscribe", query="robotics")
    await world.run(world.mod, "feed subscribe", query="llm")

    reply = await world.run(world.alice, "subscriptions")
    assert reply.ephemeral
    assert reply.content.splitlines() == [
        "**Your subscriptions in this server**",
        "• `diffusion · #papers`",
        "• `attention · DM`",
        "",
        "**This channel**",
        "This channel's feed: 09:00 UTC, every day.",
        "• `llm`",
        "Plus 1 other member's personal subscription.",  # alice's own are listed above
    ]
    assert "robotics" not in reply.content  # bob's own subscription is his business

    await world.run(world.bob, "subscribe", query="grasping")
    await world.run(world.mod, "subscribe", query="planning")
    again = await world.run(world.alice, "subscriptions")
    assert again.content.splitlines()[-1] == "Plus 3 personal subscriptions of 2 other members."


# The DM-closed notice


async def test_a_closed_dm_is_mentioned_once_in_the_next_reply(world: World) -> None:
    def closed(db: sqlite_utils.Database) -> None:
        db.execute(
            "INSERT INTO dm_status (user_id, closed_at, told_user) VALUES (?, ?, 0)",
            [world.alice.id, NOW.isoformat()],
        )

    await world.db(closed)
    first = await world.run(world.alice, "subscriptions")
    assert first.content.splitlines()[-1] == DM_CLOSED_NOTICE
    second = await world.run(world.alice, "subscriptions")
    assert DM_CLOSED_NOTICE not in second.content
    told = await world.db(
        lambda db: db.execute(
            "SELECT told_user FROM dm_status WHERE user_id = ?", [world.alice.id]
        ).fetchone()[0]
    )
    assert told == 1
    bob = await world.run(world.bob, "subscriptions")
    assert DM_CLOSED_NOTICE not in bob.content


async def test_a_deeply_nested_query_is_one_line_and_subscribing_fast_is_slowed(
    world: World,
) -> None:
    nested = await world.run(world.alice, "subscribe", query="(" * 141 + "a")
    assert nested.ephemeral and not nested.deferred
    assert nested.content.startswith("That query doesn't work: too many nested parentheses")
    words = ["llm", "diffusion", "robotics", "agents"]
    assert len(words) + 1 == DRY_RUN.capacity  # the nested query above used one go too
    for word in words:
        await world.run(world.alice, "subscribe", query=word)
    slowed = await world.run(world.alice, "subscribe", query="attention")
    assert slowed.ephemeral and slowed.content.startswith("Slow down: try again in ")
    other = await world.run(world.bob, "subscribe", query="attention")  # per user, not global
    assert other.content.startswith("Subscribed to `attention`")
    assert await world.count("personal_subscriptions") == len(words) + 1
