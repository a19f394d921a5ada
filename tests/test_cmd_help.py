"""/help end to end as a member sees it: every command, the query language, who may use /feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.discord_client import PaperboyBot
from tests.cmd_support import World, running_world
from tests.fakediscord import FakeDiscord


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    def with_help(bot: PaperboyBot) -> None:
        bot.extension_names = ("cogs.meta", *bot.extension_names)

    async with running_world(
        discord_at_fake, tmp_path, prepare=with_help, scheduler_enabled=False
    ) as w:
        yield w


async def test_help_lists_every_command_and_says_who_may_use_feed(world: World) -> None:
    reply = await world.run(world.alice, "help")
    assert reply.ephemeral
    (embed,) = reply.embeds
    (field,) = embed["fields"]
    assert field["name"] == "Commands" and field["inline"] is False  # full width, one per line
    names = [line.split("`")[1] for line in field["value"].splitlines()]
    assert len(names) == 15 and {"/subscribe", "/feed post-now", "/paper"} <= set(names)
    assert "The `/feed` commands need the Manage Channels permission." in embed["description"]
    assert '`"masked diffusion"`' in embed["description"]  # a taste of the query language
    assert not any(m.mentioned_user_ids for m in reply.messages)
