"""The store shared under load, end to end: the real `paperboy ingest` in a second process beside
the running bot, and commands answered within Discord's 3 seconds while the writer is busy."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.models import Paper
from bot.store import Store
from bot.store import papers as papers_repo
from tests.e2e.lab import NOW, running, seeded_lab
from tests.fakediscord import FakeDiscord
from tests.support import paper, subscribe

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "sources"
COMMANDS = ("cogs.meta", "cogs.subscriptions", "cogs.feeds")
DAY = "2026-11-26"
INGESTED = 3_000  # papers the second process stores: thirty pages, one write of a few seconds


def recorded_day(count: int) -> list[dict[str, Any]]:
    """A Hugging Face day of `count` papers, each a copy of the recorded fixture's first paper
    with its own id and title (the recording itself holds a handful)."""
    (template, *_) = json.loads((FIXTURES / "hf_daily_mixed.json").read_text())
    day = []
    for n in range(count):
        item = copy.deepcopy(template)
        item["paper"]["id"] = f"2611.{10000 + n:05d}"
        item["paper"]["title"] = f"Scaling study number {n}"
        item["title"] = item["paper"]["title"]
        day.append(item)
    return day


def hf_server(day: list[dict[str, Any]], asked: asyncio.Event) -> web.Application:
    """Hugging Face's daily-papers API serving `day` in pages, as the real one pages."""

    async def daily(request: web.Request) -> web.Response:
        asked.set()
        if request.query["date"] != DAY:
            return web.json_response([])
        page, size = int(request.query.get("p", 0)), int(request.query.get("limit", 100))
        return web.json_response(day[page * size : (page + 1) * size])

    app = web.Application()
    app.router.add_get("/api/daily_papers", daily)
    return app


async def own_subscriptions(db: Path, guild_id: int, channel_id: int, *users: int) -> None:
    """Give each member a personal subscription in the lab's server (the seed's use guild 1)."""
    async with await Store.open(db) as store:
        for n, user in enumerate(users):
            await subscribe(store, channel_id, f"robotics{n}", user=user, guild_id=guild_id)


async def paperboy_ingest(db: Path, hf_url: str, cwd: Path) -> asyncio.subprocess.Process:
    """Start the real `paperboy ingest` (this checkout's code) in its own process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAPERBOY_DB": str(db),
        "PAPERBOY_HF_API_URL": hf_url,
        "PAPERBOY_HTTP_RETRIES": "0",
        "PAPERBOY_DB_BUSY_TIMEOUT": "60",  # a generous bound; the bot's writes are short
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "ingest", "--source", "hf", "--date", DAY,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_ingest_from_cron_beside_the_running_bot(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    guild, chan, alice, bob, _admin, settings = await seeded_lab(fake, tmp_path)
    await own_subscriptions(settings.db, guild.id, chan.id, alice.id, bob.id)
    asked = asyncio.Event()
    server = TestServer(hf_server(recorded_day(INGESTED), asked), host="127.0.0.1")
    await server.start_server()
    try:
        async with running(settings, fake, extensions=COMMANDS) as bot:
            assert bot.scheduler is not None
            ingest = await paperboy_ingest(settings.db, str(server.make_url("/api")), tmp_path)
            await asyncio.wait_for(asked.wait(), 30)  # the second process is fetching
            digest = asyncio.create_task(bot.scheduler.run_feed_now(chan.id))
            finished = asyncio.create_task(ingest.communicate())
            answered = 0
            # Commands all along the ingest and the digest: each within Discord's deadline.
            while answered < 3 or not (finished.done() and digest.done()):
                listed = await fake.run_command(alice, chan, "subscriptions")
                assert "robotics0" in (await listed.wait_for_final()).content
                choices = await fake.autocomplete(bob, chan, "unsubscribe", "subscription")
                assert [c["name"] for c in choices] == ["robotics1 · #papers"]
                answered += 1
            out, err = await finished
            report = await digest
        assert ingest.returncode == 0, err.decode()
        assert f"{INGESTED} papers, {INGESTED} new" in out.decode()
        assert err.decode().count("locked") == 0
    finally:
        await server.close()
    # The digest: both matching papers, each once; the ingest: every paper, each once.
    assert (report.posted, report.matched) == (2, 2)
    (header,) = [m for m in fake.messages_in(chan) if m.content.startswith("📰")]
    assert header.thread is not None
    urls = sorted(e["url"] for m in fake.messages_in(header.thread) for e in m.embeds)
    assert urls == ["https://arxiv.org/abs/2611.00001", "https://arxiv.org/abs/2611.00002"]
    db = sqlite_utils.Database(settings.db)
    assert db.execute("SELECT count(*), count(DISTINCT id) FROM papers").fetchone() == (
        INGESTED + 3,
        INGESTED + 3,
    )
    sent = db.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'").fetchone()[0]
    assert sent == 2


def many_papers(count: int) -> list[Paper]:
    return [paper(f"2611.{20000 + n:05d}", f"Bulk paper {n} on diffusion") for n in range(count)]


async def test_commands_answer_while_the_writer_is_busy(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = discord_at_fake
    assert fake.interaction_deadline == 3.0  # Discord's rule, enforced by the local server
    guild, chan, alice, bob, _admin, settings = await seeded_lab(fake, tmp_path)
    await own_subscriptions(settings.db, guild.id, chan.id, alice.id, bob.id)
    bulk = many_papers(20_000)
    started, release = threading.Event(), threading.Event()

    def big_ingest(db: sqlite_utils.Database) -> int:
        started.set()
        stored = papers_repo.upsert_papers(db, bulk, NOW - timedelta(hours=1))
        release.wait(timeout=120)  # the writer stays busy until the commands were answered
        return len(stored.new)

    async with running(settings, fake, extensions=COMMANDS) as bot:
        writing = asyncio.create_task(bot.store.write(big_ingest))
        await asyncio.to_thread(started.wait)
        try:
            # run_command raises InteractionNotAnswered if the answer missed the 3 s deadline
            listed = await (await fake.run_command(alice, chan, "subscriptions")).wait_for_final()
            choices = await fake.autocomplete(bob, chan, "unsubscribe", "subscription")
            # a command that writes waits for the writer, so it defers in time ("thinking…")
            value = choices[0]["value"]
            removing = await fake.run_command(bob, chan, "unsubscribe", subscription=value)
            assert removing.deferred and removing.ephemeral
            assert not writing.done()  # all of it answered while the write was still open
        finally:
            release.set()
        assert await writing == 20_000
        removed = await removing.wait_for_final()
        stored = await bot.store.read(papers_repo.get_paper, "2611.39999")
        assert stored is not None
    assert "robotics0" in listed.content
    assert [c["name"] for c in choices] == ["robotics1 · #papers"]
    assert removed.content == "Unsubscribed from `robotics1`."
