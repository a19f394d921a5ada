"""The health endpoint on its own (no Discord): a real store and a real aiohttp server on
127.0.0.1, with the bot's status played by a plain object."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics
from bot.store import Store

NOW = datetime(2026, 11, 26, 7, tzinfo=UTC)


class Status:
    """A bot whose gateway is up unless told otherwise."""

    connected = True

    def gateway_connected(self) -> bool:
        return self.connected

    def gateway_latency(self) -> float | None:
        return 0.042

    def scheduler_state(self) -> str:
        return "disabled"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[HealthServer, Status]]:
    status = Status()
    async with await Store.open(tmp_path / "h.db") as store:
        server = HealthServer(
            "127.0.0.1",
            0,
            status=status,
            store=store,
            metrics=Metrics(),
            clock=lambda: NOW,
            probe_seconds=0.5,
        )
        await server.start()
        try:
            yield server, status
        finally:
            await server.stop()


async def get(server: HealthServer, path: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{server.port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_a_locked_database_makes_health_503_naming_it(served, tmp_path: Path) -> None:
    server, _ = served
    assert (await get(server, "/healthz"))[0] == 200
    with closing(sqlite3.connect(tmp_path / "h.db", isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the probe's wait
        status, body = await get(server, "/healthz")
        other.execute("ROLLBACK")
    assert status == 503
    assert '"failing": ["database"]' in body
    assert '"database": "not answering within 0.5 s"' in body
    assert (await get(server, "/healthz"))[0] == 200


async def test_gateway_down_is_503_and_metrics_show_its_latency(served) -> None:
    server, status = served
    status.connected = False
    code, body = await get(server, "/healthz")
    assert code == 503 and '"failing": ["gateway"]' in body and '"scheduler": "disabled"' in body
    code, text = await get(server, "/metrics")
    assert code == 200
    assert "paperboy_gateway_latency_seconds 0.042" in text
    assert "paperboy_gateway_connected 0.0" in text
