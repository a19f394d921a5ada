"""The real bot, started the way `paperboy run` starts it, against the local fake Discord."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import signal
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import sqlite_utils
from discord import app_commands

from bot.config import Settings
from bot.discord.client import DEFAULT_EXTENSIONS, PaperboyBot
from bot.discord.runner import run_bot
from bot.errors import UserError
from bot.store import feeds as feeds_repo
from bot.store import subscriptions as subs_repo
from tests.fakediscord import FakeDiscord, Guild
from tests.support import eventually, settings_for

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
# Teammates' cogs join DEFAULT_EXTENSIONS; these tests pin the bot's own behaviour to /help alone.
ONLY_META = ("cogs.meta",)
APOLOGY = re.compile(
    r"^Sorry, something went wrong \(error id ([0-9a-f]{8})\)\. It has been logged\.$"
)


def failing_commands() -> list[app_commands.Command]:
    """Commands that fail the ways cogs do; added to the tree before the bot syncs."""

    @app_commands.command(name="refuse", description="Refuses with a UserError")
    async def refuse(interaction: discord.Interaction) -> None:
        # The mention must stay text: error replies never ping anyone.
        raise UserError(f"{interaction.user.mention}, pick a channel first.\nNever shown.")

    @app_commands.command(name="boom", description="Fails with a bug")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @app_commands.command(name="slow-boom", description="Defers, then fails with a bug")
    async def slow_boom(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise RuntimeError("kaboom after defer")

    @app_commands.command(name="once", description="Has a cooldown")
    @app_commands.checks.cooldown(1, 60)
    async def once(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("done", ephemeral=True)

    @app_commands.command(name="admin-only", description="Needs Manage Server")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def admin_only(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("done", ephemeral=True)

    return [refuse, boom, slow_boom, once, admin_only]


@asynccontextmanager
async def running(
    settings: Settings,
    fake: FakeDiscord,
    *,
    prepare: Callable[[PaperboyBot], None] | None = None,
    extensions: Sequence[str] = ONLY_META,
) -> AsyncIterator[PaperboyBot]:
    """Run `run_bot` in a task until the block ends; yield the bot once it is ready."""
    stop = asyncio.Event()
    built: list[PaperboyBot] = []

    def on_bot(bot: PaperboyBot) -> None:
        built.append(bot)
        if prepare is not None:
            prepare(bot)

    task = asyncio.create_task(
        run_bot(settings, extensions=extensions, clock=lambda: NOW, stop=stop, on_bot=on_bot)
    )
    try:
        await fake.wait_for_commands_synced(timeout=20)
        (bot,) = built
        ready = asyncio.create_task(bot.wait_until_ready())
        await asyncio.wait({ready, task}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        assert ready.done(), f"the bot did not become ready (run_bot: {task})"
        yield bot
    finally:
        stop.set()
        code = await asyncio.wait_for(task, timeout=20)
    assert code == 0


@pytest.fixture
def world(fake_discord: FakeDiscord) -> tuple[Guild, object, object]:
    guild = fake_discord.add_guild("ML Lab")
    channel = guild.add_text_channel("papers")
    alice = guild.add_member("alice")
    return guild, channel, alice


# Online, synced, answering


async def test_comes_online_syncs_globally_and_answers_help_ephemerally(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    guild, channel, alice = world
    async with running(
        settings_for(tmp_path, fake_discord, scheduler_enabled=False), fake_discord
    ) as bot:
        assert fake_discord.identify_count == 1
        assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
        assert [g.id for g in bot.guilds] == [guild.id]
        assert [c["name"] for c in fake_discord.synced_commands()] == ["help"]
        assert fake_discord.synced_commands(guild) == []

        reply = await fake_discord.run_command(alice, channel, "help")

    assert reply.answered_in_time and reply.ephemeral
    (embed,) = reply.embeds
    assert embed["title"] == "Paperboy"
    assert "Hugging Face Daily Papers and arXiv" in embed["description"]
    (field,) = embed["fields"]
    assert field["name"] == "Commands"
    assert "`/help` — What Paperboy does and how to use it" in field["value"]
    assert fake_discord.unhandled_routes == []


async def test_help_lists_exactly_what_paperboy_run_syncs(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    """With every default extension loaded (as `paperboy run` does), /help matches the sync."""
    _guild, channel, alice = world
    settings = settings_for(tmp_path, fake_discord, scheduler_enabled=True)
    async with running(settings, fake_discord, extensions=DEFAULT_EXTENSIONS):
        reply = await fake_discord.run_command(alice, channel, "help")
    fields = reply.embeds[0]["fields"]
    listed = [line.split("`")[1] for f in fields for line in f["value"].splitlines()]
    assert sorted(listed) == sorted(f"/{n}" for n in _leaf_names(fake_discord.synced_commands()))
    assert [f["name"] for f in fields] == [
        "Commands",
        "Channel feeds (need the Manage Channels permission)",
    ]
    members, managers = ([line.split("`")[1] for line in f["value"].splitlines()] for f in fields)
    assert members[:7] == [
        "/subscribe", "/unsubscribe", "/subscriptions", "/search", "/trending", "/paper", "/saved",
    ]  # fmt: skip
    assert members[7:] == ["/dm schedule", "/dm pause", "/dm resume", "/dm status", "/help"]
    assert managers and all(name.startswith("/feed ") for name in managers)
    assert "/dm schedule" in reply.embeds[0]["description"]


def _leaf_names(commands: list[dict[str, Any]], prefix: str = "") -> list[str]:
    """Full names of the runnable (leaf) commands in a synced command payload."""
    names = []
    for command in commands:
        name = f"{prefix}{command['name']}"
        nested = [o for o in command.get("options", []) if o.get("type") in (1, 2)]
        names += _leaf_names(nested, name + " ") if nested else [name]
    return names


async def test_dev_guild_gets_the_commands_instantly_instead_of_globally(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    guild, channel, alice = world
    settings = settings_for(tmp_path, fake_discord, dev_guild=guild.id, scheduler_enabled=False)
    async with running(settings, fake_discord):
        assert [c["name"] for c in fake_discord.synced_commands(guild)] == ["help"]
        assert fake_discord.synced_commands() == []
        reply = await fake_discord.run_command(alice, channel, "help")
    assert reply.ephemeral and reply.embeds[0]["title"] == "Paperboy"


async def test_help_lists_every_command_including_subcommands(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    _guild, channel, alice = world
    group = app_commands.Group(
        name="feed",
        description="Channel digests",
        default_permissions=discord.Permissions(manage_channels=True),
    )

    @group.command(name="show", description="Show this channel's feed")
    async def show(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("feed", ephemeral=True)

    settings = settings_for(tmp_path, fake_discord, scheduler_enabled=False)
    with_group = running(settings, fake_discord, prepare=lambda bot: bot.tree.add_command(group))
    async with with_group:
        reply = await fake_discord.run_command(alice, channel, "help")
    members, managers = reply.embeds[0]["fields"]
    assert members["value"].splitlines() == ["`/help` — What Paperboy does and how to use it"]
    assert managers["name"] == "Channel feeds (need the Manage Channels permission)"
    assert managers["value"].splitlines() == ["`/feed show` — Show this channel's feed"]


# Staying connected


async def test_resumes_after_a_dropped_connection_and_a_reconnect_request(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    _guild, channel, alice = world
    async with running(settings_for(tmp_path, fake_discord, scheduler_enabled=False), fake_discord):
        await fake_discord.drop_gateway()  # network cut: no close frame
        await fake_discord.wait_for_resume(1, timeout=30)
        after_drop = await fake_discord.run_command(alice, channel, "help")

        await fake_discord.send_reconnect()  # op 7
        await fake_discord.wait_for_resume(2, timeout=30)
        after_reconnect = await fake_discord.run_command(alice, channel, "help")

        assert fake_discord.identify_count == 1  # the session was resumed, never re-created
    assert after_drop.ephemeral and after_drop.embeds[0]["title"] == "Paperboy"
    assert after_reconnect.ephemeral and after_reconnect.embeds[0]["title"] == "Paperboy"


async def test_stops_cleanly_on_sigterm(fake_discord: FakeDiscord, world, tmp_path: Path) -> None:
    stop_never_set = asyncio.Event()
    built: list[PaperboyBot] = []
    settings = settings_for(tmp_path, fake_discord, scheduler_enabled=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = asyncio.create_task(
            run_bot(settings, extensions=ONLY_META, stop=stop_never_set, on_bot=built.append)
        )
        await fake_discord.wait_until_connected(timeout=20)
        await built[0].wait_until_ready()
        os.kill(os.getpid(), signal.SIGTERM)  # handled by run_bot's loop signal handler
        code = await asyncio.wait_for(task, timeout=20)
        gc.collect()  # unclosed sessions/transports warn when collected

    bot = built[0]
    assert code == 0
    assert bot.is_closed() and bot.http_session.closed
    with pytest.raises(RuntimeError):  # the store's thread is shut down
        await bot.store.run(feeds_repo.list_feeds)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t for t in leftovers if "discord" in repr(t) or "paperboy" in t.get_name()] == []
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    # The signal handler was removed again: SIGTERM is back to its default.
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_the_token_never_reaches_a_log_record(
    fake_discord: FakeDiscord, world, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _guild, channel, alice = world
    caplog.set_level(logging.DEBUG)
    for name in ("discord", "discord.http", "discord.gateway", "discord.client"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with running(settings_for(tmp_path, fake_discord, scheduler_enabled=False), fake_discord):
        await fake_discord.run_command(alice, channel, "help")
        await fake_discord.drop_gateway()
        await fake_discord.wait_for_resume(1, timeout=30)

    texts = [r.getMessage() for r in caplog.records]
    texts += [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
    assert any("/users/@me" in t for t in texts)  # DEBUG HTTP logging really was captured
    assert any("RESUME" in t for t in texts)
    assert [t for t in texts if fake_discord.token in t] == []


# Error replies


async def test_errors_end_in_one_ephemeral_line_and_bugs_are_logged_with_an_id(
    fake_discord: FakeDiscord, world, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _guild, channel, alice = world

    def add_failing(bot: PaperboyBot) -> None:
        for command in failing_commands():
            bot.tree.add_command(command)

    caplog.set_level(logging.INFO, logger="bot.discord.client")
    async with running(
        settings_for(tmp_path, fake_discord, scheduler_enabled=False),
        fake_discord,
        prepare=add_failing,
    ):
        refused = await fake_discord.run_command(alice, channel, "refuse")
        crashed = await fake_discord.run_command(alice, channel, "boom")
        late = await fake_discord.run_command(alice, channel, "slow-boom")
        await late.wait_for_final()
        first = await fake_discord.run_command(alice, channel, "once")
        cooled = await fake_discord.run_command(alice, channel, "once")
        forbidden = await fake_discord.run_command(alice, channel, "admin-only")

    assert (refused.content, refused.ephemeral) == (f"<@{alice.id}>, pick a channel first.", True)
    assert (first.content, cooled.content) == ("done", "Slow down: try again in 60 s.")
    assert cooled.ephemeral
    assert forbidden.ephemeral and "Manage Server" in forbidden.content

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    for reply, text in ((crashed, "kaboom"), (late, "kaboom after defer")):
        assert reply.ephemeral and reply.answered_in_time
        match = APOLOGY.match(reply.content)
        assert match, reply.content
        (logged,) = [r for r in errors if match.group(1) in r.getMessage()]
        # one bounded entry: the message, then the traceback naming the exception
        assert f"RuntimeError: {text}" in logged.getMessage()
        assert "Traceback (most recent call last)" in logged.getMessage()
    assert len(errors) == 2  # refusals, cooldowns and permissions are not logged as errors
    assert late.deferred  # the apology arrived as the follow-up to the defer


async def test_nothing_the_bot_posts_pings_anyone_unless_asked(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    _guild, channel, alice = world

    @app_commands.command(name="shout", description="Posts mentions in public")
    async def shout(interaction: discord.Interaction) -> None:
        text = f"{interaction.user.mention} and @everyone, new papers"
        await interaction.response.send_message(text)
        assert interaction.channel is not None
        await interaction.channel.send(text)  # type: ignore[union-attr]

    settings = settings_for(tmp_path, fake_discord, scheduler_enabled=False)
    async with running(settings, fake_discord, prepare=lambda b: b.tree.add_command(shout)):
        reply = await fake_discord.run_command(alice, channel, "shout")
        posted = await fake_discord.wait_for_message(
            lambda m: m.channel is channel and m.interaction_id is None and "papers" in m.content
        )
    assert reply.message is not None and not reply.ephemeral
    for message in (reply.message, posted):
        assert message.content == f"<@{alice.id}> and @everyone, new papers"
        assert (message.mentioned_user_ids, message.mention_everyone) == (set(), False)


# Cleaning up after guilds and channels


def _count(db: sqlite_utils.Database, table: str, guild_id: int) -> int:
    return db.execute(f"SELECT count(*) FROM {table} WHERE guild_id = ?", [guild_id]).fetchone()[0]


def _seed(db: sqlite_utils.Database, guild_id: int, channel_id: int, user_id: int) -> None:
    feeds_repo.ensure_feed(
        db,
        channel_id=channel_id,
        guild_id=guild_id,
        schedule_time="09:00",
        timezone="UTC",
        sources="hf",
        created_by=user_id,
        now=NOW,
    )
    subs_repo.add_personal(
        db,
        guild_id=guild_id,
        user_id=user_id,
        channel_id=channel_id,
        query="diffusion",
        normal="diffusion",
        dm=False,
        now=NOW,
    )
    subs_repo.add_channel(
        db,
        guild_id=guild_id,
        channel_id=channel_id,
        query="llm",
        normal="llm",
        added_by=user_id,
        now=NOW,
    )


TABLES = ("feeds", "personal_subscriptions", "channel_subscriptions")


async def test_leaving_a_guild_forgets_its_feeds_and_subscriptions(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    guild, channel, alice = world
    other = fake_discord.add_guild("Other Lab")
    other_channel = other.add_text_channel("general")
    async with running(
        settings_for(tmp_path, fake_discord, scheduler_enabled=False), fake_discord
    ) as bot:
        await bot.store.run(_seed, guild.id, channel.id, alice.id)
        await bot.store.run(_seed, other.id, other_channel.id, alice.id)

        # Kicked: Discord sends GUILD_DELETE without `unavailable`.
        fake_discord.remove_bot_from_guild(guild)

        def gone(db: sqlite_utils.Database) -> bool:
            return all(_count(db, t, guild.id) == 0 for t in TABLES)

        await eventually(lambda: bot.store.run(gone), "the listener to forget them")
        kept = await bot.store.run(lambda db: [_count(db, t, other.id) for t in TABLES])
    assert kept == [1, 1, 1]


async def test_a_deleted_channel_takes_its_feed_and_subscriptions_along(
    fake_discord: FakeDiscord, world, tmp_path: Path
) -> None:
    guild, channel, alice = world
    kept_channel = guild.add_text_channel("kept")
    bob = guild.add_member("bob")
    async with running(
        settings_for(tmp_path, fake_discord, scheduler_enabled=False), fake_discord
    ) as bot:
        await bot.store.run(_seed, guild.id, channel.id, alice.id)
        await bot.store.run(_seed, guild.id, kept_channel.id, bob.id)

        guild.delete_channel(channel)  # the bot gets CHANNEL_DELETE

        def gone(db: sqlite_utils.Database) -> bool:
            return feeds_repo.get_feed(db, channel.id) is None and not subs_repo.list_channel(
                db, channel.id
            )

        await eventually(lambda: bot.store.run(gone), "the listener to forget them")
        kept = await bot.store.run(lambda db: [_count(db, t, guild.id) for t in TABLES])
    assert kept == [1, 1, 1]
