"""Upvote history and /trending's ranking: polls through real HTTP on 127.0.0.1 record each
change of a paper's upvotes once, and the ranking is by upvotes gained, then total."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.errors import UserError
from bot.ingest import ingest_once
from bot.query import parse
from bot.store import Store
from bot.store import papers as papers_repo
from bot.store.upvotes import history, record_upvotes
from bot.trending import rank_trending, trending_page
from tests.support import FakeClock, paper, settings_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
NOW = datetime(2026, 8, 11, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.now(NOW)


async def test_each_poll_records_only_changed_upvotes(store: Store, clock: FakeClock, tmp_path):
    items = json.loads((FIXTURES / "hf_daily_mixed.json").read_text())
    counts = {"2608.09888": 781}

    async def daily(request: web.Request) -> web.Response:
        if request.query["date"] != "2026-08-11":
            return web.json_response([])
        for item in items:
            pid = item.get("paper", {}).get("id") if isinstance(item, dict) else None
            if pid in counts:
                item["paper"]["upvotes"] = counts[pid]
        return web.json_response(items)

    app = web.Application()
    app.router.add_get("/api/daily_papers", daily)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        settings = settings_for(tmp_path, hf_api_url=str(server.make_url("/api")), http_retries=0)
        await ingest_once(store, session, settings, source="hf")
        clock.advance(hours=1)
        await ingest_once(store, session, settings, source="hf")  # unchanged: nothing written
        clock.advance(hours=1)
        counts["2608.09888"] = 800
        await ingest_once(store, session, settings, source="hf")
    assert await store.run(history, "2608.09888") == [(NOW, 781), (NOW + timedelta(hours=2), 800)]
    assert await store.run(history, "2608.01234") == [(NOW, 0)]
    (top, *_) = await store.run(rank_trending, 7, clock.now)
    assert (top.paper_id, top.gained, top.upvotes) == ("2608.09888", 19, 800)


async def poll(store: Store, now: datetime, counts: dict[str, int]) -> None:
    """What a Hugging Face poll at `now` stores for these papers and their upvotes."""
    papers = [paper(pid, f"Diffusion paper {pid}", upvotes=n) for pid, n in counts.items()]
    await store.run(papers_repo.upsert_papers, papers, now)
    await store.run(record_upvotes, list(counts), now)


async def test_ranked_by_gain_then_total_within_the_window_and_query(store: Store) -> None:
    await poll(store, NOW - timedelta(days=10), {"2607.00001": 5})  # listed before the window
    await poll(store, NOW - timedelta(days=2), {"2608.00001": 100, "2608.00002": 3})
    await poll(store, NOW - timedelta(days=1), {"2608.00003": 40, "2608.00004": 10})
    await store.run(
        papers_repo.upsert_papers, [paper("2608.00005", "Optics", upvotes=9)], NOW - timedelta(1)
    )
    await store.run(record_upvotes, ["2608.00005"], NOW - timedelta(days=1))
    await poll(
        store, NOW,
        {"2607.00001": 500, "2608.00001": 110, "2608.00002": 53, "2608.00003": 40,
         "2608.00004": 20},
    )  # fmt: skip
    ranked = await store.run(rank_trending, 7, NOW)
    assert [(t.paper_id, t.gained) for t in ranked] == [
        ("2608.00002", 50), ("2608.00001", 10), ("2608.00004", 10), ("2608.00003", 0),
        ("2608.00005", 0),
    ]  # fmt: skip
    # Equal gains: more upvotes first (00001 has 110, 00004 has 20).
    week = await store.run(rank_trending, 1, NOW)
    assert [t.paper_id for t in week] == ["2608.00004", "2608.00003", "2608.00005"]
    matching = await store.run(rank_trending, 7, NOW, parse("diffusion -optics"))
    assert "2608.00005" not in [t.paper_id for t in matching] and len(matching) == 4
    # like: is scored on the window's papers (unscored, it would match nothing)
    alike = await store.run(rank_trending, 7, NOW, parse("like:2608.00001"))
    assert {t.paper_id for t in matching} <= {t.paper_id for t in alike}
    page = await store.run(trending_page, ranked, 0, 2)
    assert [p.id for p, _ in page.entries] == ["2608.00002", "2608.00001"] and page.total == 5
    with pytest.raises(UserError, match="between 1 and 30"):
        await store.run(rank_trending, 31, NOW)
