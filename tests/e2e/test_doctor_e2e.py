"""`paperboy doctor` against the local Discord-compatible server and local source servers, with
and without a running bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli import main
from bot.store import Store
from tests.e2e.lab import running
from tests.fakediscord import FakeDiscord
from tests.support import latest_migration, make_feed, settings_for


@pytest.fixture
async def sources_up() -> AsyncIterator[str]:
    """Hugging Face and arXiv stand-ins on 127.0.0.1 that answer 200 to anything."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="[]")

    app = web.Application()
    app.router.add_get("/{tail:.*}", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def point_env(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord, db: Path) -> None:
    monkeypatch.chdir(db.parent)  # no stray .env from the checkout
    monkeypatch.setenv("PAPERBOY_DB", str(db))
    monkeypatch.setenv("PAPERBOY_DISCORD_TOKEN", fake.token)
    monkeypatch.setenv("PAPERBOY_DISCORD_API_URL", fake.api_url)
    monkeypatch.setenv("PAPERBOY_DISCORD_GATEWAY_URL", fake.gateway_url)


async def doctor() -> int:
    # `paperboy doctor` runs its own event loop, as from a shell; the fake server stays on ours.
    return await asyncio.to_thread(main, ["doctor"])


async def test_doctor_names_the_missing_permission_per_feed_channel(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    fake = fake_discord
    guild = fake.add_guild("Lab")
    papers, forum = guild.add_text_channel("papers"), guild.add_forum_channel("paper-forum")
    hidden = guild.add_text_channel("secret")
    papers.set_overwrite(guild.bot_member, deny=["embed_links"])
    hidden.set_overwrite(guild, deny=["view_channel"])
    db = tmp_path / "paperboy.db"
    async with await Store.open(db) as store:
        for channel in (papers, forum, hidden):
            await make_feed(store, channel.id, guild_id=guild.id)
    point_env(monkeypatch, fake, db)

    assert await doctor() == 1
    out = capsys.readouterr().out
    assert "✓ token valid: application 'Paperboy', bot 'Paperboy'" in out
    assert "✗ Lab #papers: missing Embed Links" in out
    assert "✓ Lab #paper-forum: permissions ok" in out
    assert "missing View Channel (the bot cannot see this channel)" in out
    assert "09:00 Europe/Berlin, every day; next run" in out
    assert "✗ Hugging Face unreachable" in out  # the conftest points sources at a dead port
    assert f"integrity ok, schema {latest_migration()}" in out


async def test_doctor_all_well_while_the_bot_runs(
    discord_at_fake: FakeDiscord,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    sources_up: str,
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    channel = guild.add_text_channel("papers")
    settings = settings_for(tmp_path, fake)
    async with await Store.open(settings.db) as store:
        await make_feed(store, channel.id, guild_id=guild.id)
    point_env(monkeypatch, fake, settings.db)
    monkeypatch.setenv("PAPERBOY_HF_API_URL", f"{sources_up}/api")
    monkeypatch.setenv("PAPERBOY_ARXIV_RSS_URL", f"{sources_up}/rss")
    async with running(settings, fake):
        code = await doctor()
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.rstrip().endswith("All well.")
    assert "✓ Lab #papers: permissions ok" in out
    assert "✓ arXiv reachable (last success never)" in out


async def test_doctor_without_servers_prints_the_invite_url(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    point_env(monkeypatch, fake_discord, tmp_path / "new.db")
    assert await doctor() == 1
    out = capsys.readouterr().out
    invite = f"https://discord.com/oauth2/authorize?client_id={fake_discord.application_id}"
    assert f"the bot is in no server: invite it with {invite}" in out
    assert "not created yet" in out
    assert not (tmp_path / "new.db").exists()  # the doctor changes nothing


async def test_doctor_with_a_rejected_token(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    point_env(monkeypatch, fake_discord, tmp_path / "x.db")
    monkeypatch.setenv("PAPERBOY_DISCORD_TOKEN", "not-the-token")
    assert await doctor() == 1
    assert "✗ token: Discord rejected the token (401)" in capsys.readouterr().out
