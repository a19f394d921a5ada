"""What keeps /search and /paper polite: public results only where the member may post, a token
bucket per member that lets a search be refined but slows spam, and /paper remembering the ids
Hugging Face didn't know. Fake Discord, real bot, real SQLite, a local Hugging Face."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.search_support import FakeHuggingFace, search_world, titles
from tests.e2e.world import NOW, World
from tests.fakediscord import FakeDiscord
from tests.support import FakeClock

ONLY_YOU = "You can't send messages in this channel, so only you can see these results."
NOT_FOUND = (
    "I couldn't find arXiv:2609.12345 here or on Hugging Face. Check the id, or try again "
    "once it is listed."
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    discord_at_fake: FakeDiscord, tmp_path: Path, hf: FakeHuggingFace, clock: FakeClock
) -> AsyncIterator[World]:
    async with search_world(discord_at_fake, tmp_path, hf, clock=clock) as w:
        yield w


# /search public:true


async def test_public_results_where_the_member_cannot_post_are_shown_only_to_them(
    world: World,
) -> None:
    reply = await world.run_in(world.quiet, world.alice, "search", query="diffusion", public=True)
    assert reply.ephemeral and reply.answered_in_time
    assert reply.content.splitlines()[0] == ONLY_YOU
    assert reply.embeds[0]["footer"]["text"] == "Page 1 of 3 · 13 results"
    assert world.fake.messages_in(world.quiet, include_ephemeral=False) == []

    where_allowed = await world.run(world.alice, "search", query="diffusion", public=True)
    assert not where_allowed.ephemeral and where_allowed.content == ""  # no note where it posts


async def test_in_a_thread_the_permission_that_counts_is_sending_in_threads(
    world: World,
) -> None:
    world.channel.set_overwrite(world.guild, deny=["send_messages_in_threads"])
    thread = world.guild.add_thread(world.channel, "reading", owner=world.mod.user)
    reply = await world.run_in(thread, world.bob, "search", query="attention", public=True)
    assert reply.ephemeral and reply.content == ONLY_YOU
    assert titles(reply.message) == ["Sparse attention kernels"]  # type: ignore[arg-type]
    assert world.fake.messages_in(thread, include_ephemeral=False) == []


# the token bucket


async def test_a_burst_of_searches_then_one_per_five_seconds(
    world: World, clock: FakeClock
) -> None:
    for query in ["diffusion", "diffusion models", "diffusion -survey", "attention"]:
        assert (await world.run(world.alice, "search", query=query)).embeds
    refused = await world.run(world.alice, "search", query="attention kernels")
    assert refused.ephemeral and refused.content == "Slow down: try again in 5 s."

    clock.advance(seconds=2)
    later = await world.run(world.alice, "search", query="attention kernels")
    assert later.content == "Slow down: try again in 3 s."  # a refusal takes nothing
    clock.advance(seconds=3)
    assert (await world.run(world.alice, "search", query="attention kernels")).embeds
    again = await world.run(world.alice, "search", query="attention")
    assert again.content == "Slow down: try again in 5 s."  # sustained: one per 5 s

    clock.advance(minutes=1)  # a pause refills the whole burst
    for query in ["sparse", "kernels", "diffusion study", "diffusion"]:
        assert not (await world.run(world.alice, "search", query=query)).content.startswith(
            "Slow down"
        )


# /paper


async def test_an_id_hugging_face_did_not_know_is_not_asked_again_for_an_hour(
    world: World, hf: FakeHuggingFace, clock: FakeClock
) -> None:
    first = await world.run(world.alice, "paper", id="2609.12345")
    assert first.content == NOT_FOUND
    assert hf.requests == ["2609.12345"]
    for who in (world.alice, world.bob):  # anyone asking again costs no request
        again = await world.run(who, "paper", id="arxiv.org/abs/2609.12345v2")
        assert again.content == NOT_FOUND
    assert hf.requests == ["2609.12345"]

    clock.advance(minutes=61)  # it may have been listed since: ask again
    assert (await world.run(world.alice, "paper", id="2609.12345")).content == NOT_FOUND
    assert hf.requests == ["2609.12345", "2609.12345"]


async def test_hugging_face_being_down_is_not_remembered_as_a_miss(
    world: World, hf: FakeHuggingFace
) -> None:
    hf.status = 500
    down = await world.run(world.alice, "paper", id="2609.12345")
    assert down.content.endswith("Hugging Face isn't answering; try again in a few minutes.")
    hf.status = None
    assert (await world.run(world.alice, "paper", id="2609.12345")).content == NOT_FOUND
    assert hf.requests == ["2609.12345", "2609.12345"]


async def test_paper_lookups_are_rate_limited_per_member(world: World) -> None:
    for n in range(5):
        reply = await world.run(world.alice, "paper", id=f"2603.{n + 1:05d}")
        assert reply.embeds  # stored papers: shown at once
    slowed = await world.run(world.alice, "paper", id="2603.00006")
    assert slowed.ephemeral and slowed.content == "Slow down: try again in 6 s."
    assert (await world.run(world.bob, "paper", id="2603.00006")).embeds
