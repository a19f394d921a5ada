"""/feed post-now and the schedule in /feed status with the real scheduler and delivery engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.store import feeds as feeds_repo
from tests.e2e.world import World, paper, running_world
from tests.fakediscord import FakeDiscord, Message
from tests.support import eventually


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(
        discord_at_fake, tmp_path, scheduler_enabled=True, poll_sources=False
    ) as w:
        assert w.bot.scheduler is not None
        await w.add_papers(
            [
                paper(1, "Masked diffusion language models", days_ago=0.5, upvotes=40),
                paper(2, "Diffusion transformers at scale", days_ago=0.5, upvotes=5),
                paper(3, "Sparse attention kernels", days_ago=0.5, upvotes=80),
            ]
        )
        yield w


def everything_posted(world: World) -> list[Message]:
    """Public messages in the channel and its threads (a digest may open a thread)."""
    places = [world.channel, *world.fake.threads_of(world.channel)]
    return [m for c in places for m in world.fake.messages_in(c, include_ephemeral=False)]


async def next_run_becomes(world: World, expected: datetime) -> None:
    """Reschedules apply in a task of their own: wait for the scheduler to show `expected`."""
    scheduler = world.bot.scheduler
    assert scheduler is not None
    await eventually(
        lambda: scheduler.next_run(world.channel.id) == expected, f"the next run at {expected}"
    )


async def test_post_now_posts_once_and_never_reposts(world: World) -> None:
    await world.run(world.mod, "feed subscribe", query="diffusion")
    await world.run(world.alice, "subscribe", query="masked")

    reply = await world.run(world.mod, "feed post-now")
    assert reply.ephemeral and reply.deferred
    assert reply.content == "Posted 2 papers here: 2 of 3 new papers matched."
    posted = everything_posted(world)
    assert posted, "the digest went to the channel"
    text = "\n".join(m.content + str(m.embeds) for m in posted)
    assert "Masked diffusion language models" in text
    assert "Sparse attention kernels" not in text
    assert any(world.alice.id in m.mentioned_user_ids for m in posted)

    again = await world.run(world.mod, "feed post-now")
    assert again.content.startswith("Nothing posted: ")
    assert everything_posted(world) == posted

    status = await world.run(world.mod, "feed status")
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert ", 0 posted — " in fields["Last run"]  # the second run, and why it posted nothing


async def test_post_now_without_a_feed_says_how_to_start_one(world: World) -> None:
    reply = await world.run(world.mod, "feed post-now")
    assert reply.ephemeral and reply.content.startswith("This channel has no feed yet")
    assert await world.count("feed_runs") == 0


async def test_schedule_changes_and_pauses_reach_the_scheduler_at_once(world: World) -> None:
    await world.run(world.mod, "feed subscribe", query="diffusion")
    scheduler = world.bot.scheduler
    assert scheduler is not None
    # Created with the default 09:00 UTC; NOW is 12:00 UTC, so tomorrow.
    await next_run_becomes(world, datetime.fromisoformat("2026-03-11T09:00:00+00:00"))

    await world.run(world.mod, "feed schedule", time="18:00", timezone="Europe/Paris")
    evening = datetime.fromisoformat("2026-03-10T18:00:00+01:00")
    await next_run_becomes(world, evening)
    status = await world.run(world.mod, "feed status")
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["State"] == f"Next run <t:{int(evening.timestamp())}:R>"

    await world.run(world.mod, "feed pause")
    assert scheduler.next_run(world.channel.id) is None  # dropped before the store answered
    feed = await world.db(feeds_repo.get_feed, world.channel.id)
    assert feed is not None and feed.paused
    await world.run(world.mod, "feed resume")
    await next_run_becomes(world, evening)
