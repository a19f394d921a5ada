"""Benchmark: F feeds × P papers delivered at once through the local Discord-compatible server
(tests/fakediscord, with Discord's limits: 50 requests/s per bot, 5 messages per 5 s per channel)
by the real bot — discord.py, `DiscordPoster`, `DeliveryEngine`, the scheduler, a SQLite file —
against the old setting in the same process (4 feeds at a time, no pacing).

    .venv/bin/python benchmarks/bench_delivery.py [--feeds 200] [--papers 5]

Every feed's job is made due at the same moment and APScheduler fires them, as at 09:00 when
every feed shares the default schedule. Runs at F/2 and F feeds and prints the growth ratio.
Lost = a planned paper missing from its channel's digest; duplicated = a paper there twice.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.delivery.engine import RunReport
from bot.discord.client import PaperboyBot
from bot.store import Store
from bot.store import papers as papers_repo
from tests.e2e.lab import running
from tests.fakediscord import Channel, FakeDiscord
from tests.support import make_feed, paper, settings_for, subscribe

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # the feeds' 07:00 UTC slot
GLOBAL_LIMIT = 50  # Discord's requests per second per bot (the fake's default too)
T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    """How the bot delivers: feeds at once and its REST budget (0: no pacing)."""

    name: str
    concurrency: int
    per_second: float


@dataclass(frozen=True)
class Result:
    """What the server saw during one run (from the first job fired to the last feed done)."""

    seconds: float
    requests: int
    messages: int
    peak: int  # most requests the server answered in any 1 s
    global_429: int
    route_429: int
    lost: int
    duplicated: int
    writer_busy: float  # seconds the store's one writer thread spent on transactions
    waited: int  # requests the pacer held back
    builds: int  # shared matches built (feeds starting together should build one)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def keyword(n: int) -> str:
    """A word only feed `n`'s papers contain (letters only, so it is one token)."""
    letters = ""
    n += 26 * 26
    while n:
        n, digit = divmod(n, 26)
        letters = chr(ord("a") + digit) + letters
    return "zq" + letters


def paper_id(feed: int, n: int, papers: int) -> str:
    return f"2611.{feed * papers + n:05d}"


async def seed(db: Path, channels: list[Channel], guild_id: int, papers: int) -> None:
    """A feed per channel (07:00 UTC, made now, so no run is missed) with one subscription
    matching exactly its `papers` papers, listed two hours ago."""
    async with await Store.open(db, clock=lambda: NOW) as store:
        batch = []
        for i, channel in enumerate(channels):
            await make_feed(
                store, channel.id, guild_id=guild_id, tz="UTC", schedule="07:00", created=NOW
            )
            await subscribe(store, channel.id, keyword(i), guild_id=guild_id)
            batch += [
                paper(paper_id(i, n, papers), f"A study of {keyword(i)}, part {n}")
                for n in range(papers)
            ]
        await store.run(papers_repo.upsert_papers, batch, NOW - timedelta(hours=2))


def timed_writer(bot: PaperboyBot, busy: list[float]) -> None:
    """Add the time each write transaction holds the writer thread to `busy[0]`."""
    store = bot.store
    submit = store._submit

    async def timed(fn: Callable[[], T]) -> T:
        def work() -> T:
            started = time.perf_counter()
            try:
                return fn()
            finally:
                busy[0] += time.perf_counter() - started

        return await submit(work)

    store._submit = timed  # type: ignore[method-assign]


def peak_per_second(times: list[float]) -> int:
    """The most timestamps in any 1-second interval."""
    window: deque[float] = deque()
    peak = 0
    for t in sorted(times):
        window.append(t)
        while t - window[0] >= 1.0:
            window.popleft()
        peak = max(peak, len(window))
    return peak


def audit(fake: FakeDiscord, channels: list[Channel], papers: int) -> tuple[int, int]:
    """(lost, duplicated) papers over every feed channel and its threads."""
    lost = duplicated = 0
    for i, channel in enumerate(channels):
        places = [channel, *fake.threads_of(channel)]
        found = Counter(
            str(embed.get("url", "")).rsplit("/", 1)[-1]
            for place in places
            for message in fake.messages_in(place)
            for embed in message.embeds
        )
        planned = {paper_id(i, n, papers) for n in range(papers)}
        lost += len(planned - set(found))
        duplicated += sum(count - 1 for count in found.values() if count > 1)
    return lost, duplicated


async def measure(feeds: int, papers: int, setting: Setting) -> Result:
    """Deliver every feed's digest once with `setting`; what the server saw."""
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord(now=NOW) as fake:
            guild = fake.add_guild("Bench")
            channels = [guild.add_text_channel(f"papers-{i}") for i in range(feeds)]
            settings = settings_for(
                Path(tmp),
                fake,
                delivery_concurrency=setting.concurrency,
                discord_requests_per_second=setting.per_second,
                digest_cap=max(papers, 1),
            )
            await seed(settings.db, channels, guild.id, papers)
            busy = [0.0]
            async with running(settings, fake, prepare=lambda bot: timed_writer(bot, busy)) as bot:
                return await deliver(bot, fake, channels, papers, busy)


async def deliver(
    bot: PaperboyBot, fake: FakeDiscord, channels: list[Channel], papers: int, busy: list[float]
) -> Result:
    scheduler = bot.scheduler
    assert scheduler is not None
    engine: Any = scheduler.engine
    run_feed = engine.run_feed
    reports: list[RunReport] = []
    all_done = asyncio.Event()

    async def counted(channel_id: int, **kwargs: Any) -> RunReport:
        report = await run_feed(channel_id, **kwargs)
        reports.append(report)
        if len(reports) == len(channels):
            all_done.set()
        return report

    engine.run_feed = counted  # the scheduler's jobs call this: count the feeds done
    limiter = fake.server.ratelimiter
    first, hits, global_hits = len(fake.requests), limiter.hits_429, limiter.global_429
    busy[0] = 0.0
    held = bot.pacer.waited if bot.pacer is not None else 0
    started = time.monotonic()
    due = datetime.now(UTC)
    for channel in channels:  # all due now: APScheduler fires every job in its next wakeup
        scheduler.scheduler.modify_job(f"feed:{channel.id}", next_run_time=due)
    await asyncio.wait_for(all_done.wait(), timeout=1800)
    seconds = time.monotonic() - started
    seen = fake.requests[first:]
    sent = [r for r in seen if r.method == "POST" and r.path.endswith("/messages")]
    lost, duplicated = audit(fake, channels, papers)
    return Result(
        seconds=seconds,
        requests=len(seen),
        messages=sum(r.status == 200 for r in sent),
        peak=peak_per_second([r.at for r in seen]),
        global_429=limiter.global_429 - global_hits,
        route_429=limiter.hits_429 - hits - (limiter.global_429 - global_hits),
        lost=lost,
        duplicated=duplicated,
        writer_busy=busy[0],
        waited=(bot.pacer.waited if bot.pacer is not None else 0) - held,
        builds=engine.match_cache.builds,
    )


def row(feeds: int, setting: Setting, r: Result) -> str:
    return (
        f"{feeds:>6,} {setting.name:<22} {r.seconds:>7.1f} {r.requests:>6,} {r.per_second:>6.1f}"
        f" {r.messages / r.seconds:>7.1f} {100 * r.per_second / GLOBAL_LIMIT:>5.0f}%"
        f" {r.peak:>5} {r.global_429:>6} {r.route_429:>6} {r.lost:>5} {r.duplicated:>5}"
        f" {100 * r.writer_busy / r.seconds:>7.0f}% {r.waited:>5} {r.builds:>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--papers", type=int, default=5, help="papers per feed")
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    parser.add_argument("--concurrency", type=int, default=defaults.delivery_concurrency)
    parser.add_argument("--budget", type=float, default=defaults.discord_requests_per_second)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # discord.py's 429 warnings would flood the table
    settings = [
        Setting("old: 4 feeds, no pacing", 4, 0),
        Setting(f"new: {args.concurrency} feeds, {args.budget:g}/s", args.concurrency, args.budget),
    ]
    print(f"Delivery: {args.papers} papers per feed, through the local Discord (50 requests/s)")
    print(
        f"{'feeds':>6} {'setting':<22} {'seconds':>7} {'reqs':>6} {'req/s':>6} {'msgs/s':>7}"
        f" {'of 50':>6} {'peak':>5} {'429 gl':>6} {'429 rt':>6} {'lost':>5} {'dup':>5}"
        f" {'writer':>8} {'held':>5} {'builds':>6}"
    )
    rates: dict[tuple[int, str], float] = {}
    for feeds in (args.feeds // 2, args.feeds):
        for setting in settings:
            result = asyncio.run(measure(feeds, args.papers, setting))
            rates[(feeds, setting.name)] = result.per_second
            print(row(feeds, setting, result), flush=True)
    old, new = settings[0].name, settings[1].name
    for feeds in (args.feeds // 2, args.feeds):
        print(
            f"{feeds:,} feeds: new ÷ old requests/s = "
            f"{rates[(feeds, new)] / rates[(feeds, old)]:.2f}x"
        )
    growth = rates[(args.feeds, new)] / rates[(args.feeds // 2, new)]
    sizes = f"{args.feeds // 2:,} to {args.feeds:,} feeds"
    print(f"requests/s from {sizes}: {growth:.2f}x (flat: 1.0x)")
    print("peak: most requests the server answered in any 1 s; 429 gl/rt: global / per-route;")
    print("writer: share of the run the store's one writer thread spent in transactions;")
    print("held: requests the pacer made wait; builds: shared matches built (1 is right)")
    print("A feed's run ends ~5 s after its 5th message in its thread (discord.py waits out the")
    print("exhausted 5-per-5 s bucket before returning), so small runs carry a fixed tail.")


if __name__ == "__main__":
    main()
