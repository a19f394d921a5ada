"""Prometheus metrics: counters the bot bumps as things happen (papers ingested, source failures,
messages sent, Discord 429s, command latency) and figures read from the database at scrape time
(digest runs by outcome, paused feeds by reason, deliveries by state, seconds since each source's
last success) plus the gateway latency. One registry per bot, so tests never share counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.ingest import IngestReport
from bot.store.ops_stats import OpsSnapshot

# Slash commands must answer (or defer) within 3 s; the buckets resolve that range finely.
COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


class BotStatus(Protocol):
    """What the health and metrics endpoint needs to know about the live bot (Discord-free)."""

    def gateway_connected(self) -> bool:
        """True while the gateway session is up (ready or resumed)."""
        ...

    def gateway_latency(self) -> float | None:
        """Seconds between the last heartbeat and its ack; None before the first one."""
        ...

    def scheduler_state(self) -> str:
        """ "running", "stopped" or "disabled"."""
        ...


class Metrics:
    """The bot's metrics registry, its live counters, and the scrape-time collector."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.papers_ingested = Counter(
            "paperboy_papers_ingested",
            "Papers stored for the first time, by the source that listed them",
            ["source"],
            registry=self.registry,
        )
        self.source_failures = Counter(
            "paperboy_source_failures",
            "Fetches of a source that failed",
            ["source"],
            registry=self.registry,
        )
        self.messages_sent = Counter(
            "paperboy_discord_messages_sent",
            "Messages (and forum posts) Discord accepted from the bot",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "paperboy_discord_rate_limited",
            "Discord answers with status 429, by X-RateLimit-Scope (user, global, shared)",
            ["scope"],
            registry=self.registry,
        )
        self.command_latency = Histogram(
            "paperboy_command_latency_seconds",
            "Time from receiving a slash command to its handler finishing",
            ["command", "outcome"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self.store_figures = StoreCollector()
        self.registry.register(self.store_figures)

    def record_ingest(self, report: IngestReport) -> None:
        """Count one ingest's new papers and failures per source."""
        for result in report.results:
            if result.error is not None:
                self.source_failures.labels(result.source).inc()
            else:
                self.papers_ingested.labels(result.source).inc(result.new)

    def record_command(self, command: str, seconds: float, outcome: str) -> None:
        """One slash command's latency; `outcome` is "ok" or "error"."""
        self.command_latency.labels(command, outcome).observe(seconds)

    def record_discord_response(self, status: int, scope: str | None, message_sent: bool) -> None:
        """One answer from Discord's REST API."""
        if status == 429:
            self.rate_limited.labels(scope or "route").inc()
        elif message_sent and status < 300:
            self.messages_sent.inc()

    def render(self, snapshot: OpsSnapshot, status: BotStatus | None, now: datetime) -> bytes:
        """The Prometheus text exposition with the database figures of `snapshot`."""
        self.store_figures.update(snapshot, status, now)
        return generate_latest(self.registry)


class StoreCollector(Collector):
    """Yields the figures of the latest database snapshot (set just before each scrape)."""

    def __init__(self) -> None:
        self._snapshot = OpsSnapshot()
        self._status: BotStatus | None = None
        self._now: datetime | None = None

    def update(self, snapshot: OpsSnapshot, status: BotStatus | None, now: datetime) -> None:
        """Use these figures for the next `collect`."""
        self._snapshot, self._status, self._now = snapshot, status, now

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot
        runs = CounterMetricFamily(
            "paperboy_digest_runs",
            "Feed digest runs by outcome: posted, empty (nothing new matched), failed, running",
            labels=["outcome"],
        )
        for outcome in ("posted", "empty", "failed", "running"):
            runs.add_metric([outcome], snap.digest_runs.get(outcome, 0))
        yield runs
        dm_runs = CounterMetricFamily(
            "paperboy_dm_digest_runs",
            "Members' daily DM digest runs by outcome: posted, empty, running",
            labels=["outcome"],
        )
        for outcome in ("posted", "empty", "running"):
            dm_runs.add_metric([outcome], snap.dm_digest_runs.get(outcome, 0))
        yield dm_runs
        feeds = GaugeMetricFamily("paperboy_feeds", "Feeds by state", labels=["state"])
        for state in ("active", "paused", "disabled"):
            feeds.add_metric([state], snap.feeds.get(state, 0))
        yield feeds
        paused = GaugeMetricFamily(
            "paperboy_feeds_paused", "Paused feeds by pause reason", labels=["reason"]
        )
        for reason, count in sorted(snap.paused_by_reason.items()):
            paused.add_metric([reason], count)
        yield paused
        deliveries = GaugeMetricFamily(
            "paperboy_deliveries", "Paper deliveries in the ledger by state", labels=["state"]
        )
        for state, count in snap.deliveries.items():
            deliveries.add_metric([state], count)
        yield deliveries
        yield from self._sources()
        if self._status is not None:
            latency = self._status.gateway_latency()
            gateway = GaugeMetricFamily(
                "paperboy_gateway_latency_seconds", "Discord gateway heartbeat latency"
            )
            gateway.add_metric([], latency if latency is not None else float("nan"))
            yield gateway
            up = GaugeMetricFamily("paperboy_gateway_connected", "1 while the gateway is up")
            up.add_metric([], 1.0 if self._status.gateway_connected() else 0.0)
            yield up

    def _sources(self) -> Iterator[Metric]:
        since = GaugeMetricFamily(
            "paperboy_source_seconds_since_success",
            "Seconds since each source was last fetched successfully",
            labels=["source"],
        )
        failing = GaugeMetricFamily(
            "paperboy_source_failing", "1 while a source's latest fetch failed", labels=["source"]
        )
        last = GaugeMetricFamily(
            "paperboy_source_last_fetch_papers",
            "Papers in each source's latest successful fetch",
            labels=["source"],
        )
        for name, state in sorted(self._snapshot.sources.items()):
            if state.last_ok_at is not None and self._now is not None:
                since.add_metric([name], (self._now - state.last_ok_at).total_seconds())
            failing.add_metric([name], 1.0 if state.failing_since is not None else 0.0)
            if state.last_count is not None:
                last.add_metric([name], state.last_count)
        yield since
        yield failing
        yield last
