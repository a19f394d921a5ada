"""The fake Discord's interaction clocks through the real discord.py client: the 3-second deadline
(on by default), 15-minute tokens, and clicks on buttons the bot no longer handles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import discord
import pytest
from discord import app_commands

from tests.fakediscord import Channel, FakeDiscord, Guild, InteractionNotAnswered, Member
from tests.fakediscord.posting import make_message


class ClockBot(discord.Client):
    """A bot whose commands let the test decide how long they take (by moving the server clock)."""

    def __init__(self, fake: FakeDiscord) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1)
        self.tree = app_commands.CommandTree(self)
        self.errors: list[Exception] = []
        self.clicks: list[str] = []
        self.release = asyncio.Event()

        @self.tree.command(name="slow", description="Answers after 3.5 s by the server clock")
        async def slow(interaction: discord.Interaction) -> None:
            fake.clock.advance(3.5)
            try:
                await interaction.response.send_message("done")
            except discord.HTTPException as error:
                self.errors.append(error)

        @self.tree.command(name="later", description="Defers, then follows up when released")
        async def later(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await self.release.wait()
            self.release.clear()
            try:
                await interaction.followup.send("results")
            except discord.HTTPException as error:
                self.errors.append(error)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component and interaction.data:
            self.clicks.append(str(interaction.data.get("custom_id")))


@pytest.fixture
def guild(fake_discord: FakeDiscord) -> Guild:
    guild = fake_discord.add_guild("ML Lab")
    guild.add_text_channel("papers")
    guild.add_member("alice")
    return guild


@pytest.fixture
async def bot(discord_at_fake: FakeDiscord, guild: Guild) -> AsyncIterator[ClockBot]:
    client = ClockBot(discord_at_fake)
    task = asyncio.create_task(client.start(discord_at_fake.token))
    await discord_at_fake.wait_for_commands_synced()
    await asyncio.wait_for(client.wait_until_ready(), 10)
    yield client
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def eventually(predicate: Callable[[], object]) -> None:
    """Wait (up to 5 s) until the bot has recorded what the test waits for."""
    async with asyncio.timeout(5):
        while not predicate():  # noqa: ASYNC110 - state the bot's handlers append to
            await asyncio.sleep(0.01)


def people(guild: Guild) -> tuple[Member, Channel]:
    alice = next(m for m in guild.members.values() if m.name == "alice")
    papers = next(c for c in guild.channels.values() if c.name == "papers")
    return alice, papers


async def test_late_initial_answer_gets_unknown_interaction_by_default(
    fake_discord: FakeDiscord, guild: Guild, bot: ClockBot
) -> None:
    alice, papers = people(guild)
    assert fake_discord.interaction_deadline == 3.0
    with pytest.raises(InteractionNotAnswered, match="10062"):
        await fake_discord.run_command(alice, papers, "slow")
    await eventually(lambda: bot.errors)
    [error] = bot.errors
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert fake_discord.messages_in(papers) == []

    fake_discord.interaction_deadline = None  # a slow test opts out
    reply = await fake_discord.run_command(alice, papers, "slow")
    assert reply.content == "done" and not reply.answered_in_time


async def test_interaction_token_expires_after_15_minutes(
    fake_discord: FakeDiscord, guild: Guild, bot: ClockBot
) -> None:
    alice, papers = people(guild)
    fresh = await fake_discord.run_command(alice, papers, "later")
    fake_discord.age_interaction(fresh, 14 * 60)
    bot.release.set()
    await fresh.wait_for_final()
    assert fresh.content == "results" and bot.errors == []

    stale = await fake_discord.run_command(alice, papers, "later")
    fake_discord.clock.advance(15 * 60 + 1)
    bot.release.set()
    await eventually(lambda: bot.errors)
    [error] = bot.errors
    assert isinstance(error, discord.HTTPException)
    assert (error.status, error.code) == (401, 50027)
    assert stale.message is not None and stale.message.loading  # still "thinking…" for alice
    assert fake_discord.invalid_requests.by_status == {401: 1}


async def test_click_on_a_button_nobody_handles_still_reaches_the_bot(
    fake_discord: FakeDiscord, guild: Guild, bot: ClockBot
) -> None:
    alice, papers = people(guild)
    # A pager posted before a restart: the new process registered no view for it.
    button = {"type": 2, "style": 1, "label": "Next", "custom_id": "search:next:42"}
    old = make_message(
        fake_discord.world,
        papers,
        fake_discord.bot_user,
        {"content": "page 1", "components": [{"type": 1, "components": [button]}]},
    )
    result = await fake_discord.click(alice, old, "search:next:42", expect_answer=False)
    await eventually(lambda: bot.clicks)
    assert bot.clicks == ["search:next:42"]
    assert not result.answered  # nobody answered: Discord would show "This interaction failed"
