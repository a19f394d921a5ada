"""A polite HTTP GET client for paper sources: timeouts, bounded retries, rate limits, spacing."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from bot.config import USER_AGENT

log = logging.getLogger(__name__)


Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]  # seconds, for spacing requests (not a wall clock)

_RATELIMIT_RESET = re.compile(r"(?:^|;)\s*t=(\d+(?:\.\d+)?)")
MAX_RESPONSE_BYTES = 20 * 1024 * 1024  # a real day of HF papers is ~1 MB, an arXiv feed ~3 MB
_CHUNK = 64 * 1024


class SourceError(Exception):
    """A source could not be fetched or understood; the message is one line naming the URL."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url = url
        self.reason = " ".join(reason.split())
        self.status = status  # the HTTP status when the server answered, else None
        super().__init__(f"{url}: {self.reason}")


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from `Retry-After` or HF's `RateLimit: ...;t=<s>`."""
    waits: list[float] = []
    retry_after = headers.get("Retry-After", "").strip()
    if retry_after:
        try:
            waits.append(float(retry_after))
        except ValueError:
            try:
                when = parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:  # an HTTP date is always GMT
                    when = when.replace(tzinfo=UTC)
                waits.append((when - (now or datetime.now(UTC))).total_seconds())
    match = _RATELIMIT_RESET.search(headers.get("RateLimit", ""))
    if match:
        waits.append(float(match.group(1)))
    return max(0.0, *waits) if waits else None


@dataclass
class _HostGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float | None = None


class RetryingClient:
    """GETs over a caller-owned `aiohttp.ClientSession`, retrying only what can succeed later.

    Retries (exponential backoff with jitter) happen on timeouts, connection errors, 429 and
    5xx; a server's `Retry-After`/`RateLimit` hint replaces the backoff. Other 4xx fail at once.
    With `min_interval` > 0, requests to one host go one at a time, that many seconds apart
    (arXiv asks for one request every 3 s). A body over `max_bytes` is refused, not retried,
    and never held whole in memory. `sleep`, `clock` and `jitter` exist for tests.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_wait: float = 300.0,
        min_interval: float = 0.0,
        max_bytes: int = MAX_RESPONSE_BYTES,
        user_agent: str = USER_AGENT,
        sleep: Sleep = asyncio.sleep,
        clock: Monotonic = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10.0))
        self.retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_wait = max_wait  # a server asking for longer than this is a failure, not a nap
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self._user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._gates: dict[str, _HostGate] = {}

    async def get_bytes(
        self, url: str, params: Mapping[str, str | int] | None = None, *, accept: str = "*/*"
    ) -> bytes:
        """GET `url` and return the body; raises `SourceError` once retrying is pointless."""
        target = URL(url).update_query(params) if params else URL(url)
        where = str(target)
        attempts = self.retries + 1
        for attempt in range(attempts):
            status: int | None = None
            try:
                async with (
                    self._turn(target.host or ""),
                    self._session.get(
                        target,
                        headers={"User-Agent": self._user_agent, "Accept": accept},
                        timeout=self._timeout,
                    ) as response,
                ):
                    status = response.status
                    body = await self._read_capped(response, where)
            except TimeoutError:
                reason, hint = "timed out", None
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                reason, hint = f"connection failed ({type(exc).__name__}: {exc})", None
            except aiohttp.ClientError as exc:
                raise SourceError(where, f"request failed ({type(exc).__name__}: {exc})") from exc
            else:
                if status < 400:
                    return body
                reason = f"HTTP {status}{_excerpt(body)}"
                if status != 429 and status < 500:
                    raise SourceError(where, reason, status)
                hint = retry_after_seconds(response.headers)
                if hint is not None and hint > self._max_wait:
                    raise SourceError(where, f"{reason}; server asks to wait {hint:.0f}s", status)
            if attempt + 1 == attempts:
                raise SourceError(where, f"{reason}; gave up after {attempts} attempts", status)
            wait = hint if hint is not None else self._backoff_delay(attempt)
            log.warning(
                "GET %s: %s; retry %d/%d in %.1fs", where, reason, attempt + 1, self.retries, wait
            )
            await self._sleep(wait)
        raise AssertionError("unreachable")  # the loop always returns or raises

    async def get_json(self, url: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET `url` and decode its JSON body; invalid JSON raises `SourceError`."""
        body = await self.get_bytes(url, params, accept="application/json")
        try:
            return json.loads(body)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            where = str(URL(url).update_query(params)) if params else url
            raise SourceError(where, f"invalid JSON ({exc}){_excerpt(body)}") from exc

    async def _read_capped(self, response: aiohttp.ClientResponse, where: str) -> bytes:
        """The body, or SourceError as soon as it is known to exceed `max_bytes`."""
        refusal = f"response is larger than the {self.max_bytes:,}-byte limit; refused"
        declared = response.content_length
        if declared is not None and declared > self.max_bytes:
            raise SourceError(where, refusal, response.status)
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > self.max_bytes:  # no (or a false) Content-Length: count as we go
                raise SourceError(where, refusal, response.status)
        return bytes(body)

    def _backoff_delay(self, attempt: int) -> float:
        base = min(self._max_backoff, self._backoff * 2**attempt)
        # "Equal jitter": at least half the base so retries stay spaced, the rest random so
        # many clients that failed together don't come back together.
        return base / 2 + base / 2 * self._jitter()

    @asynccontextmanager
    async def _turn(self, host: str) -> AsyncIterator[None]:
        """Wait for this host's turn when it has a minimum interval; hold it during the request."""
        if self.min_interval <= 0:
            yield
            return
        gate = self._gates.setdefault(host, _HostGate())
        async with gate.lock:
            if gate.last_start is not None:
                wait = gate.last_start + self.min_interval - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            gate.last_start = self._clock()
            yield


def _excerpt(body: bytes, limit: int = 120) -> str:
    text = " ".join(body[: limit * 4].decode("utf-8", "replace").split())
    if not text:
        return ""
    return f" ({text[:limit]}{'…' if len(text) > limit else ''})"
