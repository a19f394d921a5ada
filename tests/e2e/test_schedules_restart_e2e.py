"""Schedules survive restarts and run at their own times: the real bot (`run_bot`, real
scheduler) against the local Discord, a member's own DM time and a weekly feed kept in SQLite,
and a DM run missed while the bot was down made up once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.discord.client import PaperboyBot
from bot.store import Store
from bot.store import papers as papers_repo
from tests.e2e.lab import running
from tests.fakediscord import FakeDiscord, perms
from tests.support import NOW, FakeClock, eventually, paper, settings_for, subscribe

EXTENSIONS = ("cogs.feeds", "cogs.dm")


def jobs(bot: PaperboyBot) -> list[str]:
    assert bot.scheduler is not None and bot.scheduler.dm_jobs is not None
    return bot.scheduler.dm_jobs.job_ids()


async def test_dm_times_and_weekly_feeds_survive_a_restart_and_a_missed_dm_is_made_up_once(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    channel = guild.add_text_channel("papers")
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    admin = guild.add_member("root", permissions=perms("manage_channels"))
    settings = settings_for(tmp_path, fake)  # default DM time 09:00 UTC
    clock = FakeClock(datetime(2026, 11, 26, 8, 30, tzinfo=UTC))  # subscriptions made at 08:00
    async with await Store.open(settings.db, clock=clock) as store:
        await subscribe(store, channel.id, "diffusion", user=alice.id, dm=True)
        await subscribe(store, channel.id, "diffusion", user=bob.id, dm=True)
        await store.run(
            papers_repo.upsert_papers, [paper("2611.00001", "Diffusion")], NOW - timedelta(hours=1)
        )

    async with running(settings, fake, clock=clock, extensions=EXTENSIONS) as bot:
        await fake.run_command(
            alice, channel, "dm schedule", time="10:30", timezone="Europe/Berlin"
        )
        await fake.run_command(bob, channel, "dm pause")
        weekly = await fake.run_command(
            admin, channel, "feed schedule", time="08:00", timezone="UTC", days="weekly",
            weekday="Friday",
        )  # fmt: skip
        assert weekly.content.endswith("weekly on Friday.")
        assert bot.scheduler is not None
        await bot.scheduler.settled()
        assert jobs(bot) == ["dm:09:00|UTC|daily", "dm:10:30|Europe/Berlin|daily"]
        assert fake.dms_to(alice) == []

    # Down from 08:30 to 10:15 UTC: Alice's 10:30 Berlin (09:30 UTC) DM was missed; Bob is
    # paused, so the default 09:00 run had nobody to send to.
    clock.now = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)
    async with running(settings, fake, clock=clock, extensions=EXTENSIONS) as bot:
        await eventually(lambda: len(fake.dms_to(alice)) == 1, "Alice's made-up DM")
        assert bot.scheduler is not None
        await bot.scheduler.settled()
        assert jobs(bot) == ["dm:09:00|UTC|daily", "dm:10:30|Europe/Berlin|daily"]
        assert bot.scheduler.next_run(channel.id) == datetime(2026, 11, 27, 8, tzinfo=UTC)
        mine = await fake.run_command(alice, channel, "dm status")
        assert mine.content.splitlines()[0] == "Your DM digest: 10:30 Europe/Berlin, every day."
        bobs = await fake.run_command(bob, channel, "dm status")
        assert bobs.content.splitlines()[1] == "Paused: /dm resume starts it again."
    (dm,) = fake.dms_to(alice)
    assert dm.embed_titles == ["Diffusion"]
    assert fake.dms_to(bob) == []

    clock.advance(minutes=20)  # and again: the missed run was made up once, not twice
    async with running(settings, fake, clock=clock, extensions=EXTENSIONS) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.settled()
    assert len(fake.dms_to(alice)) == 1 and fake.dms_to(bob) == []
