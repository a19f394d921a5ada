"""Keeping the bot under Discord's global REST limit before Discord has to say so.

Discord allows a bot 50 requests per second in total (`topics/rate-limits.mdx`, "Global Rate
Limit"); discord.py follows each route's bucket from the X-RateLimit headers but only reacts to a
global 429 after it happened, and every 429 counts toward the invalid-request ban (10,000 per
10 minutes). Delivering many feeds at once would cross the line every second, so every request
discord.py starts waits here for its turn first: an aiohttp trace on discord.py's own session
(`on_request_start` is awaited before the request is sent), so retries and history pages are
counted too, exactly as Discord counts them. Interaction answers and follow-ups are not bound by
the global limit (same page), so they never wait behind a digest.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import aiohttp
import discord

# Interaction endpoints (`interactions/receiving-and-responding.mdx` "Endpoints"): the callback
# and the follow-up webhook carry the interaction token in the path.
_EXEMPT = ("/interactions/", "/webhooks/")


class RequestPacer:
    """Grants at most `limit` requests in any `window` seconds, first come first served.

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
        # asyncio.Lock wakes its waiters in arrival order and lets no newcomer jump the queue:
        # the one holding it is next; a cancelled waiter leaves without taking a grant.
        self._turn = asyncio.Lock()
        self.waited = 0  # requests that were held back (benchmarks read it)

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, and count it."""
        held = self._turn.locked()  # others are ahead: this one waits its turn
        async with self._turn:
            while len(self._granted) == self.limit:
                free_at = self._granted[0] + self.window
                now = self._clock()
                if now >= free_at:
                    break
                held = True
                await self._sleep(free_at - now)
            self._granted.append(self._clock())  # maxlen: drops the grant now out of the window
        self.waited += held


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
            await pacer.acquire()

    trace.on_request_start.append(on_start)
