"""The fake Discord with the real discord.py client: login, sync, interactions, posts, resume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import Channel, FakeDiscord, Guild, perms

TOPICS = ["diffusion", "distillation", "transformers", "graph neural networks"]


class Feed(app_commands.Group):
    """A group with a subcommand group, like Paperboy's /feed."""

    rules = app_commands.Group(name="rules", description="Matching rules")

    @rules.command(name="add", description="Add a rule")
    @app_commands.describe(topic="Topic to follow", limit="Papers per day")
    async def add(self, interaction: discord.Interaction, topic: str, limit: int = 5) -> None:
        await interaction.response.send_message(f"following {topic} ({limit}/day)", ephemeral=True)

    @add.autocomplete("topic")
    async def topic_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]


class MiniBot(commands.Bot):
    """A minimal bot (not Paperboy's) with one plain and one grouped slash command."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())
        self.resumed = asyncio.Event()

        @self.tree.command(name="ping", description="Answer at once")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @self.tree.command(name="slow", description="Defer, then follow up with an embed")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send(
                embed=discord.Embed(title="Digest", description="3 papers")
            )

        self.tree.add_command(Feed(name="feed", description="Manage feeds"))

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_resumed(self) -> None:
        self.resumed.set()


@pytest.fixture
def world(fake_discord: FakeDiscord) -> Guild:
    """A guild with a text channel, a forum and a member."""
    guild = fake_discord.add_guild("ML Lab")
    guild.add_text_channel("papers")
    guild.add_forum_channel("paper-forum", tags=["cs.LG"])
    guild.add_member("alice")
    return guild


@pytest.fixture
async def bot(discord_at_fake: FakeDiscord, world: Guild) -> AsyncIterator[MiniBot]:
    """MiniBot connected to the fake server, closed after the test."""
    client = MiniBot()
    task = asyncio.create_task(client.start(discord_at_fake.token))
    await discord_at_fake.wait_until_connected()
    await discord_at_fake.wait_for_commands_synced()
    await asyncio.wait_for(client.wait_until_ready(), 10)
    yield client
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


def _channel(guild: Guild, name: str) -> Channel:
    return next(c for c in guild.channels.values() if c.name == name)


async def test_sync_and_answer_commands(
    fake_discord: FakeDiscord, world: Guild, bot: MiniBot
) -> None:
    names = sorted(c["name"] for c in fake_discord.synced_commands())
    assert names == ["feed", "ping", "slow"]
    alice = next(m for m in world.members.values() if m.name == "alice")
    papers = _channel(world, "papers")

    reply = await fake_discord.run_command(alice, papers, "ping")
    assert (reply.content, reply.ephemeral, reply.deferred) == ("pong", True, False)
    assert reply.answered_in_time

    slow = await fake_discord.run_command(alice, papers, "slow")
    assert slow.deferred
    await slow.wait_for_final()
    assert [e["title"] for e in slow.embeds] == ["Digest"]
    assert slow.message is not None and not slow.message.loading

    choices = await fake_discord.autocomplete(alice, papers, "feed rules add", "topic", typed="di")
    assert [c["value"] for c in choices] == ["diffusion", "distillation"]
    added = await fake_discord.run_command(
        alice, papers, "feed rules add", topic="diffusion", limit=3
    )
    assert added.content == "following diffusion (3/day)"


async def test_bot_posts_threads_forum_and_dm(
    fake_discord: FakeDiscord, world: Guild, bot: MiniBot
) -> None:
    papers, forum = _channel(world, "papers"), _channel(world, "paper-forum")
    alice = next(m for m in world.members.values() if m.name == "alice")

    channel = bot.get_channel(papers.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("new paper", embed=discord.Embed(title="Attention"))
    thread = await sent.create_thread(name="Discuss: Attention")
    await thread.send("first reply")
    assert [m.embed_titles for m in fake_discord.messages_in(papers)] == [["Attention"]]
    assert [t.name for t in fake_discord.threads_of(papers)] == ["Discuss: Attention"]
    assert thread.id == sent.id

    forum_channel = bot.get_channel(forum.id)
    assert isinstance(forum_channel, discord.ForumChannel)
    post = await forum_channel.create_thread(
        name="Paper of the day",
        embed=discord.Embed(title="Diffusion"),
        applied_tags=forum_channel.available_tags,
    )
    assert post.thread.parent_id == forum.id
    [stored_post] = fake_discord.threads_of(forum)
    assert [m.embed_titles for m in fake_discord.messages_in(stored_post)] == [["Diffusion"]]

    user = await bot.fetch_user(alice.id)
    await user.send("your digest")
    assert [m.content for m in fake_discord.dms_to(alice)] == ["your digest"]


async def test_survives_dropped_gateway_and_reconnect(
    fake_discord: FakeDiscord, world: Guild, bot: MiniBot
) -> None:
    alice = next(m for m in world.members.values() if m.name == "alice")
    papers = _channel(world, "papers")

    await fake_discord.drop_gateway()
    await fake_discord.wait_for_resume(1)
    assert (await fake_discord.run_command(alice, papers, "ping")).content == "pong"

    await fake_discord.send_reconnect()
    await fake_discord.wait_for_resume(2)
    assert (await fake_discord.run_command(alice, papers, "ping")).content == "pong"

    await fake_discord.send_invalid_session(resumable=False)
    await fake_discord.wait_for_identify(2)
    assert (await fake_discord.run_command(alice, papers, "ping")).content == "pong"
    assert fake_discord.identify_count == 2


async def test_missing_permission_reaches_client_as_forbidden(
    fake_discord: FakeDiscord, world: Guild, bot: MiniBot
) -> None:
    papers = _channel(world, "papers")
    # @everyone allows Embed Links by default, so deny it to the bot on this channel only.
    papers.set_overwrite(world.bot_member, deny=perms("embed_links"))
    channel = bot.get_channel(papers.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as caught:
        await channel.send(embed=discord.Embed(title="needs Embed Links"))
    assert caught.value.code == 50013
    assert fake_discord.messages_in(papers) == []


async def test_wrong_token_is_rejected(discord_at_fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_close_disconnects_cleanly(fake_discord: FakeDiscord, bot: MiniBot) -> None:
    await bot.close()
    await fake_discord.server.gateway.wait_until(
        lambda: not fake_discord.server.gateway.connections, 5
    )
    assert fake_discord.unhandled_routes == []


async def test_client_retries_faults_and_respects_buckets(
    fake_discord: FakeDiscord, world: Guild, bot: MiniBot
) -> None:
    papers = _channel(world, "papers")
    channel = bot.get_channel(papers.id)
    assert isinstance(channel, discord.TextChannel)

    fake_discord.inject_faults("POST", "/channels/{id}/messages", status=500)
    fake_discord.inject_faults("POST", "/channels/{id}/messages", status=429, retry_after=0.05)
    await channel.send("after a 500 and a 429")
    statuses = [r.status for r in fake_discord.requests if r.path.endswith("/messages")]
    assert statuses == [500, 429, 200]

    # With a tiny window the client must wait for each bucket reset: all posts arrive, in order.
    fake_discord.rate_limits.message_limit = 2
    fake_discord.rate_limits.message_window = 0.2
    for n in range(5):
        await channel.send(f"post {n}")
    contents = [m.content for m in fake_discord.messages_in(papers)]
    assert contents == ["after a 500 and a 429"] + [f"post {n}" for n in range(5)]

    first = await channel.send("digest", nonce="digest-1")
    again = await channel.send("digest", nonce="digest-1")
    assert first.id == again.id
    assert [m.content for m in fake_discord.messages_in(papers)].count("digest") == 1
