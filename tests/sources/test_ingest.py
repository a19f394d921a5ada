"""Ingest: both sources into the store through real HTTP on 127.0.0.1; one down, the other kept."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli import main
from bot.config import Settings
from bot.ingest import ingest_once
from bot.store import papers as papers_repo
from bot.store import source_status
from tests.support import settings_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
NOW = datetime(2026, 8, 11, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.now(NOW)
HF_IDS = {"2608.09888", "2608.01234", "2608.07777"}  # the others are malformed


def source_app(*, hf_status: int = 200) -> tuple[web.Application, list[str]]:
    seen: list[str] = []

    async def daily(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        if hf_status != 200:
            return web.Response(status=hf_status, text="down")
        body = (
            (FIXTURES / "hf_daily_mixed.json").read_text()
            if request.query["date"] == "2026-08-11"
            else "[]"
        )
        return web.Response(text=body, content_type="application/json")

    async def rss(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        return web.Response(
            body=(FIXTURES / "arxiv_rss.xml").read_bytes(), content_type="application/rss+xml"
        )

    app = web.Application()
    app.router.add_get("/api/daily_papers", daily)
    app.router.add_get("/rss/{cats}", rss)
    return app, seen


def sources_at(server: TestServer, tmp_path: Path) -> Settings:
    """Settings fetching both sources from `server`, at once and without retries."""
    return settings_for(
        tmp_path,
        hf_api_url=str(server.make_url("/api")),
        arxiv_rss_url=str(server.make_url("/rss")),
        arxiv_categories="cs.CL,cs.LG",
        arxiv_min_interval=0,
        http_retries=0,
    )


async def test_both_sources_are_stored_and_marked_healthy(store, tmp_path) -> None:
    app, seen = source_app()
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        report = await ingest_once(store, session, sources_at(server, tmp_path))
    assert report.ok
    assert any("date=2026-08-11" in s for s in seen)
    assert any("date=2026-08-10" in s for s in seen)
    assert any(s.startswith("/rss/cs.CL+cs.LG") for s in seen)
    stored = {
        p.id: p
        for p in await store.run(papers_repo.papers_listed_between, NOW, NOW.replace(year=2027))
    }
    assert set(stored) >= HF_IDS
    assert "2608.10001" in stored and "arxiv" in stored["2608.10001"].sources
    statuses = await store.run(source_status.all_statuses)
    assert statuses["hf"].last_ok_at == NOW and statuses["hf"].failing_since is None
    assert statuses["arxiv"].last_count and statuses["arxiv"].last_count > 0


async def test_one_source_down_keeps_the_other_and_records_the_failure(store, tmp_path) -> None:
    app, _ = source_app(hf_status=503)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        report = await ingest_once(store, session, sources_at(server, tmp_path))
    assert not report.ok
    (hf,) = [r for r in report.results if r.source == "hf"]
    assert hf.error and "503" in hf.error
    assert await store.run(papers_repo.get_paper, "2608.10001") is not None
    assert await store.run(papers_repo.get_paper, "2608.09888") is None
    statuses = await store.run(source_status.all_statuses)
    assert statuses["hf"].failing_since == NOW and statuses["arxiv"].failing_since is None


async def test_a_given_day_and_source_only(store, tmp_path) -> None:
    app, seen = source_app()
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        report = await ingest_once(
            store, session, sources_at(server, tmp_path), day=date(2026, 8, 11), source="hf"
        )
    assert [r.source for r in report.results] == ["hf"] and report.results[0].new == len(HF_IDS)
    assert len(seen) == 1 and "date=2026-08-11" in seen[0]


def test_cli_sample_ingest(tmp_path, monkeypatch, capsys) -> None:
    db = tmp_path / "sample.db"
    monkeypatch.setenv("PAPERBOY_DB", str(db))
    assert main(["ingest", "--sample"]) == 0
    out = capsys.readouterr().out
    assert "Sample day 2025-08-05" in out and "new" in out
    assert db.exists()
    # Loading the sample twice adds nothing new.
    assert main(["ingest", "--sample"]) == 0
    assert ", 0 new" in capsys.readouterr().out


def test_cli_reports_a_source_that_is_down_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "p.db"))
    monkeypatch.setenv("PAPERBOY_HF_API_URL", f"http://127.0.0.1:{port}/api")
    monkeypatch.setenv("PAPERBOY_HTTP_RETRIES", "0")
    assert main(["ingest", "--source", "hf", "--date", "2026-08-11"]) == 1
    out = capsys.readouterr().out.splitlines()
    failed = [line for line in out if line.startswith("Hugging Face: FAILED")]
    assert len(failed) == 1 and "connection failed" in failed[0]
