"""The `/healthz` and `/metrics` HTTP endpoint (aiohttp), run as one of the bot's services when
PAPERBOY_METRICS_PORT is set. It knows the bot only through `BotStatus`, so it stays Discord-free.

`/healthz` is 200 while the gateway is connected and the database takes a write lock, else 503
naming what failed; it also shows the scheduler and each source's last success. Database figures
are read on a separate read-only connection, never queued behind the bot's writes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import sqlite_utils
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.ops.metrics import BotStatus, Metrics
from bot.store import Store
from bot.store.database import Clock
from bot.store.ops_stats import OpsSnapshot, ops_snapshot, probe_write
from bot.store.rows import iso

log = logging.getLogger(__name__)

DB_PROBE_SECONDS = 5.0  # /healthz must answer a container runtime within its own timeout


def read_snapshot(path: Path) -> OpsSnapshot:
    """The metrics figures, read on a fresh read-only connection (call in a worker thread)."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=DB_PROBE_SECONDS)) as conn:
        return ops_snapshot(sqlite_utils.Database(conn))


class HealthServer:
    """Serves /healthz and /metrics on host:port; a bot `Service` (start/stop)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        status: BotStatus,
        store: Store,
        metrics: Metrics,
        clock: Clock,
        probe_seconds: float = DB_PROBE_SECONDS,
    ) -> None:
        self.host, self.port = host, port
        self.probe_seconds = probe_seconds
        self.status, self.store, self.metrics, self.clock = status, store, metrics, clock
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """The aiohttp application with both routes."""
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        return app

    async def start(self) -> None:
        """Listen; with port 0 the OS picks a free port, stored in `self.port`."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise RuntimeError(
                f"cannot serve /healthz on {self.host}:{self.port} ({exc.strerror});"
                " change PAPERBOY_METRICS_PORT"
            ) from exc
        if self._runner.addresses:
            self.port = int(self._runner.addresses[0][1])
        log.info("Health and metrics on http://%s:%s/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _database(self) -> str:
        try:
            await asyncio.wait_for(self.store.run(probe_write), self.probe_seconds)
        except TimeoutError:
            return f"not answering within {self.probe_seconds:g} s"
        except (sqlite3.Error, RuntimeError) as exc:
            return f"not writable: {exc}"
        return "writable"

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the gateway is up and the database writable, else 503 naming what failed."""
        connected = self.status.gateway_connected()
        database = await self._database()
        try:
            snapshot = await asyncio.to_thread(read_snapshot, self.store.path)
            sources = {name: iso(s.last_ok_at) for name, s in sorted(snapshot.sources.items())}
        except sqlite3.Error as exc:
            log.warning("health: cannot read source status: %s", exc)
            sources = {}
        failing = [
            part
            for part, ok in (("gateway", connected), ("database", database == "writable"))
            if not ok
        ]
        body = {
            "status": "failing" if failing else "ok",
            "failing": failing,
            "gateway": "connected" if connected else "disconnected",
            "database": database,
            "scheduler": self.status.scheduler_state(),
            "sources": sources,
        }
        return web.json_response(body, status=503 if failing else 200)

    async def metrics_page(self, request: web.Request) -> web.Response:
        """Prometheus text format."""
        try:
            snapshot = await asyncio.to_thread(read_snapshot, self.store.path)
        except sqlite3.Error as exc:
            log.warning("metrics: cannot read the database: %s", exc)
            snapshot = OpsSnapshot()
        body = self.metrics.render(snapshot, self.status, self.clock())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
