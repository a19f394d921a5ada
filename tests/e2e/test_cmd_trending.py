"""/trending end to end: fake Discord, real bot, real SQLite with an upvote history as polls
would have written it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store.papers import upsert_papers
from bot.store.upvotes import record_upvotes
from tests.e2e.world import COMMAND_EXTENSIONS, NOW, World, paper, running_world
from tests.fakediscord import CommandError, FakeDiscord, Message

NOT_YOURS = "These buttons belong to someone else's /trending — run it yourself."

# paper number -> (days ago listed, upvotes first seen, upvotes now)
HISTORY = {
    1: (1, 10, 90),  # +80
    2: (2, 200, 210),  # +10, most upvotes of the +10s
    3: (2, 5, 15),  # +10
    4: (3, 0, 60),  # +60
    5: (5, 40, 41),  # +1
    6: (6, 7, 7),  # +0
    7: (0.5, 1, 31),  # +30
    8: (12, 1, 900),  # listed before the default 7 days
}


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(
        discord_at_fake, tmp_path, extensions=(*COMMAND_EXTENSIONS, "cogs.trending"),
        scheduler_enabled=False,
    ) as w:  # fmt: skip
        for n, (days_ago, first, now) in HISTORY.items():
            title = f"Diffusion study {n}" if n % 2 else f"Agents study {n}"
            listed = NOW - timedelta(days=days_ago)
            await w.db(upsert_papers, [paper(n, title, days_ago=days_ago, upvotes=first)], listed)
            await w.db(record_upvotes, [f"2603.{n:05d}"], listed)
            later = NOW - timedelta(hours=1)
            await w.db(upsert_papers, [paper(n, title, days_ago=days_ago, upvotes=now)], later)
            await w.db(record_upvotes, [f"2603.{n:05d}"], later)
        yield w


def ranked(message: Message) -> list[tuple[str, str]]:
    """(title, `▲ +gained · total upvotes`) per paper on the page, in order."""
    blocks = message.embeds[0]["description"].split("\n\n")
    return [(b.split("](")[0].split("[", 1)[1], b.split("\n")[1]) for b in blocks]


def buttons(message: Message) -> dict[str, bool]:
    return {
        item["custom_id"]: not item.get("disabled", False)
        for row in message.components
        for item in row["components"]
    }


async def test_trending_ranks_by_upvotes_gained_then_total_and_pages(world: World) -> None:
    reply = await world.run(world.alice, "trending")
    assert reply.ephemeral and reply.answered_in_time
    message = reply.message
    assert message is not None
    assert message.embeds[0]["title"] == "Trending, last 7 days"
    assert ranked(message) == [
        ("Diffusion study 1", "▲ +80 · 90 upvotes"),
        ("Agents study 4", "▲ +60 · 60 upvotes"),
        ("Diffusion study 7", "▲ +30 · 31 upvotes"),
        ("Agents study 2", "▲ +10 · 210 upvotes"),
        ("Diffusion study 3", "▲ +10 · 15 upvotes"),
    ]
    assert message.embeds[0]["footer"]["text"] == "Page 1 of 2 · 7 papers · upvotes gained"
    assert buttons(message) == {"trending:prev": False, "trending:next": True}
    stranger = await world.fake.click(world.bob, message, "trending:next")
    assert stranger.ephemeral and stranger.content == NOT_YOURS
    assert ranked(message)[0][0] == "Diffusion study 1"  # unchanged by Bob's click
    await world.fake.click(world.alice, message, "trending:next")
    assert ranked(message) == [
        ("Diffusion study 5", "▲ +1 · 41 upvotes"),
        ("Agents study 6", "▲ +0 · 7 upvotes"),
    ]
    assert buttons(message) == {"trending:prev": True, "trending:next": False}
    await world.fake.click(world.alice, message, "trending:prev")
    assert ranked(message)[0][0] == "Diffusion study 1"


async def test_trending_takes_a_window_and_a_query(world: World) -> None:
    reply = await world.run(world.alice, "trending", days=2, query="diffusion -agents")
    message = reply.message
    assert message is not None
    assert message.embeds[0]["title"] == "Trending, last 2 days · diffusion -agents"
    # Study 3 was listed exactly 2 days ago: inside; study 5 (5 days) and the agents are not.
    assert [t for t, _ in ranked(message)] == [
        "Diffusion study 1", "Diffusion study 7", "Diffusion study 3",
    ]  # fmt: skip
    assert buttons(message) == {"trending:prev": False, "trending:next": False}
    # (one /trending per member every 5 seconds, as /search: the others ask next)
    month = await world.run(world.bob, "trending", days=30)
    assert month.message is not None
    assert ranked(month.message)[0] == ("Agents study 8", "▲ +899 · 900 upvotes")
    none = await world.run(world.mod, "trending", query="robotics")
    assert none.ephemeral
    assert none.content == "No Hugging Face papers matching `robotics` in the last 7 days."


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"days": 0}, "`days` must be between 1 and 30."),
        ({"days": 31}, "`days` must be between 1 and 30."),
        ({"query": '"unclosed'}, "That query doesn't work: "),
    ],
)
async def test_bad_trending_input_is_one_private_line(
    world: World, options: dict[str, object], expected: str
) -> None:
    before = await world.count("upvote_history")
    reply = await world.run(world.alice, "trending", **options)
    assert reply.ephemeral and reply.content.startswith(expected)
    assert "\n" not in reply.content and not reply.embeds
    assert await world.count("upvote_history") == before


async def test_trending_is_offered_with_its_options(world: World) -> None:
    (command,) = [c for c in world.fake.synced_commands() if c["name"] == "trending"]
    assert {o["name"]: o.get("required", False) for o in command["options"]} == {
        "days": False,
        "query": False,
    }
    with pytest.raises(CommandError):
        await world.fake.run_command(world.alice, world.channel, "trending", days="many")
