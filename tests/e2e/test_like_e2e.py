"""`like:<arXiv id>` through the commands: /search ranks by similarity and says how similar, an
id Paperboy lacks is fetched from Hugging Face as /paper does, and one nobody knows is one line.
Fake Discord and a local Hugging Face, real bot, real SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from tests.e2e.search_support import FakeHuggingFace, search_world, titles
from tests.e2e.world import World, paper
from tests.fakediscord import FakeDiscord

NOBODY = "I couldn't find arXiv:2401.99999 for `like:` here or on Hugging Face; check the id."


@pytest.fixture
async def world(
    discord_at_fake: FakeDiscord, tmp_path: Path, hf: FakeHuggingFace
) -> AsyncIterator[World]:
    async with search_world(discord_at_fake, tmp_path, hf) as w:
        await w.add_papers(
            [
                paper(30, "Long-context in-context learning", "Scaling in-context learning to"
                      " a million tokens of context with many demonstrations.", days_ago=2),
                paper(31, "Many-shot in-context learning", "In-context learning with hundreds"
                      " of demonstrations in long context windows.", days_ago=3),
            ]
        )  # fmt: skip
        yield w


async def test_search_like_ranks_by_similarity_and_says_how_similar(world: World) -> None:
    result = await world.run(world.alice, "search", query="like:2603.00001")
    message = result.message
    assert message is not None and result.ephemeral
    shown = titles(message)
    assert "Diffusion study 01" not in shown  # the paper asked about is not an answer
    assert shown[0].startswith("Diffusion study")
    assert "Sparse attention kernels" not in shown
    description = message.embeds[0]["description"]
    assert '*similar to "Diffusion study 01" (' in description
    assert message.embeds[0]["title"] == "Search: like:2603.00001"


async def test_an_unknown_like_paper_is_fetched_and_stored(
    world: World, hf: FakeHuggingFace
) -> None:
    result = await world.run(world.alice, "search", query="like:2608.09888 -shot")
    assert hf.requests == ["2608.09888"], result.content
    assert result.message is not None and result.message.embeds, result.content
    assert titles(result.message) == ["Long-context in-context learning"], result.message.embeds
    stored = await world.db(papers_repo.get_paper, "2608.09888")
    assert stored is not None and stored.sources == frozenset()  # a lookup, never digest news


async def test_a_like_paper_nobody_knows_is_one_line_and_changes_nothing(world: World) -> None:
    for command, options in [
        ("search", {"query": "like:2401.99999"}),
        ("subscribe", {"query": "diffusion OR like:2401.99999"}),
    ]:
        result = await world.run(world.alice, command, **options)
        assert result.ephemeral and result.content == NOBODY
    assert await world.db(subs_repo.personal_for_channel, world.channel.id) == []
    bad = await world.run(world.alice, "search", query="like:lora")
    assert bad.content == (
        "That query doesn't work: 'like:' needs an arXiv id such as like:2106.09685 at column 1."
    )


async def test_subscribe_like_shows_the_normal_form_and_dry_run(world: World) -> None:
    result = await world.run(
        world.alice, "subscribe", query="like:https://arxiv.org/abs/2603.00001v2 -survey"
    )
    lines = result.content.splitlines()
    assert lines[0].startswith("Subscribed to `like:2603.00001 -survey`: in the daily digest")
    assert any(ln.endswith("of the last 7 days would have matched. For example:") for ln in lines)
