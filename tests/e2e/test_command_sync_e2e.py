"""Publishing the slash commands through the local server: a restart syncs only when the command
tree changed, `paperboy sync` forces it, dev-server mode leaves no command showing twice, and
the commands are installed in servers only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.cli import main
from bot.discord.client import DEFAULT_EXTENSIONS, PaperboyBot
from tests.e2e.lab import running
from tests.fakediscord import CommandError, FakeDiscord, Guild, Member
from tests.fakediscord.state import Channel
from tests.support import settings_for


def command_puts(fake: FakeDiscord) -> list[str]:
    """The bulk-overwrite (sync) requests the bot sent, in order."""
    return [r.path for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]


def names(commands: list[dict[str, Any]]) -> list[str]:
    return sorted(c["name"] for c in commands)


def add_ping(bot: PaperboyBot) -> None:
    """A command the previous start did not have: the tree changed."""

    @app_commands.command(name="ping", description="Answers pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    bot.tree.add_command(ping)


@pytest.fixture
def lab(fake_discord: FakeDiscord) -> tuple[Guild, Channel, Member]:
    guild = fake_discord.add_guild("ML Lab")
    return guild, guild.add_text_channel("papers"), guild.add_member("alice")


async def test_a_restart_syncs_only_when_the_command_tree_changed(
    fake_discord: FakeDiscord, lab: tuple[Guild, Channel, Member], tmp_path: Path
) -> None:
    fake = fake_discord
    _guild, channel, alice = lab
    settings = settings_for(tmp_path, fake, scheduler_enabled=False)
    async with running(settings, fake) as first:
        assert first.command_sync is not None and first.command_sync.synced
    assert len(command_puts(fake)) == 1

    async with running(settings, fake) as again:
        reply = await fake.run_command(alice, channel, "help")
        assert again.command_sync is not None and not again.command_sync.synced
    assert len(command_puts(fake)) == 1  # same tree: Discord was not asked again
    assert reply.embeds[0]["title"] == "Paperboy"  # and the commands still work

    async with running(settings, fake, prepare=add_ping):
        pong = await fake.run_command(alice, channel, "ping")
    assert len(command_puts(fake)) == 2  # a new command: synced
    assert names(fake.synced_commands()) == ["help", "ping"]
    assert pong.content == "pong"


async def test_a_sync_discord_refused_is_tried_again_at_the_next_start(
    fake_discord: FakeDiscord, lab: tuple[Guild, Channel, Member], tmp_path: Path
) -> None:
    fake = fake_discord
    _guild, channel, alice = lab
    settings = settings_for(tmp_path, fake, scheduler_enabled=False)
    missing_scope = {"code": 50001, "message": "Missing Access"}
    fake.inject_faults("PUT", "/applications/{id}/commands", status=403, body=missing_scope)
    async with running(settings, fake) as refused:
        report = refused.command_sync
        assert report is not None and not report.synced
        assert report.error is not None and "applications.commands scope" in report.error
    assert fake.synced_commands() == []

    async with running(settings, fake) as again:
        assert again.command_sync is not None and again.command_sync.synced
        reply = await fake.run_command(alice, channel, "help")
    assert names(fake.synced_commands()) == ["help"]
    assert reply.embeds[0]["title"] == "Paperboy"


async def test_paperboy_sync_forces_a_sync_and_the_next_start_skips_it(
    fake_discord: FakeDiscord,
    lab: tuple[Guild, Channel, Member],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = fake_discord
    settings = settings_for(tmp_path, fake, scheduler_enabled=False)
    async with running(settings, fake, extensions=DEFAULT_EXTENSIONS):
        pass
    assert len(command_puts(fake)) == 1
    expected = names(fake.synced_commands())

    # The operator's command, with the same tree the bot has already published.
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    for key, value in {
        "PAPERBOY_DB": str(settings.db),
        "PAPERBOY_DISCORD_TOKEN": fake.token,
        "PAPERBOY_DISCORD_API_URL": fake.api_url,
        "PAPERBOY_DISCORD_GATEWAY_URL": fake.gateway_url,
    }.items():
        monkeypatch.setenv(key, value)
    code = await asyncio.to_thread(main, ["sync"])
    out = capsys.readouterr().out.strip()
    assert code == 0
    assert len(command_puts(fake)) == 2  # forced, although nothing changed
    assert out == f"Synced {len(expected)} commands to all servers ({', '.join(expected)})"
    assert fake.identify_count == 1  # REST only: `paperboy sync` never opened a gateway session

    async with running(settings, fake, extensions=DEFAULT_EXTENSIONS):
        pass
    assert len(command_puts(fake)) == 2  # what `paperboy sync` published is remembered


async def test_paperboy_sync_with_a_rejected_token_is_one_line_and_exit_2(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "paperboy.db"))
    monkeypatch.setenv("PAPERBOY_DISCORD_TOKEN", "not.the.token-the-server-knows")
    monkeypatch.setenv("PAPERBOY_DISCORD_API_URL", fake_discord.api_url)
    code = await asyncio.to_thread(main, ["sync"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.splitlines() == [err] and "rejected the token" in err
    assert command_puts(fake_discord) == []


async def test_dev_server_mode_removes_global_copies_and_leaving_it_removes_its_own(
    fake_discord: FakeDiscord, lab: tuple[Guild, Channel, Member], tmp_path: Path
) -> None:
    fake = fake_discord
    guild, channel, alice = lab
    in_production = settings_for(tmp_path, fake, scheduler_enabled=False)
    in_development = settings_for(tmp_path, fake, scheduler_enabled=False, dev_guild=guild.id)
    async with running(in_production, fake):
        pass
    assert names(fake.synced_commands()) == ["help"]

    async with running(in_development, fake) as bot:
        # Each command shows once in the dev server: its own copy, no global one beside it.
        assert names(fake.synced_commands(guild)) == ["help"]
        assert fake.synced_commands() == []
        reply = await fake.run_command(alice, channel, "help")
        assert bot.command_sync is not None and bot.command_sync.cleared == ("all servers",)
    assert reply.embeds[0]["title"] == "Paperboy"

    async with running(in_production, fake):
        pass
    assert names(fake.synced_commands()) == ["help"]
    assert fake.synced_commands(guild) == []  # the former dev server's copies are gone


async def test_commands_are_installed_in_servers_only_and_guild_only_ones_stay_out_of_dms(
    fake_discord: FakeDiscord, lab: tuple[Guild, Channel, Member], tmp_path: Path
) -> None:
    fake = fake_discord
    _guild, _channel, alice = lab
    settings = settings_for(tmp_path, fake, scheduler_enabled=False)
    async with running(settings, fake, extensions=DEFAULT_EXTENSIONS):
        dm = fake.world.dm_channel(alice.user)
        help_in_dm = await fake.run_command(alice, dm, "help")
        with pytest.raises(CommandError, match="not available in DMs"):
            await fake.run_command(alice, dm, "subscribe", query="diffusion")
    synced = {c["name"]: c for c in fake.synced_commands()}
    # A user install could run commands where the bot isn't: only server installs exist.
    assert {n: c["integration_types"] for n, c in synced.items()} == {n: [0] for n in synced}
    assert synced["subscribe"]["contexts"] == [0] and synced["feed"]["contexts"] == [0]
    assert synced["help"]["contexts"] == [0, 1]  # servers and the bot's own DM, nowhere else
    assert help_in_dm.embeds[0]["title"] == "Paperboy"
