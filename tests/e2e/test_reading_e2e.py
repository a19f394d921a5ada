"""Save, Similar and Not for me under every posted paper, their Undo, and /saved, end to end:
the real bot and discord.py against the local fake Discord, real SQLite."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from bot.store import reading_list as lists
from bot.store import subscriptions as subs_repo
from tests.e2e.lab import seeded_lab
from tests.e2e.reading_support import (
    answer,
    click,
    custom_id,
    labels,
    posted_lab,
    reading_bot,
)
from tests.fakediscord import FakeDiscord
from tests.fakediscord.interactions import DEFER_UPDATE

GONE = "I no longer have that paper, so I can't do that with it."


async def test_every_posted_paper_has_the_three_buttons(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    _lab, posted = await posted_lab(discord_at_fake, tmp_path)
    assert set(posted) == {"2611.00001", "2611.00002"}
    for message in posted.values():
        assert labels(message) == [["Save", "Similar", "Not for me"]]
        emojis = [c["emoji"]["name"] for c in message.components[0]["components"]]
        assert emojis == ["🔖", "🔔", "🔕"]


async def test_save_then_undo(discord_at_fake: FakeDiscord, tmp_path: Path) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    message = posted["2611.00001"]
    async with reading_bot(fake, lab) as bot:
        saved = await click(fake, lab.alice, message, "pb:save:2611.00001")
        assert saved.ephemeral
        shown = answer(saved)
        assert shown.content == (
            "🔖 Saved **Diffusion agents** to your reading list (1 paper; /saved lists them)."
        )
        mine = await bot.store.run(lists.all_saved, lab.alice.id)
        assert [p.paper_id for p in mine] == ["2611.00001"]

        undone = await click(fake, lab.alice, shown, custom_id(shown, "pb:undo:"))
        assert undone.response_type == DEFER_UPDATE  # acknowledged first, then edited
        assert shown.content == "Removed arXiv:2611.00001 from your reading list."
        assert shown.components == []
        assert await bot.store.run(lists.all_saved, lab.alice.id) == []


async def test_buttons_posted_before_a_restart_still_work(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    # posted_lab posts with one bot and stops it: every click here reaches a bot started later
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    async with reading_bot(fake, lab):
        saved = await click(fake, lab.bob, posted["2611.00002"], "pb:save:2611.00002")
        shown = answer(saved)
        assert shown.content.startswith("🔖 Saved **Diffusion @")
    # and the Undo of an answer from before another restart too
    async with reading_bot(fake, lab) as bot:
        undone = await click(fake, lab.bob, shown, custom_id(shown, "pb:undo:"))
        assert shown.content == "Removed arXiv:2611.00002 from your reading list."
        assert undone.response_type == DEFER_UPDATE  # acknowledged first, then edited
        assert await bot.store.run(lists.all_saved, lab.bob.id) == []


async def test_similar_subscribes_the_member_in_the_feed_channel_then_undo(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:
        result = await click(fake, lab.alice, posted["2611.00001"], "pb:similar:2611.00001")
        shown = answer(result)
        assert result.ephemeral
        lines = shown.content.splitlines()
        # the thread's parent is the feed: the subscription goes to its digest, as /subscribe's
        assert lines[0] == (
            f"Subscribed to `like:2611.00001`: in the daily digest of <#{lab.channel.id}>,"
            " mentioning you."
        )
        assert lines[1].endswith("of the last 7 days would have matched. For example:")
        mine = await bot.store.run(subs_repo.personal_for_channel, lab.channel.id)
        (like,) = [s for s in mine if s.user_id == lab.alice.id and s.normal.startswith("like:")]
        assert like.normal == "like:2611.00001" and not like.dm

        again = await click(fake, lab.alice, posted["2611.00001"], "pb:similar:2611.00001")
        assert answer(again).content == (
            "You already have a subscription to `like:2611.00001` in this server."
        )

        await click(fake, lab.alice, shown, custom_id(shown, "pb:undo:similar:"))
        assert shown.content == "Unsubscribed from `like:2611.00001`."
        left = await bot.store.run(subs_repo.personal_for_channel, lab.channel.id)
        assert [s.normal for s in left if s.user_id == lab.alice.id] == ["agents"]


async def test_not_for_me_excludes_the_paper_from_the_subscriptions_that_matched_it(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:
        # alice's "agents" matched "Diffusion agents"
        result = await click(fake, lab.alice, posted["2611.00001"], "pb:nfm:2611.00001")
        shown = answer(result)
        assert shown.content == (
            "🔕 Not for me: changed `agents -like:2611.00001` so papers like this one stop"
            " matching."
        )

        def normals(user: int) -> object:
            async def read() -> list[str]:
                subs = await bot.store.run(subs_repo.personal_for_channel, lab.channel.id)
                return [s.normal for s in subs if s.user_id == user]

            return read()

        assert await normals(lab.alice.id) == ["agents -like:2611.00001"]
        assert await normals(lab.bob.id) == ["diffusion"]  # another member's: untouched
        await click(fake, lab.alice, shown, custom_id(shown, "pb:undo:nfm:"))
        assert shown.content == "Undone: `agents` as before."
        assert await normals(lab.alice.id) == ["agents"]


async def test_not_for_me_without_a_matching_subscription_mutes_and_undo_unmutes(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:
        # paper 2 came from the channel's own "diffusion": none of alice's subscriptions matched
        result = await click(fake, lab.alice, posted["2611.00002"], "pb:nfm:2611.00002")
        shown = answer(result)
        assert shown.content.startswith("🔕 Not for me: papers like **Diffusion @")
        assert shown.content.endswith(f"won't mention you in <#{lab.channel.id}> any more.")
        mutes = await bot.store.run(lists.mutes_in, lab.channel.id)
        assert mutes == {lab.alice.id: {"2611.00002"}}
        await click(fake, lab.alice, shown, custom_id(shown, "pb:undo:nfm:"))
        assert shown.content == "Unmuted arXiv:2611.00002: papers like it mention you again."
        assert await bot.store.run(lists.mutes_in, lab.channel.id) == {}


async def test_another_members_click_acts_on_their_own_lists(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    message = posted["2611.00001"]  # it mentions alice, who subscribed to agents
    async with reading_bot(fake, lab) as bot:
        await click(fake, lab.bob, message, "pb:save:2611.00001")
        changed = answer(await click(fake, lab.bob, message, "pb:nfm:2611.00001"))
        assert changed.content.startswith("🔕 Not for me: changed `diffusion -like:2611.00001`")
        assert [p.paper_id for p in await bot.store.run(lists.all_saved, lab.bob.id)] == [
            "2611.00001"
        ]
        assert await bot.store.run(lists.all_saved, lab.alice.id) == []
        subs = await bot.store.run(subs_repo.personal_for_channel, lab.channel.id)
        assert {s.user_id: s.normal for s in subs}[lab.alice.id] == "agents"
        # alice pressing an Undo that names bob's change only touches her own lists
        undo = custom_id(changed, "pb:undo:nfm:")
        other = answer(await click(fake, lab.alice, changed, undo))
        assert other.content == "Nothing to undo: those subscriptions changed or are gone."
        subs = await bot.store.run(subs_repo.personal_for_channel, lab.channel.id)
        assert {s.user_id: s.normal for s in subs}[lab.bob.id] == "diffusion -like:2611.00001"


async def test_buttons_work_where_the_member_can_no_longer_look(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    lab.channel.set_overwrite(lab.alice, deny=["view_channel"])
    async with reading_bot(fake, lab) as bot:
        saved = answer(await click(fake, lab.alice, posted["2611.00001"], "pb:save:2611.00001"))
        assert saved.content.startswith("🔖 Saved **Diffusion agents**")
        assert len(await bot.store.run(lists.all_saved, lab.alice.id)) == 1


async def test_a_paper_gone_from_the_store_is_one_line_and_changes_nothing(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:

        def forget(db: sqlite_utils.Database) -> None:
            db.execute("DELETE FROM papers WHERE id = '2611.00001'")

        await bot.store.run(forget)
        for action in ("save", "similar", "nfm"):
            result = await click(fake, lab.alice, posted["2611.00001"], f"pb:{action}:2611.00001")
            assert result.ephemeral
            assert (
                answer(result).content == "I no longer have that paper, so I can't do that with it."
            )
        assert await bot.store.run(lists.all_saved, lab.alice.id) == []
        subs = await bot.store.run(subs_repo.personal_for_channel, lab.channel.id)
        assert sorted(s.normal for s in subs) == ["agents", "diffusion"]
        assert await bot.store.run(lists.mutes_in, lab.channel.id) == {}


async def test_forum_posts_carry_the_buttons_and_they_act_for_the_forums_feed(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path, forum=True)
    async with reading_bot(fake, lab) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(lab.channel.id)
        (post,) = fake.threads_of(lab.channel)
        starter, *papers = fake.messages_in(post, include_ephemeral=False)
        assert starter.components == []  # the day's header delivers no paper
        assert [labels(m) for m in papers] == [[["Save", "Similar", "Not for me"]]] * 2
        muted = answer(await click(fake, lab.alice, papers[1], custom_id(papers[1], "pb:nfm:")))
        assert muted.content.endswith(f"won't mention you in <#{lab.channel.id}> any more.")
        assert lab.alice.id in await bot.store.run(lists.mutes_in, lab.channel.id)
