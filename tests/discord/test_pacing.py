"""The REST pacer: never more than its limit in any window, first come first served except that
background work (digests) waits behind commands, a cancelled waiter takes nothing, and on
discord.py's session only REST calls that count toward Discord's global limit wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from aiohttp import web

from bot.background import background_work, in_background
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
    """A clock that jumps straight to the end of every sleep, once every task that is ready
    has run (as real time would let them: a request granted just before runs at that time)."""

    async def sleep(self, seconds: float) -> None:
        await settle()
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


async def test_a_commands_request_goes_before_waiting_background_work_within_the_limit() -> None:
    time = SkippingTime()
    pacer = RequestPacer(2, 1.0, clock=time.clock, sleep=time.sleep)
    granted: list[tuple[str, float]] = []

    async def request(name: str) -> None:
        await pacer.acquire()
        granted.append((name, time.now))

    async def digest() -> None:  # a burst of digest messages, queued first
        with background_work():
            await asyncio.gather(*(request(f"digest{n}") for n in range(6)))

    burst = asyncio.create_task(digest())
    await asyncio.sleep(0)  # the burst is queued: two granted at t=0, four waiting
    await asyncio.gather(request("command"), burst)
    names = [name for name, _ in granted]
    # the command waited only for the window, not for the four digest messages ahead of it
    assert names == ["digest0", "digest1", "command", "digest2", "digest3", "digest4", "digest5"]
    times = [t for _, t in granted]
    assert times == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0]  # still two a second, never more
    assert not in_background()  # the mark ends with the work


async def test_background_requests_keep_their_order_and_a_cancelled_command_takes_no_turn() -> None:
    time = ManualTime()
    pacer = RequestPacer(1, 1.0, clock=time.clock, sleep=time.sleep)
    await pacer.acquire()  # t=0: the window is full until t=1
    order: list[str] = []

    async def request(name: str, background: bool) -> None:
        await pacer.acquire(background=background)
        order.append(f"{name}@{time.now:g}")

    first = asyncio.create_task(request("a", True))
    second = asyncio.create_task(request("b", True))
    await settle()
    command = asyncio.create_task(request("c", False))
    await settle()
    command.cancel()  # gave up before its turn
    await settle()
    for _ in range(2):
        await time.advance(1.0)
    await asyncio.wait_for(asyncio.gather(first, second), 1)
    assert command.cancelled()
    assert order == ["a@1", "b@2"]


async def test_a_request_cancelled_just_as_it_was_granted_gives_its_grant_back() -> None:
    time = ManualTime()
    pacer = RequestPacer(1, 1.0, clock=time.clock, sleep=time.sleep)
    await pacer.acquire()  # t=0: the window is full until t=1
    waiter = asyncio.create_task(pacer.acquire())
    await settle()
    time.now = 1.0
    for _, woken in time._sleepers:  # wake the granter alone
        woken.set_result(None)
    await asyncio.sleep(0)  # the granter grants the waiter its turn...
    waiter.cancel()  # ...which is cancelled before it runs: its request is never sent
    await settle()
    assert waiter.cancelled()
    follow = asyncio.create_task(pacer.acquire())
    await settle()
    assert follow.done()  # the window has room: the unsent request's grant was given back


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

    async def acquire(self, *, background: bool | None = None) -> None:
        self.acquired += 1
        await super().acquire(background=background)


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


async def test_on_discord_pys_session_a_commands_request_passes_a_digest_burst(api: str) -> None:
    pacer = RequestPacer(4, 0.5)  # real time: 8 requests a second
    trace = aiohttp.TraceConfig()
    pace_requests(trace, pacer)
    done: list[str] = []
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:

        async def post(name: str) -> None:
            async with session.post(f"{api}/api/v10/channels/1/messages") as response:
                assert response.status == 204
            done.append(name)

        async def digest() -> None:
            with background_work():  # as DeliveryEngine.run_feed marks a digest run
                await asyncio.gather(*(post(f"digest{n}") for n in range(12)))

        burst = asyncio.create_task(digest())
        await asyncio.sleep(0.1)  # the burst's first 4 went; the rest wait for t=0.5
        await asyncio.gather(post("command"), burst)
    # 4 digest messages went at once; the command is next, ahead of the 8 still waiting
    assert done.index("command") <= 5, done
