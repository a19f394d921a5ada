"""Daily digests end to end for a deleted channel (404 → disabled), a forum channel, and a
request Discord never answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from tests.e2e.lab import NOW, running, seeded_lab
from tests.fakediscord import FakeDiscord
from tests.support import paper


async def test_deleted_channel_disables_the_feed_and_drops_its_job(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild, chan, _alice, _bob, _admin, settings = await seeded_lab(fake, tmp_path)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        assert bot.scheduler.next_run(chan.id) is not None
        # Deleted on the server without the bot hearing of it (as if it happened while it was
        # offline): its cache still has the channel, the API answers 404 Unknown Channel.
        guild.delete_channel(chan, notify=False)
        report = await bot.scheduler.run_feed_now(chan.id)
        assert report.reason == "this feed is disabled: its channel is gone"
        feed = await bot.store.run(feeds_repo.get_feed, chan.id)
        assert feed is not None and feed.disabled
        await bot.scheduler.refresh(chan.id)  # the job drop runs in a task: wait for its result
        assert bot.scheduler.next_run(chan.id) is None
        assert bot.scheduler.scheduler.get_job(f"feed:{chan.id}") is None
        again = await bot.scheduler.run_feed_now(chan.id)
        assert again.posted == 0 and again.reason == report.reason
    assert fake.messages_in(chan, include_ephemeral=False) == []
    assert not any(r.status == 200 and "/messages" in r.path for r in fake.requests)
    # The bot checked with the API rather than trusting its stale cache.
    assert ("GET", f"/channels/{chan.id}", 404) in {
        (r.method, r.path, r.status) for r in fake.requests
    }


async def test_forum_feed_posts_one_post_with_header_and_one_message_per_paper(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    _guild, forum, alice, bob, _admin, settings = await seeded_lab(fake, tmp_path, forum=True)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(forum.id)
        assert report.posted == 2
        again = await bot.scheduler.run_feed_now(forum.id)
        assert again.posted == 0
        sent = await bot.store.run(ledger.deliveries_to, f"channel:{forum.id}")

    (post,) = fake.threads_of(forum)  # one post for the day, even after a second run
    assert post.name == "Papers · 26 Nov 2026"
    starter, first, second = fake.messages_in(post)
    assert starter.content.startswith("📰 **Papers · 26 Nov 2026** — 2 new papers")
    assert starter.mentioned_user_ids == set()
    assert first.embed_titles == ["Diffusion agents"] and first.mentioned_user_ids == {
        alice.id,
        bob.id,
    }
    assert second.mentioned_user_ids == {bob.id} and not second.mention_everyone
    assert {(d.state, d.thread_id) for d in sent} == {("sent", post.id)}


async def test_a_later_run_the_same_day_adds_its_papers_to_the_days_forum_post(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    _guild, forum, _alice, bob, _admin, settings = await seeded_lab(fake, tmp_path, forum=True)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        assert (await bot.scheduler.run_feed_now(forum.id)).posted == 2
        # Listed after the first digest, the same day: /feed post-now brings it.
        await bot.store.run(
            papers_repo.upsert_papers, [paper("2611.00004", "Diffusion late", upvotes=9)], NOW
        )
        later = await bot.scheduler.run_feed_now(forum.id)
        assert later.posted == 1
        sent = await bot.store.run(ledger.deliveries_to, f"channel:{forum.id}")

    (post,) = fake.threads_of(forum)  # not a second post with the same name
    assert post.name == "Papers · 26 Nov 2026"
    messages = fake.messages_in(post)
    urls = [e["url"].rsplit("/", 1)[-1] for m in messages[1:] for e in m.embeds]
    assert urls == ["2611.00001", "2611.00002", "2611.00004"]  # each once, in the one post
    assert messages[3].mentioned_user_ids == {bob.id}
    assert {(d.state, d.thread_id) for d in sent} == {("sent", post.id)}
    assert len(sent) == 3


async def test_request_timeout_setting_bounds_a_request_discord_never_answers(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    _guild, chan, _alice, _bob, _admin, settings = await seeded_lab(
        fake, tmp_path, discord_request_timeout=1.0
    )
    # The header is created, but its answer never comes (until the server closes).
    hung = fake.lose_responses("POST", "/channels/{id}/messages", how="hang")
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        # Bounded by the test, not by the bot: the default 60 s would fail here, not stall.
        first = await asyncio.wait_for(bot.scheduler.run_feed_now(chan.id), timeout=20)
        assert first.posted == 0
        assert first.reason and "no answer from Discord within 1 s" in first.reason
        again = await asyncio.wait_for(bot.scheduler.run_feed_now(chan.id), timeout=20)
        assert again.posted == 2
    assert hung.hits == 1
    (header,) = fake.messages_in(chan)  # the unanswered header was found, not posted again
    assert header.thread is not None and len(fake.messages_in(header.thread)) == 2
