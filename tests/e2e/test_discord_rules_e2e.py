"""Discord's real rules end to end (real bot, real discord.py, real SQLite, the local server):
a rejected message, every channel type, a forum that requires tags, more mentions than one
message may carry, a timeout, missing Embed Links, locked threads."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from tests.e2e.lab import NOW, running, seed, seeded_lab
from tests.fakediscord import FakeDiscord
from tests.support import FakeClock, eventually, make_feed, paper, settings_for, subscribe

PAPER_MESSAGES = "/channels/{id}/messages"


async def test_a_message_discord_rejects_fails_alone_and_tomorrow_still_posts(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    clock = FakeClock(NOW)
    # The header goes through; the first paper's message is refused as an invalid form body.
    fake.server.faults.add(
        "POST", PAPER_MESSAGES, status=400, times=1, skip=1,
        body={"message": "Invalid Form Body", "code": 50035},
    )  # fmt: skip
    async with running(lab.settings, fake, clock=clock) as bot:
        assert bot.scheduler is not None
        first = await bot.scheduler.run_feed_now(lab.channel.id)
        assert first.posted == 1  # the other paper went out
        rows = await bot.store.run(ledger.deliveries_to, f"channel:{lab.channel.id}")
        failed = [r for r in rows if r.state == "failed"]
        assert len(failed) == 1 and "50035" in (failed[0].last_error or "")
        assert await bot.store.run(ledger.open_digests, f"channel:{lab.channel.id}") == []
        clock.advance(days=1)
        await bot.store.run(
            papers_repo.upsert_papers, [paper("2611.00009", "Diffusion, next day")], clock()
        )
        second = await bot.scheduler.run_feed_now(lab.channel.id)
        assert second.posted == 1
    headers = fake.messages_in(lab.channel, include_ephemeral=False)
    assert len(headers) == 2  # one digest a day, neither blocked by the rejected message


async def test_a_forum_that_requires_a_tag_gets_its_daily_post_tagged(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    forum = guild.add_forum_channel("papers", tags=["discussion", "Papers"], require_tag=True)
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    settings = settings_for(tmp_path, fake)
    await seed(settings.db, forum.id, alice.id, bob.id, admin.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(forum.id)
        assert report.posted == 2
        feed = await bot.store.run(feeds_repo.get_feed, forum.id)
        assert feed is not None and not feed.paused
    (post,) = fake.threads_of(forum)
    names = {int(t["id"]): t["name"] for t in forum.available_tags}
    assert [names[t] for t in post.applied_tags] == ["Papers"]


async def test_feeds_in_a_thread_and_in_a_voice_chat_post_plain_digests(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    text = guild.add_text_channel("general")
    thread = guild.add_thread(text, "reading group", owner=fake.bot_user)
    voice = guild.add_voice_channel("Lounge")
    settings = settings_for(tmp_path, fake)
    for place in (thread, voice):
        alice, bob, admin = (guild.add_member(f"{n}-{place.id}") for n in ("alice", "bob", "root"))
        await seed(settings.db, place.id, alice.id, bob.id, admin.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        for place in (thread, voice):
            report = await bot.scheduler.run_feed_now(place.id)
            assert report.posted == 2, report.reason
            again = await bot.scheduler.run_feed_now(place.id)
            assert again.posted == 0
    for place in (thread, voice):
        header, *papers = fake.messages_in(place, include_ephemeral=False)
        assert header.content.startswith("📰 **Papers · 26 Nov 2026**")
        assert [m.embed_titles[0] for m in papers] == [
            "Diffusion agents",
            papers[1].embed_titles[0],
        ]
        assert fake.threads_of(place) == []  # no thread was tried where none can start
    assert not any(r.status == 400 for r in fake.requests if r.path.endswith("/threads"))


async def test_120_members_matching_one_paper_are_each_mentioned_once(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    members = [lab.guild.add_member(f"reader{i}") for i in range(120)]

    def add_all(db) -> None:
        for m in members:
            subs_repo.add_personal(
                db, guild_id=lab.guild.id, user_id=m.id, channel_id=lab.channel.id,
                query="agents", normal="agents", dm=False, now=NOW,
            )  # fmt: skip

    async with running(lab.settings, fake) as bot:
        assert bot.scheduler is not None
        await bot.store.run(add_all)
        report = await bot.scheduler.run_feed_now(lab.channel.id)
        assert report.posted == 2
    (header,) = fake.messages_in(lab.channel, include_ephemeral=False)
    assert header.thread is not None
    in_thread = fake.messages_in(header.thread, include_ephemeral=False)
    # The first paper's message and its follow-ups come before the second paper's embed.
    second = next(i for i, m in enumerate(in_thread) if i and m.embeds)
    agents = in_thread[:second]
    assert agents[0].embed_titles == ["Diffusion agents"] and len(agents) >= 2
    pinged = [uid for m in agents for uid in m.mentioned_user_ids]
    expected = {m.id for m in members} | {lab.alice.id, lab.bob.id}
    assert sorted(pinged) == sorted(expected)  # everyone once, nobody twice
    assert all(len(m.content) <= 2000 and len(m.mentioned_user_ids) <= 100 for m in in_thread)


async def test_a_timed_out_bot_posts_at_the_first_run_after_the_timeout_without_resume(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    clock = FakeClock(NOW.replace(hour=9))
    fake.clock.follow(clock)
    fake.time_out_bot(lab.guild, until=NOW.replace(hour=10, minute=30))
    async with running(lab.settings, fake, clock=clock) as bot:
        assert bot.scheduler is not None
        waiting = await bot.scheduler.run_feed_now(lab.channel.id)
        assert waiting.posted == 0 and waiting.reason and "timed out" in waiting.reason
        feed = await bot.store.run(feeds_repo.get_feed, lab.channel.id)
        assert feed is not None and not feed.paused  # nobody has to type /feed resume
        clock.advance(hours=2)  # 11:00, past the timeout
        later = await bot.scheduler.run_feed_now(lab.channel.id)
        assert later.posted == 2
    assert fake.dms_to(lab.admin) == []  # no "paused" notice: nothing was paused
    assert fake.invalid_requests.total <= 1  # at most the one refusal that revealed it


async def test_missing_embed_links_pauses_the_feed_instead_of_posting_bare_papers(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    lab.channel.set_overwrite(lab.guild.bot_member, deny=["embed_links"])
    async with running(lab.settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(lab.channel.id)
        assert report.posted == 0 and report.reason and "Embed Links" in report.reason
        feed = await bot.store.run(feeds_repo.get_feed, lab.channel.id)
        assert feed is not None and feed.paused and "Embed Links" in (feed.pause_reason or "")
    assert fake.messages_in(lab.channel, include_ephemeral=False) == []


async def test_a_locked_thread_feed_pauses_with_the_reason(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    text = guild.add_text_channel("general")
    thread = guild.add_thread(text, "old", owner=fake.bot_user, archived=True, locked=True)
    alice, bob, admin = guild.add_member("alice"), guild.add_member("bob"), guild.add_member("root")
    settings = settings_for(tmp_path, fake)
    await seed(settings.db, thread.id, alice.id, bob.id, admin.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(thread.id)
        assert report.posted == 0 and report.reason and "locked" in report.reason
        feed = await bot.store.run(feeds_repo.get_feed, thread.id)
        assert feed is not None and feed.paused
        later = await bot.scheduler.run_feed_now(thread.id)
        assert later.posted == 0  # paused: no new attempt until /feed resume


async def test_deleting_a_channel_or_leaving_a_server_drops_the_feeds_jobs(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    other_guild = fake.add_guild("Other")
    other = other_guild.add_text_channel("papers")
    async with await Store.open(lab.settings.db, clock=lambda: NOW) as store:
        await make_feed(store, other.id, guild_id=other_guild.id)
        await subscribe(store, other.id, "diffusion", guild_id=other_guild.id)
    async with running(lab.settings, fake) as bot:
        scheduler = bot.scheduler
        assert scheduler is not None
        assert scheduler.next_run(lab.channel.id) and scheduler.next_run(other.id)
        lab.guild.delete_channel(lab.channel)  # CHANNEL_DELETE
        await eventually(lambda: scheduler.next_run(lab.channel.id) is None, "the job to go")
        fake.remove_bot_from_guild(other_guild)  # GUILD_DELETE
        await eventually(lambda: scheduler.next_run(other.id) is None, "the guild's job to go")
        assert await bot.store.run(feeds_repo.list_feeds) == []
        assert scheduler.scheduler.get_jobs() == [
            j for j in scheduler.scheduler.get_jobs() if not j.id.startswith("feed:")
        ]
