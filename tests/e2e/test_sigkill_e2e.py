"""A bot process SIGKILLed between two thread messages of a digest: after a restart every paper
is in the thread exactly once. The real `paperboy run` in a subprocess, the fake Discord here."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import papers as papers_repo
from tests.fakediscord import Channel, FakeDiscord
from tests.fakediscord.faults import Fault
from tests.support import eventually, make_feed, paper, subscribe

RUN_BOT = "import sys; from bot.cli import main; sys.exit(main(['run']))"
TITLES = ["Diffusion one", "Diffusion two", "Diffusion three"]


def bot_env(fake: FakeDiscord, db: Path) -> dict[str, str]:
    env = dict(os.environ)  # already points every source at a dead loopback port (conftest)
    env.update(
        PAPERBOY_DB=str(db),
        PAPERBOY_DISCORD_TOKEN=fake.token,
        PAPERBOY_DISCORD_API_URL=fake.api_url,
        PAPERBOY_DISCORD_GATEWAY_URL=fake.gateway_url,
        PAPERBOY_POLL_SOURCES="false",  # never fetch HF/arXiv
        PAPERBOY_LOG_LEVEL="INFO",
    )
    return env


@asynccontextmanager
async def bot_process(
    fake: FakeDiscord, db: Path, log: Path, identifies: int
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`paperboy run` against the fake; yields once it is connected; killed on exit if alive."""
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN_BOT, env=bot_env(fake, db), cwd=db.parent,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        await fake.wait_for_identify(identifies, timeout=30)
        await fake.wait_for_commands_synced(timeout=30)
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def seed(db: Path, channel_id: int, admin_id: int) -> None:
    now = datetime.now(UTC)  # the subprocess runs on the real clock
    async with await Store.open(db, clock=lambda: now) as store:
        await make_feed(store, channel_id, created_by=admin_id, tz="UTC", created=now)
        await subscribe(store, channel_id, "diffusion")
        papers = [paper(f"2611.0000{i}", t, upvotes=10 - i) for i, t in enumerate(TITLES, 1)]
        await store.run(papers_repo.upsert_papers, papers, now - timedelta(hours=2))


def titles_in(fake: FakeDiscord, thread: Channel) -> list[str]:
    return [t for m in fake.messages_in(thread) for t in m.embed_titles]


async def test_sigkill_between_thread_messages_then_restart_posts_each_paper_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    guild = fake.add_guild("Lab")
    chan = guild.add_text_channel("papers")
    admin = guild.add_member("root", permissions=["administrator"])
    db, log = tmp_path / "paperboy.db", tmp_path / "bot.log"
    await seed(db, chan.id, admin.id)
    # The header and the first paper go through; the second paper's message is held by the
    # server (it answers 3 s late), and the process is killed while it waits for the answer.
    fake.delay_responses("POST", "/channels/{id}/messages", seconds=0, times=2)
    held: Fault = fake.delay_responses("POST", "/channels/{id}/messages", seconds=3)

    async with bot_process(fake, db, log, identifies=1) as proc:
        await fake.run_command(admin, chan, "feed post-now")
        await eventually(lambda: held.hits == 1, "the second thread message to be in flight")
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    (header,) = fake.messages_in(chan, include_ephemeral=False)
    thread = header.thread
    assert thread is not None
    # The held request dies with the process (the fake reads the body after the delay): the thread
    # has the first paper only, and the ledger still has the other two pending.
    assert titles_in(fake, thread) == [TITLES[0]]
    async with await Store.open(db) as store:
        states = {
            d.paper_id: d.state for d in await store.run(ledger.deliveries_to, f"channel:{chan.id}")
        }
    assert sorted(states.values()) == ["pending", "pending", "sent"]

    async with bot_process(fake, db, log, identifies=2):
        result = await fake.run_command(admin, chan, "feed post-now")
        await result.wait_for_final(timeout=30)

    assert fake.messages_in(chan, include_ephemeral=False) == [
        header
    ]  # header once, no second digest
    assert sorted(titles_in(fake, thread)) == sorted(TITLES)  # each paper exactly once
    nonces = [m.nonce for m in fake.messages_in(thread)]
    assert len(set(nonces)) == len(nonces) == 3
    async with await Store.open(db) as store:
        rows = await store.run(ledger.deliveries_to, f"channel:{chan.id}")
    assert {d.state for d in rows} == {"sent"}
    assert log.read_text().count("Traceback") == 0
