"""DM digests end to end: the real bot and discord.py against the local fake Discord."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.delivery.dms import DmReport
from bot.store import Store
from bot.store import papers as papers_repo
from bot.store.rows import rows
from tests.e2e.lab import NOW, running
from tests.fakediscord import FakeDiscord
from tests.support import paper, settings_for, subscribe


async def seed(db: Path, alice: int, carol: int) -> None:
    async with await Store.open(db, clock=lambda: NOW) as store:
        await subscribe(store, 1, "diffusion", user=alice, dm=True)
        await subscribe(store, 1, "agents", user=carol, dm=True)
        await store.run(
            papers_repo.upsert_papers,
            [
                paper("2611.00001", "Diffusion agents", upvotes=3),
                paper("2611.00002", "Masked diffusion @everyone", upvotes=1),
                paper("2611.00003", "Optics"),
            ],
            NOW - timedelta(hours=2),
        )


async def test_dm_digest_once_and_closed_dms_recorded(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    guild.add_text_channel("papers")
    alice, carol = guild.add_member("alice"), guild.add_member("carol")
    carol.user.accepts_dms = False
    settings = settings_for(tmp_path, fake)
    await seed(settings.db, alice.id, carol.id)
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        first = await bot.scheduler.run_dm_digests_now()
        second = await bot.scheduler.run_dm_digests_now()
    assert isinstance(first, list) and isinstance(second, list)
    reports: dict[int, DmReport] = {r.user_id: r for r in first}
    assert reports[alice.id].messages == 1 and reports[carol.id].closed
    assert sum(r.messages for r in second) == 0

    (dm,) = fake.dms_to(alice)  # one DM, the second run sent nothing new
    assert dm.embed_titles == ["Diffusion agents", "Masked diffusion @\u200beveryone"]
    assert dm.nonce and dm.mentioned_user_ids == set() and not dm.mention_everyone
    assert fake.dms_to(carol) == []
    async with await Store.open(settings.db, clock=lambda: NOW) as store:
        status = await store.run(rows, "SELECT * FROM dm_status")
    assert [(s["user_id"], s["told_user"]) for s in status if s["closed_at"]] == [(carol.id, 0)]
    # Alice's DM channel is kept, so tomorrow's DM doesn't open it again.
    assert {s["user_id"]: s["channel_id"] for s in status}[alice.id] == dm.channel.id
