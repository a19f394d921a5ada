"""Fixtures for the whole suite: nothing reaches the internet, a clock tests move by hand, a
fresh store on it, and the local Discord-compatible server. Helpers that are not fixtures live in
`tests/support.py`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bot.store import Store
from tests.fakediscord import FakeDiscord
from tests.support import NOW, FakeClock


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "now(moment): where the `clock` fixture starts (default tests.support.NOW)"
    )


# -- Hypothesis: the same examples on every CI run, many more on request ---------------------

# "ci" (the default) is derandomized, so a failure in CI fails again on the next run and on any
# machine; run `pytest --hypothesis-profile=long` locally to search much harder with fresh seeds.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    "long",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")

# -- no test reaches the internet ------------------------------------------------------------

# Port 9 (discard) on loopback: nothing listens, so a source request that a test forgot to point
# at its own server fails at once instead of leaving the machine.
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def sources_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Default every source and Discord URL to a dead loopback port."""
    monkeypatch.setenv("PAPERBOY_HF_API_URL", f"{UNREACHABLE}/api")
    monkeypatch.setenv("PAPERBOY_ARXIV_RSS_URL", f"{UNREACHABLE}/rss")
    monkeypatch.setenv("PAPERBOY_DISCORD_API_URL", f"{UNREACHABLE}/api/v10")
    monkeypatch.setenv("PAPERBOY_DISCORD_GATEWAY_URL", "ws://127.0.0.1:9/gateway")


@pytest.fixture(autouse=True)
def restore_root_log_handlers() -> Iterator[None]:
    """`paperboy` entry points install a stderr log handler; remove any a test leaves behind,
    so later tests never write to a captured stream that pytest has closed."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)


@pytest.fixture(autouse=True)
def restore_discord_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_bot` points discord.py's class attributes at a server; put them back after each test."""
    import discord.gateway
    import discord.http

    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    gateway = discord.gateway.DiscordWebSocket
    monkeypatch.setattr(gateway, "DEFAULT_GATEWAY", gateway.DEFAULT_GATEWAY)


# -- time and the store ------------------------------------------------------------------------


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    """A clock the test moves by hand, at the module's or test's `now` mark (else `NOW`)."""
    mark = request.node.get_closest_marker("now")
    start: datetime = mark.args[0] if mark is not None else NOW
    return FakeClock(start)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A fresh, migrated store in `tmp_path/paperboy.db` on `clock`, closed after the test."""
    opened = await Store.open(tmp_path / "paperboy.db", clock=clock)
    yield opened
    await opened.close()


# -- the local Discord-compatible server (tests/fakediscord) ------------------------------------


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord on 127.0.0.1 (free port), closed after the test."""
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def discord_at_fake(fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    """Point discord.py (REST base and gateway) at `fake_discord` for this test; returns it."""
    import discord.gateway
    import discord.http
    import yarl

    monkeypatch.setattr(discord.http.Route, "BASE", fake_discord.api_url)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake_discord.gateway_url)
    )
    return fake_discord
