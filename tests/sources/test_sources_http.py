"""The HTTP client and both sources against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import __version__
from bot.config import Settings
from bot.sources import (
    ArxivSource,
    HuggingFaceSource,
    RetryingClient,
    SourceError,
    build_sources,
    retry_after_seconds,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]
RELEASE = web.AppKey("release", asyncio.Event)


class FakeTime:
    """A clock that only moves when the client sleeps, so spacing is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Seen:
    path_qs: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # FakeTime.now when the server got the request


@dataclass
class Server:
    base: str
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def serve(fake_time: FakeTime) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """Start a server whose routes answer with the given replies in turn (the last repeats)."""
    servers: list[TestServer] = []
    release = asyncio.Event()  # lets "slow" handlers finish when the test ends

    async def start(routes: dict[str, list[Reply]]) -> Server:
        app = web.Application()
        app[RELEASE] = release
        server = Server(base="")
        for path, replies in routes.items():
            app.router.add_get(path, _recording(server, list(replies), fake_time))
        test_server = TestServer(app, host="127.0.0.1", port=0)
        await test_server.start_server()
        servers.append(test_server)
        server.base = str(test_server.make_url("")).rstrip("/")
        return server

    yield start
    release.set()
    for test_server in servers:
        await test_server.close()


def _recording(server: Server, replies: list[Reply], fake_time: FakeTime) -> Reply:
    async def handler(request: web.Request) -> web.StreamResponse:
        server.seen.append(
            Seen(request.path_qs, dict(request.query), dict(request.headers), fake_time.now)
        )
        server.in_flight += 1
        server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            return await reply(request)
        finally:
            server.in_flight -= 1

    return handler


def status(code: int, body: str = "", headers: dict[str, str] | None = None) -> Reply:
    async def reply(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, text=body, headers=headers)

    return reply


def ok_json(document: Any) -> Reply:
    async def reply(request: web.Request) -> web.StreamResponse:
        return web.json_response(document)

    return reply


def slow() -> Reply:
    async def reply(request: web.Request) -> web.StreamResponse:
        # Longer than any client timeout in these tests; released when the test ends.
        await request.app[RELEASE].wait()
        return web.Response(text="too late")

    return reply


def client(session: aiohttp.ClientSession, fake_time: FakeTime, **kwargs: Any) -> RetryingClient:
    kwargs.setdefault("retries", 3)
    kwargs.setdefault("jitter", lambda: 1.0)
    return RetryingClient(session, sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)


# --- RetryingClient ---------------------------------------------------------------------------


async def test_success_sends_a_descriptive_user_agent(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(200, "hello")]})
    body = await client(session, fake_time).get_bytes(f"{server.base}/x", {"a": 1})
    assert body == b"hello"
    assert server.seen[0].query == {"a": "1"}
    user_agent = server.seen[0].headers["User-Agent"]
    assert user_agent == f"Paperboy/{__version__} (+https://github.com/paperboy-bot/paperboy)"
    assert fake_time.sleeps == []


async def test_429_with_retry_after_then_success(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(429, headers={"Retry-After": "7"}), status(200, "ok")]})
    assert await client(session, fake_time).get_bytes(f"{server.base}/x") == b"ok"
    assert len(server.seen) == 2
    assert fake_time.sleeps == [7.0]  # the server's figure, not our backoff


async def test_429_with_hf_ratelimit_header_then_success(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    limited = status(
        429,
        headers={
            "RateLimit": '"api";r=0;t=42',
            "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
        },
    )
    server = await serve({"/x": [limited, status(200, "ok")]})
    assert await client(session, fake_time).get_bytes(f"{server.base}/x") == b"ok"
    assert fake_time.sleeps == [42.0]


async def test_500_then_success_backs_off(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(500), status(502), status(200, "ok")]})
    http = client(session, fake_time, backoff=1.0, jitter=lambda: 0.5)
    assert await http.get_bytes(f"{server.base}/x") == b"ok"
    assert len(server.seen) == 3
    # equal jitter: half the exponential base, plus half of it times the jitter (0.5 here)
    assert fake_time.sleeps == [0.75, 1.5]


async def test_persistent_5xx_gives_up_with_a_one_line_error(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(503, "upstream\nbusy")]})
    http = client(session, fake_time, retries=3, backoff=1.0, max_backoff=3.0)
    with pytest.raises(SourceError) as caught:
        await http.get_bytes(f"{server.base}/x")
    error = caught.value
    assert len(server.seen) == 4
    assert fake_time.sleeps == [1.0, 2.0, 3.0]  # exponential, capped at max_backoff
    assert error.status == 503
    assert error.url == f"{server.base}/x"
    assert str(error) == f"{server.base}/x: HTTP 503 (upstream busy); gave up after 4 attempts"


@pytest.mark.parametrize("code", [400, 403, 404])
async def test_other_4xx_are_not_retried(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime, code: int
) -> None:
    server = await serve({"/x": [status(code, '{"error": "Invalid date"}'), status(200, "ok")]})
    with pytest.raises(SourceError) as caught:
        await client(session, fake_time).get_bytes(f"{server.base}/x")
    assert caught.value.status == code
    assert "Invalid date" in str(caught.value)
    assert len(server.seen) == 1
    assert fake_time.sleeps == []


async def test_a_wait_longer_than_max_wait_fails_at_once(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(429, headers={"Retry-After": "3600"})]})
    with pytest.raises(SourceError, match="server asks to wait 3600s"):
        await client(session, fake_time, max_wait=300).get_bytes(f"{server.base}/x")
    assert len(server.seen) == 1
    assert fake_time.sleeps == []


async def test_timeout_then_success(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [slow(), status(200, "ok")]})
    http = client(session, fake_time, timeout=0.2)
    assert await http.get_bytes(f"{server.base}/x") == b"ok"
    assert len(server.seen) == 2
    assert len(fake_time.sleeps) == 1


async def test_timeouts_give_up(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [slow()]})
    http = client(session, fake_time, timeout=0.2, retries=1)
    with pytest.raises(SourceError, match="timed out; gave up after 2 attempts") as caught:
        await http.get_bytes(f"{server.base}/x")
    assert caught.value.status is None
    assert len(server.seen) == 2


async def test_connection_refused_is_retried_then_reported(
    session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = client(session, fake_time, retries=2)
    with pytest.raises(SourceError, match="connection failed") as caught:
        await http.get_bytes(f"http://127.0.0.1:{port}/x")
    assert f"127.0.0.1:{port}/x" in str(caught.value)
    assert len(fake_time.sleeps) == 2


async def test_garbage_json_is_a_source_error(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    garbage = (FIXTURES / "hf_garbage.html").read_text()
    server = await serve({"/x": [status(200, garbage, {"Content-Type": "text/html"})]})
    with pytest.raises(SourceError, match="invalid JSON") as caught:
        await client(session, fake_time).get_json(f"{server.base}/x", {"p": 0})
    assert f"{server.base}/x?p=0" in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_min_interval_spaces_sequential_requests(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(200, "ok")]})
    http = client(session, fake_time, min_interval=3.0)
    for _ in range(3):
        await http.get_bytes(f"{server.base}/x")
    times = [s.at for s in server.seen]
    assert [b - a for a, b in itertools.pairwise(times)] == [3.0, 3.0]
    assert fake_time.sleeps == [3.0, 3.0]


async def test_min_interval_allows_one_request_at_a_time(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(200, "ok")]})
    http = client(session, fake_time, min_interval=3.0)
    await asyncio.gather(*(http.get_bytes(f"{server.base}/x") for _ in range(4)))
    times = [s.at for s in server.seen]
    assert len(times) == 4
    assert server.max_in_flight == 1
    assert all(b - a >= 3.0 for a, b in itertools.pairwise(times))


async def test_without_min_interval_nothing_waits(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/x": [status(200, "ok")]})
    http = client(session, fake_time)
    await asyncio.gather(*(http.get_bytes(f"{server.base}/x") for _ in range(4)))
    assert len(server.seen) == 4
    assert fake_time.sleeps == []


def test_retry_after_parsing() -> None:
    now = datetime(2026, 8, 11, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds({"Retry-After": "120"}, now) == 120.0
    assert retry_after_seconds({"Retry-After": "Tue, 11 Aug 2026 12:00:30 GMT"}, now) == 30.0
    assert retry_after_seconds({"Retry-After": "Tue, 11 Aug 2026 11:00:00 GMT"}, now) == 0.0
    assert retry_after_seconds({"RateLimit": '"api";r=0;t=17'}, now) == 17.0
    # both present: wait for the later of the two
    assert retry_after_seconds({"Retry-After": "5", "RateLimit": '"api";r=0;t=17'}, now) == 17.0
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None


# --- Hugging Face source ------------------------------------------------------------------------


def hf_entries(count: int, start: int = 0) -> list[dict[str, Any]]:
    """`count` list entries with distinct ids, built from the recorded full entry."""
    template = json.loads((FIXTURES / "hf_daily_mixed.json").read_text())[0]
    entries = []
    for n in range(start, start + count):
        entry = copy.deepcopy(template)
        entry["paper"]["id"] = f"2608.{10000 + n:05d}"
        entry["paper"]["title"] = f"Paper number {n}"
        entries.append(entry)
    return entries


def daily_pages(pages: list[list[dict[str, Any]]]) -> Reply:
    async def reply(request: web.Request) -> web.StreamResponse:
        page = int(request.query["p"])
        return web.json_response(pages[page] if page < len(pages) else [])

    return reply


async def test_hf_fetch_day_reads_every_page_and_dedupes(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    # the second page repeats two papers of the first (lists shift while being read)
    pages = [hf_entries(100), hf_entries(32, start=98)]
    server = await serve({"/api/daily_papers": [daily_pages(pages)]})
    source = HuggingFaceSource(client(session, fake_time), f"{server.base}/api")
    papers = await source.fetch_day(date(2026, 8, 11))
    assert len(papers) == 130
    assert len({p.id for p in papers}) == 130
    assert all(p.hf_date == date(2026, 8, 11) for p in papers)
    assert [s.query for s in server.seen] == [
        {"date": "2026-08-11", "p": "0", "limit": "100"},
        {"date": "2026-08-11", "p": "1", "limit": "100"},
    ]


async def test_hf_fetch_day_stops_at_an_empty_page(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/api/daily_papers": [daily_pages([hf_entries(100)])]})
    source = HuggingFaceSource(client(session, fake_time), f"{server.base}/api")
    assert len(await source.fetch_day(date(2026, 8, 11))) == 100
    assert [s.query["p"] for s in server.seen] == ["0", "1"]


async def test_hf_fetch_day_stops_if_the_server_ignores_paging(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/api/daily_papers": [ok_json(hf_entries(100))]})
    source = HuggingFaceSource(client(session, fake_time), f"{server.base}/api")
    assert len(await source.fetch_day(date(2026, 8, 11))) == 100
    assert len(server.seen) == 2  # the repeated page brought nothing new


async def test_hf_fetch_day_retries_a_rate_limited_page(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    limited = status(429, headers={"RateLimit": '"api";r=0;t=9'})
    server = await serve({"/api/daily_papers": [limited, ok_json(hf_entries(3))]})
    source = HuggingFaceSource(client(session, fake_time), f"{server.base}/api")
    assert len(await source.fetch_day(date(2026, 8, 11))) == 3
    assert fake_time.sleeps == [9.0]


async def test_hf_error_object_or_garbage_is_a_source_error(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    error = json.loads((FIXTURES / "hf_error.json").read_text())
    server = await serve(
        {
            "/a/daily_papers": [ok_json(error)],
            "/b/daily_papers": [status(200, (FIXTURES / "hf_garbage.html").read_text())],
        }
    )
    http = client(session, fake_time)
    with pytest.raises(SourceError, match="API error") as caught:
        await HuggingFaceSource(http, f"{server.base}/a").fetch_day(date(2026, 8, 11))
    assert "daily_papers?date=2026-08-11&p=0" in str(caught.value)
    with pytest.raises(SourceError, match="invalid JSON"):
        await HuggingFaceSource(http, f"{server.base}/b").fetch_day(date(2026, 8, 11))


async def test_hf_invalid_date_400_is_not_retried(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/api/daily_papers": [status(400, '{"error":"Invalid date"}')]})
    source = HuggingFaceSource(client(session, fake_time), f"{server.base}/api")
    with pytest.raises(SourceError, match="HTTP 400"):
        await source.fetch_day(date(2026, 8, 11))
    assert len(server.seen) == 1


async def test_hf_fetch_paper(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    paper_doc = json.loads((FIXTURES / "hf_paper.json").read_text())
    server = await serve(
        {
            "/api/papers/2608.09888": [status(503), ok_json(paper_doc)],
            "/api/papers/2608.00404": [status(404, '{"error":"Paper not found"}')],
        }
    )
    source = HuggingFaceSource(client(session, fake_time), f"{server.base}/api/")
    paper = await source.fetch_paper("https://arxiv.org/abs/2608.09888v2")
    assert paper is not None
    assert paper.id == "2608.09888"
    assert paper.title == "In-Context Learning at 10$^6$ Tokens"
    assert await source.fetch_paper("2608.00404") is None
    with pytest.raises(ValueError, match="not an arXiv id"):
        await source.fetch_paper("hello")


# --- arXiv source -------------------------------------------------------------------------------


def rss(name: str) -> Reply:
    async def reply(request: web.Request) -> web.StreamResponse:
        body = (FIXTURES / name).read_bytes()
        return web.Response(body=body, content_type="application/rss+xml")

    return reply


async def test_arxiv_fetch_new_makes_one_request_for_all_categories(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/rss/{cats}": [rss("arxiv_rss.xml")]})
    http = client(session, fake_time, min_interval=3.0)
    source = ArxivSource(http, f"{server.base}/rss", ["cs.CL", "cs.LG"])
    papers = await source.fetch_new()
    assert [s.path_qs for s in server.seen] == ["/rss/cs.CL+cs.LG"]
    assert server.seen[0].headers["User-Agent"].startswith("Paperboy/")
    assert [p.id for p in papers] == ["2608.10001", "2608.10002", "2608.10003", "math/0701001"]
    assert all(p.sources == frozenset({"arxiv"}) for p in papers)


async def test_arxiv_include_replacements(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/rss/{cats}": [rss("arxiv_rss.xml")]})
    source = ArxivSource(
        client(session, fake_time), f"{server.base}/rss", ["cs.CL"], include_replacements=True
    )
    ids = [p.id for p in await source.fetch_new()]
    assert ids == [
        "2608.10001",
        "2608.10002",
        "2203.01250",
        "hep-th/9901001",
        "2608.10003",
        "math/0701001",
    ]


async def test_arxiv_weekend_listing_is_empty(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/rss/{cats}": [rss("arxiv_empty.xml")]})
    source = ArxivSource(client(session, fake_time), f"{server.base}/rss", ["cs.CL"])
    assert await source.fetch_new() == []


async def test_arxiv_malformed_feed_is_a_source_error_naming_the_feed(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/rss/{cats}": [rss("arxiv_malformed.xml")]})
    source = ArxivSource(client(session, fake_time), f"{server.base}/rss", ["cs.CL", "cs.AI"])
    with pytest.raises(SourceError, match="malformed XML") as caught:
        await source.fetch_new()
    assert str(caught.value).startswith(f"{server.base}/rss/cs.CL+cs.AI: ")


async def test_arxiv_without_categories_asks_nothing(
    session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    source = ArxivSource(client(session, fake_time), "http://127.0.0.1:9/rss", [" ", ""])
    assert await source.fetch_new() == []


async def test_build_sources_spaces_only_arxiv(session: aiohttp.ClientSession) -> None:
    settings = Settings(
        arxiv_rss_url="https://rss.arxiv.org/rss/",
        arxiv_categories="cs.CL, cs.LG",
        arxiv_min_interval=3.0,
    )
    hf, arxiv = build_sources(session, settings)
    assert arxiv.categories == ("cs.CL", "cs.LG")
    assert arxiv.feed_url == "https://rss.arxiv.org/rss/cs.CL+cs.LG"
    assert arxiv.client.min_interval == 3.0
    assert hf.client.min_interval == 0.0


# --- response size cap --------------------------------------------------------------------------


def chunked(total: int, chunk: int = 4096) -> Reply:
    """A 200 streamed without Content-Length, as a misbehaving or hostile server would."""

    async def reply(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        try:
            while sent < total:
                await response.write(b"x" * min(chunk, total - sent))
                sent += chunk
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass  # the client hung up once it had seen enough: what the test wants
        return response

    return reply


@pytest.mark.parametrize(
    "reply",
    [status(200, "x" * 10_001), chunked(10_001), chunked(10**8)],
    ids=["declared", "streamed", "huge"],
)
async def test_a_body_over_the_cap_is_refused_once_with_one_line(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime, reply: Reply
) -> None:
    server = await serve({"/big": [reply]})
    with pytest.raises(SourceError) as caught:
        await client(session, fake_time, max_bytes=10_000).get_bytes(f"{server.base}/big")
    assert str(caught.value) == (
        f"{server.base}/big: response is larger than the 10,000-byte limit; refused"
    )
    assert len(server.seen) == 1 and fake_time.sleeps == []  # refused, never retried


async def test_a_body_at_the_cap_is_read(
    serve: Any, session: aiohttp.ClientSession, fake_time: FakeTime
) -> None:
    server = await serve({"/ok": [chunked(10_000)]})
    body = await client(session, fake_time, max_bytes=10_000).get_bytes(f"{server.base}/ok")
    assert body == b"x" * 10_000


def test_the_cap_is_configured_and_defaults_to_20_mb() -> None:
    assert Settings(_env_file=None).source_max_bytes == 20 * 1024 * 1024  # type: ignore[call-arg]
    hf, arxiv = build_sources(
        None,  # type: ignore[arg-type]
        Settings(_env_file=None, source_max_bytes=123),  # type: ignore[call-arg]
    )
    assert hf.client.max_bytes == arxiv.client.max_bytes == 123
