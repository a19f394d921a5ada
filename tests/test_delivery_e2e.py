"""Daily digests end to end: the real PaperboyBot and discord.py against the local fake Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.delivery import FORBIDDEN_REASON
from bot.discord_client import PaperboyBot
from bot.runner import run_bot
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from tests.delivery_support import make_feed, paper, subscribe
from tests.fakediscord import FakeDiscord

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, an hour before the feed


@pytest.fixture(autouse=True)
def restore_discord_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    gateway = discord.gateway.DiscordWebSocket
    monkeypatch.setattr(gateway, "DEFAULT_GATEWAY", gateway.DEFAULT_GATEWAY)


def settings_for(fake: FakeDiscord, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        db=tmp_path / "paperboy.db",
        discord_token=SecretStr(fake.token),
        discord_api_url=fake.api_url,
        discord_gateway_url=fake.gateway_url,
        poll_sources=False,
    )


@asynccontextmanager
async def running(settings: Settings, fake: FakeDiscord) -> AsyncIterator[PaperboyBot]:
    stop = asyncio.Event()
    built: list[PaperboyBot] = []
    made = asyncio.Event()

    def on_bot(bot: PaperboyBot) -> None:
        built.append(bot)
        made.set()

    task = asyncio.create_task(
        run_bot(settings, extensions=("cogs.meta",), clock=lambda: NOW, stop=stop, on_bot=on_bot)
    )
    try:
        await asyncio.wait_for(made.wait(), timeout=20)
        (bot,) = built
        await asyncio.wait_for(bot.wait_until_ready(), timeout=20)
        yield bot
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


async def seed(db: Path, channel_id: int, alice: int, bob: int, creator: int) -> None:
    async with await Store.open(db, clock=lambda: NOW) as store:
        await make_feed(store, channel_id, created_by=creator, created=NOW)
        await subscribe(store, channel_id, "diffusion")
        await subscribe(store, channel_id, "agents", user=alice)
        await subscribe(store, channel_id, "diffusion", user=bob)
        await store.run(
            papers_repo.upsert_papers,
            [
                paper("2611.00001", "Diffusion agents", upvotes=3, thumbnail="https://cdn/x.png"),
                paper("2611.00002", f"Diffusion @everyone <@{alice}> @here", upvotes=1),
                paper("2611.00003", "Optics", upvotes=50),
            ],
            NOW - timedelta(hours=2),
        )


async def test_digest_thread_mentions_and_no_stray_pings(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    chan = guild.add_text_channel("papers")
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    settings = settings_for(fake, tmp_path)
    await seed(settings.db, chan.id, alice.id, bob.id, admin.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        assert bot.scheduler.next_run(chan.id) == datetime(2026, 11, 26, 8, tzinfo=UTC)
        report = await bot.scheduler.run_feed_now(chan.id)
        assert (report.posted, report.matched, report.listed) == (2, 2, 3)

    (header,) = fake.messages_in(chan)
    assert header.content.startswith("📰 **Papers · 26 Nov 2026** — 2 new papers")
    assert header.mentioned_user_ids == set() and not header.mention_everyone
    thread = header.thread
    assert thread is not None and thread.name == "Papers · 26 Nov 2026"
    first, second = fake.messages_in(thread)
    assert first.embed_titles == ["Diffusion agents"]
    assert first.embeds[0]["url"] == "https://arxiv.org/abs/2611.00001"
    assert first.embeds[0]["thumbnail"]["url"] == "https://cdn/x.png"
    assert first.mentioned_user_ids == {alice.id, bob.id}
    # The title says @everyone and mentions alice: only bob (whose subscription matched) is pinged.
    assert second.mentioned_user_ids == {bob.id}
    assert not second.mention_everyone and not header.mention_everyone
    assert all(m.nonce for m in (header, first, second))


async def test_two_runs_and_restart_post_each_paper_once(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    chan = guild.add_text_channel("papers")
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    settings = settings_for(fake, tmp_path)
    await seed(settings.db, chan.id, alice.id, bob.id, admin.id)
    errors = fake.inject_faults("POST", "/channels/{id}/messages", status=500, times=2)
    limited = fake.inject_faults("POST", "/channels/{id}/messages", status=429, times=1)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(chan.id)
        again = await bot.scheduler.run_feed_now(chan.id)
        assert again.posted == 0
    async with running(settings, fake) as bot:  # restart: nothing is made up twice
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(chan.id)
    (header,) = fake.messages_in(chan)
    assert header.thread is not None
    urls = [e["url"] for m in fake.messages_in(header.thread) for e in m.embeds]
    assert sorted(urls) == ["https://arxiv.org/abs/2611.00001", "https://arxiv.org/abs/2611.00002"]
    assert errors.hits == 2 and limited.hits == 1  # the faults really happened


async def test_missing_permission_pauses_and_tells_the_creator_once(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    chan = guild.add_text_channel("papers")
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    chan.set_overwrite(guild.bot_member, deny=["send_messages"])
    settings = settings_for(fake, tmp_path)
    await seed(settings.db, chan.id, alice.id, bob.id, admin.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(chan.id)
        assert report.reason == FORBIDDEN_REASON
        await bot.scheduler.run_feed_now(chan.id)
        feed = await bot.store.run(feeds_repo.get_feed, chan.id)
        assert feed is not None and feed.paused and feed.pause_reason == FORBIDDEN_REASON
        assert bot.scheduler.next_run(chan.id) is None
        pending = await bot.store.run(ledger.deliveries_to, f"channel:{chan.id}")
        assert {d.state for d in pending} == {"pending"}
    assert fake.messages_in(chan) == []
    (notice,) = fake.dms_to(admin)
    assert "missing a permission" in notice.content


async def test_thread_refused_posts_plain_messages_and_notes_it(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    chan = guild.add_text_channel("papers")
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    chan.set_overwrite(guild.bot_member, deny=["create_public_threads"])
    settings = settings_for(fake, tmp_path)
    await seed(settings.db, chan.id, alice.id, bob.id, admin.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(chan.id)
        assert report.posted == 2
        feed = await bot.store.run(feeds_repo.get_feed, chan.id)
        assert feed is not None and feed.notes and "plain messages" in feed.notes
    messages = fake.messages_in(chan)
    assert len(messages) == 3 and fake.threads_of(chan) == []
