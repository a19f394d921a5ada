"""/saved end to end (pages, Remove, exports, privacy, a paper deleted, in a DM after leaving the
server), the reader's buttons on DM digests, and a mute honoured by the next digest."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from bot.store import papers as papers_repo
from bot.store import reading_list as lists
from bot.store import subscriptions as subs_repo
from tests.e2e.lab import NOW, running, seeded_lab
from tests.e2e.reading_support import (
    EXTENSIONS,
    answer,
    click,
    custom_id,
    labels,
    paper_ids,
    posted_lab,
    reading_bot,
)
from tests.fakediscord import FakeDiscord
from tests.support import FakeClock, paper, subscribe

EMPTY = "Your reading list is empty: press Save 🔖 under any paper Paperboy posts."


async def test_saved_lists_pages_removes_and_exports(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    papers = [paper(f"2611.{n:05d}", f"Study {n}") for n in range(10, 17)]
    clock = FakeClock(NOW)
    async with running(lab.settings, fake, extensions=EXTENSIONS, clock=clock) as bot:
        await bot.store.run(papers_repo.upsert_papers, papers, NOW)
        for p in papers:  # saved one a minute apart: Study 16 is the newest
            clock.advance(minutes=1)
            await bot.store.run(lists.save_paper, lab.alice.id, p, clock())

        first = await fake.run_command(lab.alice, lab.channel, "saved")
        page = first.message
        assert page is not None and first.ephemeral
        lines = page.content.splitlines()
        assert lines[0] == "🔖 **Your reading list** — page 1 of 2 · 7 papers"
        assert [line.split("[", 1)[1].split("]")[0] for line in lines[1:]] == [
            "Study 16", "Study 15", "Study 14", "Study 13", "Study 12"
        ]  # fmt: skip
        assert lines[1].endswith("— Ada Lovelace et al. · 2026 · arXiv:2611.00016")
        assert labels(page) == [
            ["Previous", "Next"],
            ["Remove 1", "Remove 2", "Remove 3", "Remove 4", "Remove 5"],
        ]

        await click(fake, lab.alice, page, custom_id(page, "pb:saved:next:"))
        assert page.content.splitlines()[0] == "🔖 **Your reading list** — page 2 of 2 · 7 papers"
        assert labels(page)[1] == ["Remove 6", "Remove 7"]
        await click(fake, lab.alice, page, custom_id(page, "pb:saved:rm:5:2611.00010"))
        assert page.content.splitlines()[0] == "🔖 **Your reading list** — page 2 of 2 · 6 papers"
        saved = await bot.store.run(lists.all_saved, lab.alice.id)
        assert "2611.00010" not in [p.paper_id for p in saved] and len(saved) == 6

        bib = await fake.run_command(lab.alice, lab.channel, "saved", export="bibtex")
        assert bib.ephemeral and bib.content == "Your reading list (6 papers) as BibTeX."
        assert [a["filename"] for a in bib.message.attachments] == ["paperboy-saved.bib"]  # type: ignore[union-attr]
        md = await fake.run_command(lab.alice, lab.channel, "saved", export="markdown")
        assert [a["filename"] for a in md.message.attachments] == ["paperboy-saved.md"]  # type: ignore[union-attr]

        # bob's list is his own: empty, and his clicks on alice's page show his list
        mine = await fake.run_command(lab.bob, lab.channel, "saved")
        assert mine.content == EMPTY and mine.ephemeral
        theirs = await click(fake, lab.bob, page, custom_id(page, "pb:saved:rm:5:2611.00011"))
        assert answer(theirs).content == EMPTY
        assert len(await bot.store.run(lists.all_saved, lab.alice.id)) == 6
        empty_export = await fake.run_command(lab.bob, lab.channel, "saved", export="bibtex")
        assert empty_export.content == EMPTY


async def test_saved_papers_outlive_the_paper_and_the_server(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:
        await click(fake, lab.alice, posted["2611.00001"], "pb:save:2611.00001")

        def forget(db: sqlite_utils.Database) -> None:
            db.execute("DELETE FROM papers WHERE id = '2611.00001'")

        await bot.store.run(forget)
        del lab.guild.members[lab.alice.id]  # alice left the server
        dm = fake.world.dm_channel(lab.alice.user)
        listed = await fake.run_command(lab.alice.user, dm, "saved")
        assert listed.content.splitlines()[1].startswith("1. [Diffusion agents]")
        bib = await fake.run_command(lab.alice.user, dm, "saved", export="bibtex")
        assert bib.content == "Your reading list (1 paper) as BibTeX."


async def test_dm_digests_carry_the_buttons_and_similar_makes_a_dm_subscription(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:
        await subscribe(bot.store, lab.channel.id, "diffusion", user=lab.alice.id, dm=True)
        assert bot.scheduler is not None
        await bot.scheduler.run_dm_digests_now()
        (dm,) = fake.dms_to(lab.alice)
        assert paper_ids(dm) == ["2611.00001", "2611.00002"]
        assert labels(dm) == [["Save", "Similar", "Not for me"]] * 2

        similar = answer(await click(fake, lab.alice, dm, "pb:similar:2611.00001"))
        assert similar.content.startswith("Subscribed to `like:2611.00001`: daily by DM.")
        mine = await bot.store.run(subs_repo.dm_subscriptions_of, lab.alice.id)
        assert [s.normal for s in mine] == ["diffusion", "like:2611.00001"]

        changed = answer(await click(fake, lab.alice, dm, "pb:nfm:2611.00002"))
        assert changed.content == (  # both of her DM subscriptions match the paper
            "🔕 Not for me: changed `diffusion -like:2611.00002`,"
            " `like:2611.00001 -like:2611.00002` so papers like this one stop matching."
        )
        await click(fake, lab.alice, changed, custom_id(changed, "pb:undo:nfm:"))
        mine = await bot.store.run(subs_repo.dm_subscriptions_of, lab.alice.id)
        assert [s.normal for s in mine] == ["diffusion", "like:2611.00001"]


async def test_a_mute_stops_mentions_for_similar_papers_in_later_digests(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    clock = FakeClock(NOW)
    async with running(lab.settings, fake, extensions=EXTENSIONS, clock=clock) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(lab.channel.id)
        (thread,) = fake.threads_of(lab.channel)
        (message,) = [
            m for m in fake.messages_in(thread) if paper_ids(m) == ["2611.00002"]
        ]  # from the channel's own "diffusion"; alice's "agents" did not match it
        muted = answer(await click(fake, lab.alice, message, "pb:nfm:2611.00002"))
        assert "won't mention you" in muted.content

        clock.advance(hours=1)
        later = [
            paper("2611.00004", f"Diffusion @everyone <@{lab.alice.id}> @here agents"),
            paper("2611.00005", "Planning agents with tools"),
        ]
        await bot.store.run(papers_repo.upsert_papers, later, clock())
        clock.advance(minutes=1)
        report = await bot.scheduler.run_feed_now(lab.channel.id)
        assert report.posted == 2
        mentions = {
            paper_ids(m)[0]: m.mentioned_user_ids
            for t in fake.threads_of(lab.channel)
            for m in fake.messages_in(t, include_ephemeral=False)
            if paper_ids(m)
        }
        assert lab.alice.id not in mentions["2611.00004"]  # like the muted paper
        assert lab.alice.id in mentions["2611.00005"]  # not like it: mentioned as ever


async def test_a_similar_subscription_brings_similar_papers_in_the_next_digest(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    clock = FakeClock(NOW)
    async with running(lab.settings, fake, extensions=EXTENSIONS, clock=clock) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(lab.channel.id)
        (thread,) = fake.threads_of(lab.channel)
        (message,) = [m for m in fake.messages_in(thread) if paper_ids(m) == ["2611.00001"]]
        await click(fake, lab.bob, message, "pb:similar:2611.00001")

        clock.advance(hours=1)
        later = [paper("2611.00006", "Diffusion agents at scale"), paper("2611.00007", "Optics")]
        await bot.store.run(papers_repo.upsert_papers, later, clock())
        clock.advance(minutes=1)
        assert (await bot.scheduler.run_feed_now(lab.channel.id)).posted >= 1
        (posted,) = [
            m
            for t in fake.threads_of(lab.channel)
            for m in fake.messages_in(t, include_ephemeral=False)
            if paper_ids(m) == ["2611.00006"]
        ]
        assert lab.bob.id in posted.mentioned_user_ids
        assert 'similar to "Diffusion agents" (' in posted.embeds[0]["description"]
