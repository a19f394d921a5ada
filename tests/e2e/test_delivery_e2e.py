"""Daily digests end to end: the real PaperboyBot and discord.py against the local fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery.channels import FORBIDDEN_REASON, feed_notes
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from tests.e2e.lab import running, seeded_lab
from tests.fakediscord import FakeDiscord


async def test_digest_thread_mentions_and_no_stray_pings(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    _guild, chan, alice, bob, _admin, settings = await seeded_lab(fake, tmp_path)
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
    _guild, chan, _alice, _bob, _admin, settings = await seeded_lab(fake, tmp_path)
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
    guild, chan, _alice, _bob, admin, settings = await seeded_lab(fake, tmp_path)
    chan.set_overwrite(guild.bot_member, deny=["send_messages"])
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
    guild, chan, _alice, _bob, _admin, settings = await seeded_lab(fake, tmp_path)
    chan.set_overwrite(guild.bot_member, deny=["create_public_threads"])
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(chan.id)
        assert report.posted == 2
        feed = await bot.store.run(feeds_repo.get_feed, chan.id)
        assert feed is not None and feed.threads_refused
        assert "plain messages" in (feed_notes(feed) or "")
    messages = fake.messages_in(chan)
    assert len(messages) == 3 and fake.threads_of(chan) == []
