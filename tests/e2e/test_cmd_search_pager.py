"""The /search pager under Discord's clocks: it edits through the latest interaction, so paging
past the command's 15-minute token still works, and its buttons keep answering after a restart.
Fake Discord (enforcing the 3-second deadline and 15-minute tokens), real bot, real SQLite."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.search_support import (
    FakeHuggingFace,
    button_id,
    buttons,
    search_world,
    titles,
)
from tests.e2e.world import World
from tests.fakediscord import FakeDiscord, Message
from tests.support import eventually

EXPIRED = "This search has expired — run /search again."


@pytest.fixture
async def world(
    discord_at_fake: FakeDiscord, tmp_path: Path, hf: FakeHuggingFace
) -> AsyncIterator[World]:
    async with search_world(discord_at_fake, tmp_path, hf) as w:
        yield w


def token_refusals(world: World) -> list[str]:
    """Requests Discord refused because an interaction token had expired (401 50027)."""
    return [f"{r.method} {r.path}" for r in world.fake.requests if r.status == 401]


async def test_paging_still_works_after_the_commands_token_expired(world: World) -> None:
    command = await world.run(world.alice, "search", query="diffusion")
    message = command.message
    assert message is not None
    first = titles(message)
    world.fake.age_interaction(command)  # 15 min + 1 s: the command's token can edit no more

    turned = await world.fake.click(world.alice, message, button_id(message, "next"))
    assert turned.response_type == 7 and turned.answered_in_time  # the click's own answer
    assert message.embeds[0]["footer"]["text"] == "Page 2 of 3 · 13 results"
    assert not set(titles(message)) & set(first)
    world.fake.age_interaction(turned)  # every click is new: only the latest token matters
    back = await world.fake.click(world.alice, message, button_id(message, "prev"))
    assert back.response_type == 7 and titles(message) == first
    assert token_refusals(world) == []


async def test_the_buttons_grey_out_through_the_latest_click_not_the_old_command(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # load_extension executes the cog module afresh: patch the copy the bot loaded.
    monkeypatch.setattr(sys.modules["cogs.search"], "PAGER_TIMEOUT", 1.0)
    command = await world.run(world.alice, "search", query="diffusion")
    message = command.message
    assert message is not None
    await world.fake.click(world.alice, message, button_id(message, "next"))
    world.fake.age_interaction(command)  # someone paged for 15 minutes before stopping

    await eventually(lambda: not any(buttons(message).values()), "the pager to time out")
    assert buttons(message) == {"prev": False, "next": False}
    assert message.embeds[0]["footer"]["text"] == "Page 2 of 3 · 13 results"  # results stay
    assert token_refusals(world) == []


async def test_buttons_from_before_a_restart_say_the_search_expired(
    discord_at_fake: FakeDiscord, tmp_path: Path, hf: FakeHuggingFace
) -> None:
    async with search_world(discord_at_fake, tmp_path, hf) as before:
        private = await before.run(before.alice, "search", query="diffusion")
        public = await before.run(before.bob, "search", query="diffusion", public=True)
    old, shared = private.message, public.message
    assert old is not None and shared is not None
    shown = titles(old)

    async with search_world(discord_at_fake, tmp_path, hf, restart=before) as after:
        clicked = await after.fake.click(after.alice, old, button_id(old, "next"))
        assert clicked.answered_in_time and clicked.ephemeral
        assert clicked.content == EXPIRED
        assert titles(old) == shown  # the old page stays as it was
        # anyone clicking an old public pager hears the same, never silence
        stranger = await after.fake.click(after.alice, shared, button_id(shared, "next"))
        assert stranger.ephemeral and stranger.content == EXPIRED

        # a search made after the restart pages as usual
        fresh = await after.run(after.alice, "search", query="diffusion")
        assert fresh.message is not None
        turned = await after.fake.click(
            after.alice, fresh.message, button_id(fresh.message, "next")
        )
        assert turned.response_type == 7
        assert fresh.message.embeds[0]["footer"]["text"] == "Page 2 of 3 · 13 results"


async def test_a_pager_from_the_version_before_says_the_search_expired(world: World) -> None:
    # Before this version pagers had the plain custom_ids "prev"/"next"; one such message is
    # still in the channel after the upgrade.
    row = {
        "type": 1,
        "components": [
            {"type": 2, "style": 2, "label": "Previous", "custom_id": "prev", "disabled": True},
            {"type": 2, "style": 1, "label": "Next", "custom_id": "next"},
        ],
    }
    fake = world.fake
    old = Message(fake.world.ids.next(), world.channel, fake.bot_user, components=[row])
    fake.world.messages[old.id] = old
    clicked = await fake.click(world.alice, old, "next")
    assert clicked.ephemeral and clicked.content == EXPIRED
