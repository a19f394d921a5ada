"""The REST pacer: never more than its limit in any window, first come first served, a cancelled
waiter takes nothing, and on discord.py's session only REST calls that count toward Discord's
global limit wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from aiohttp import web

from bot.discord.pacing import RequestPacer, pace_requests, requests_per_second_pacer


class ManualTime:
    """A clock that moves only when the test says; sleepers wake when it passes their time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for due, woken in list(self._sleepers):
            if due <= self.now and not woken.done():
                woken.set_result(None)
        self._sleepers = [(d, w) for d, w in self._sleepers if not w.done()]
        await settle()


class SkippingTime(ManualTime):
    """A clock that jumps straight to the end of every sleep."""

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def settle() -> None:
    """Let every ready task run until it blocks again."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_no_window_ever_holds_more_than_the_limit_and_grants_are_first_come() -> None:
    time = SkippingTime()
    pacer = RequestPacer(5, 1.0, clock=time.clock, sleep=time.sleep)
    granted: list[tuple[int, float]] = []

    async def request(n: int) -> None:
        await pacer.acquire()
        granted.append((n, time.now))

    await asyncio.gather(*(request(n) for n in range(23)))
    assert [n for n, _ in granted] == list(range(23))  # in arrival order
    times = [t for _, t in granted]
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[5:], strict=False))
    # and no slower than that: five at once, then five more each second
    assert times == [float(n // 5) for n in range(23)]


async def test_a_burst_after_a_quiet_spell_waits_for_the_window_not_a_refill() -> None:
    time = SkippingTime()
    pacer = RequestPacer(5, 1.0, clock=time.clock, sleep=time.sleep)
    time.now = 0.9
    for _ in range(5):
        await pacer.acquire()
    await pacer.acquire()
    # A bucket refilled at 1.0 would let this one go at 1.0: six within (0.9, 1.0], which a
    # fixed window of Discord's starting at 0.5 would count as six.
    assert time.now == pytest.approx(1.9)


async def test_a_cancelled_waiter_takes_no_turn_and_the_next_one_goes_in_order() -> None:
    time = ManualTime()
    pacer = RequestPacer(1, 1.0, clock=time.clock, sleep=time.sleep)
    await pacer.acquire()  # t=0: the window is full until t=1
    order: list[str] = []

    async def request(name: str) -> None:
        await pacer.acquire()
        order.append(f"{name}@{time.now:g}")

    sleeping = asyncio.create_task(request("b"))  # waits for the window
    await settle()
    queued = asyncio.create_task(request("c"))  # waits for b's turn
    last = asyncio.create_task(request("d"))
    await settle()
    sleeping.cancel()
    queued.cancel()
    await settle()
    await time.advance(1.0)
    await asyncio.wait_for(last, 1)
    assert sleeping.cancelled() and queued.cancelled()
    assert order == ["d@1"]  # b and c left without a grant: d is the only one at t=1
    await time.advance(0.5)
    follow = asyncio.create_task(pacer.acquire())
    await settle()
    assert not follow.done()  # d's grant at t=1 holds the window until t=2
    await time.advance(0.5)
    await asyncio.wait_for(follow, 1)
    assert pacer.waited == 2  # d and the follower were held back; b and c never counted


def test_a_budget_per_second_becomes_a_pacer_and_zero_turns_pacing_off() -> None:
    assert requests_per_second_pacer(0) is None
    pacer = requests_per_second_pacer(45)
    assert pacer is not None and (pacer.limit, pacer.window) == (45, 1.0)
    slow = requests_per_second_pacer(0.5)
    assert slow is not None and (slow.limit, slow.window) == (1, 2.0)
    with pytest.raises(ValueError, match="limit"):
        RequestPacer(0)


class CountingPacer(RequestPacer):
    def __init__(self) -> None:
        super().__init__(1000)
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        await super().acquire()


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A local server answering anything with 204; discord.py's REST base points at it."""

    async def anything(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    monkeypatch.setattr(discord.http.Route, "BASE", base + "/api/v10")
    yield base
    await runner.cleanup()


async def test_rest_calls_wait_for_the_pacer_but_interaction_answers_do_not(api: str) -> None:
    pacer = CountingPacer()
    trace = aiohttp.TraceConfig()
    pace_requests(trace, pacer)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        for path in (
            "/api/v10/channels/1/messages",  # counts toward the global limit
            "/api/v10/users/@me/channels",
            "/api/v10/interactions/5/tok/callback",  # interaction endpoints do not
            "/api/v10/webhooks/9/tok/messages/@original",
            "/gateway",  # not the REST API
        ):
            async with session.post(api + path) as response:
                assert response.status == 204
    assert pacer.acquired == 2
