"""Keeping the bot under Discord's global REST limit before Discord has to say so.

Discord allows a bot 50 requests per second in total (`topics/rate-limits.mdx`, "Global Rate
Limit"); discord.py follows each route's bucket from the X-RateLimit headers but only reacts to a
global 429 after it happened, and every 429 counts toward the invalid-request ban (10,000 per
10 minutes). Delivering many feeds at once would cross the line every second, so every request
discord.py starts waits here for its turn first: an aiohttp trace on discord.py's own session
(`on_request_start` is awaited before the request is sent), so retries and history pages are
counted too, exactly as Discord counts them. Interaction answers and follow-ups are not bound by
the global limit (same page), so they never wait behind a digest; a command's other requests
(fetching a member, opening a DM) wait only behind other commands', not behind digests.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import aiohttp
import discord

from bot.background import in_background

# Interaction endpoints (`interactions/receiving-and-responding.mdx` "Endpoints"): the callback
# and the follow-up webhook carry the interaction token in the path.
_EXEMPT = ("/interactions/", "/webhooks/")


class RequestPacer:
    """Grants at most `limit` requests in any `window` seconds. Waiting requests go in arrival
    order, except that background work's (`bot/background.py`: digests, DMs) waits behind the
    rest: a member's `/feed preview` looks names up by REST, and behind a 09:00 burst of a
    thousand digest messages it would wait twenty seconds.

    A sliding window, not a token bucket: a bucket lets a full burst through right after a
    steady second, which Discord's fixed one-second windows can see as more than the limit.
    Here the grant `limit` places back must be at least `window` old, so no interval of
    `window` seconds ever holds more than `limit` grants, wherever Discord's windows start.
    """

    def __init__(
        self,
        limit: int,
        window: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"a pacer needs a limit ≥ 1 and a window > 0, not {limit}/{window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._granted: deque[float] = deque(maxlen=limit)  # the latest grants, oldest first
        # the waiting requests' turns, each resolved with its grant's time: first the ones
        # that are not background work, then the background ones, each in arrival order
        self._waiting: tuple[deque[asyncio.Future[float]], ...] = (deque(), deque())
        self._granter: asyncio.Task[None] | None = None
        self.waited = 0  # requests that were held back (benchmarks read it)

    async def acquire(self, *, background: bool | None = None) -> None:
        """Wait until one more request fits in the window, and count it. `background`: whether
        it may wait behind others (default: whether it is made by background work)."""
        if not any(self._waiting) and self._wait() <= 0:
            self._granted.append(self._clock())
            return
        if background is None:
            background = in_background()
        turn: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[background].append(turn)
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant_in_turn())
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result() in self._granted:
                self._granted.remove(turn.result())  # granted as it left: the request isn't sent
            raise
        self.waited += 1

    def _wait(self) -> float:
        """Seconds until one more grant fits in the window."""
        if len(self._granted) < self.limit:
            return 0.0
        return self._granted[0] + self.window - self._clock()

    async def _grant_in_turn(self) -> None:
        """Grant the waiting requests their turns as the window frees up (one task at a time)."""
        while queue := next((q for q in self._waiting if q), None):
            if queue[0].done():  # cancelled while it waited: it takes no turn
                queue.popleft()
                continue
            wait = self._wait()
            if wait > 0:
                await self._sleep(wait)
                continue
            now = self._clock()
            self._granted.append(now)  # maxlen: drops the grant now out of the window
            queue.popleft().set_result(now)


def requests_per_second_pacer(per_second: float) -> RequestPacer | None:
    """The pacer for a budget of `per_second` requests (a fraction spreads over a longer
    window: 0.5 is 1 per 2 s); None when pacing is off (0)."""
    if per_second <= 0:
        return None
    if per_second >= 1:
        return RequestPacer(int(per_second))
    return RequestPacer(1, 1 / per_second)


def pace_requests(trace: aiohttp.TraceConfig, pacer: RequestPacer) -> None:
    """Make every REST request on the traced session (discord.py's) wait for `pacer` first;
    interaction answers and anything not sent to Discord's REST API go straight through."""

    async def on_start(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        url, base = str(params.url), discord.http.Route.BASE
        # Route.BASE is read per request: it is where discord.py sends REST calls right now
        # (a local Discord-compatible server in tests); the gateway's URL is elsewhere.
        if url.startswith(base) and not url[len(base) :].startswith(_EXEMPT):
            await pacer.acquire()  # a command's requests go before background work's

    trace.on_request_start.append(on_start)
