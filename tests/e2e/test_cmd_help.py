"""/help end to end as a member sees it: every command, the query language, who may use /feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.discord.client import PaperboyBot
from tests.e2e.world import World, running_world
from tests.fakediscord import FakeDiscord


@pytest.fixture
async def world(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    def with_help(bot: PaperboyBot) -> None:
        bot.extension_names = ("cogs.meta", *bot.extension_names)

    async with running_world(
        discord_at_fake, tmp_path, prepare=with_help, scheduler_enabled=False
    ) as w:
        yield w


async def test_help_lists_member_commands_first_then_the_feed_block_for_managers(
    world: World,
) -> None:
    reply = await world.run(world.alice, "help")
    assert reply.ephemeral
    (embed,) = reply.embeds
    members, managers = embed["fields"]
    assert members["name"] == "Commands" and members["inline"] is False  # full width
    assert [line.split("`")[1] for line in members["value"].splitlines()] == [
        "/subscribe",
        "/unsubscribe",
        "/subscriptions",
        "/search",
        "/paper",
        "/help",
    ]
    assert members["value"].splitlines()[0] == "`/subscribe` — Get new papers matching a query"
    assert managers["name"] == "Channel feeds (need the Manage Channels permission)"
    assert managers["inline"] is False
    assert [line.split("`")[1] for line in managers["value"].splitlines()] == [
        "/feed subscribe",
        "/feed unsubscribe",
        "/feed schedule",
        "/feed sources",
        "/feed pause",
        "/feed resume",
        "/feed status",
        "/feed preview",
        "/feed post-now",
    ]
    assert '`"masked diffusion"`' in embed["description"]  # a taste of the query language
    assert not any(m.mentioned_user_ids for m in reply.messages)
