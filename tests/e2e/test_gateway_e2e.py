"""The gateway as `paperboy run` meets it through the local server: a bot in more servers than
one shard may hold connects with the shard count Discord recommends and serves commands on every
shard; close codes a restart cannot fix end the process with exit 2 and one line."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.discord import client as client_module
from bot.discord.runner import EXIT_CONFIG, EXIT_FAILED, run_bot
from tests.e2e.lab import running
from tests.fakediscord import FakeDiscord
from tests.fakediscord.sharding import shard_of
from tests.support import add_guilds_on_alternate_shards, settings_for


async def test_more_servers_than_a_shard_holds_runs_on_the_recommended_shards(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    guilds = add_guilds_on_alternate_shards(fake, 4)
    fake.sharding.max_guilds_per_shard = 2  # four servers: one shard would be closed with 4011
    fake.sharding.recommended_shards = 2
    places = []
    for guild in guilds:
        places.append((guild.add_text_channel("papers"), guild.add_member("alice")))

    settings = settings_for(tmp_path, fake, scheduler_enabled=False)
    async with running(settings, fake) as bot:
        assert bot.shard_count == 2
        sessions = sorted(s.shard for s in fake.server.gateway.sessions.values())
        assert sessions == [(0, 2), (1, 2)]
        assert sorted(g.id for g in bot.guilds) == sorted(g.id for g in guilds)
        replies = [await fake.run_command(alice, channel, "help") for channel, alice in places]
        assert bot.gateway_up

    # Each server's interaction reached only the shard that holds it, and every one was answered.
    assert {shard_of(g.id, 2) for g in guilds} == {0, 1}
    for reply in replies:
        assert reply.answered_in_time and reply.ephemeral
        assert reply.embeds[0]["title"] == "Paperboy"
    assert 4011 not in fake.gateway_closes
    assert fake.identify_count == 2


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


async def test_a_reset_token_4004_exits_2_with_one_line(
    fake_discord: FakeDiscord, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Past 1,000 IDENTIFYs in a day Discord resets the token and closes with 4004.
    fake_discord.sharding.identify_budget = 0
    code = await run_bot(settings_for(tmp_path, fake_discord, scheduler_enabled=False))
    line = _one_line(capsys.readouterr().err)
    assert code == EXIT_CONFIG
    assert fake_discord.gateway_closes == [4004]
    assert line.startswith("Discord closed the gateway with 4004 (authentication failed)")
    assert "Reset" in line and "PAPERBOY_DISCORD_TOKEN" in line


async def test_sharding_required_4011_exits_2_with_one_line(
    fake_discord: FakeDiscord, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        fake_discord.add_guild(f"guild {n}")
    fake_discord.sharding.max_guilds_per_shard = 2
    fake_discord.sharding.recommended_shards = 1  # Discord's recommendation falls short
    code = await run_bot(settings_for(tmp_path, fake_discord, scheduler_enabled=False))
    line = _one_line(capsys.readouterr().err)
    assert code == EXIT_CONFIG
    assert fake_discord.gateway_closes == [4011]
    assert line.startswith("Discord closed the gateway with 4011 (sharding required)")
    assert "Start it again" in line


async def test_a_disallowed_privileged_intent_4014_exits_2_with_one_line(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A bot that asks for the members intent the portal has not enabled.
    monkeypatch.setattr(
        client_module, "bot_intents", lambda: discord.Intents(guilds=True, members=True)
    )
    fake_discord.server.gateway.allowed_privileged = set()
    code = await run_bot(settings_for(tmp_path, fake_discord, scheduler_enabled=False))
    line = _one_line(capsys.readouterr().err)
    assert code == EXIT_CONFIG
    assert fake_discord.gateway_closes == [4014]
    assert "Privileged Gateway Intents" in line


async def test_no_answer_from_gateway_bot_is_one_line_and_a_retryable_exit(
    fake_discord: FakeDiscord, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_discord.inject_faults("GET", "/gateway/bot", status=404)
    code = await run_bot(settings_for(tmp_path, fake_discord, scheduler_enabled=False))
    line = _one_line(capsys.readouterr().err)
    assert code == EXIT_FAILED  # worth restarting: nothing for a person to fix
    assert "GET /gateway/bot" in line and fake_discord.identify_count == 0
