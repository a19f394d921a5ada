"""The aiohttp application: auth, fault injection, rate limits, the invalid-request counter and
error shapes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .clock import Clock
from .commands import CommandStore
from .faults import Fault, Faults
from .gateway import Gateway
from .interactions import Interactions
from .invalid import InvalidRequests
from .posting import json_response
from .ratelimit import RateLimitConfig, RateLimited, RateLimiter
from .rest import Rest
from .rest_guilds import GuildRoutes
from .state import World
from .validation import ApiError

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Interaction routes use the token in the URL, not the bot token, and skip the global limit.
_TOKEN_IN_URL = ("/interactions/", "/webhooks/")
_MAJOR_PARAMS = ("channel_id", "guild_id", "interaction_id")
_LOST = web.RequestKey("fakediscord.lost", bool)  # this request's answer was lost on purpose


@dataclass
class RequestLog:
    """One REST request as the server saw it (for assertions such as "retried twice")."""

    method: str
    path: str
    status: int
    lost: bool = False  # processed, but the client never got this answer (a `lose` fault)
    at: float = field(default_factory=time.monotonic)  # when it arrived (rates, benchmarks)


class FakeServer:
    """Builds the app and holds every component; the driver wraps this for tests."""

    def __init__(
        self,
        token: str,
        *,
        bot_name: str = "Paperboy",
        rate_limits: RateLimitConfig | None = None,
        heartbeat_interval_ms: int = 41250,
        clock: Clock | None = None,
    ) -> None:
        self.world = World(bot_name, clock=clock)
        self.commands = CommandStore(self.world)
        self.gateway = Gateway(self.world, token, heartbeat_interval_ms=heartbeat_interval_ms)
        self.interactions = Interactions(self.world)
        self.rest = Rest(self.world)
        self.guild_routes = GuildRoutes(self.world, self.commands, self.gateway)
        self.invalid_requests = InvalidRequests(self.world.clock)
        self.faults = Faults()
        self.ratelimiter = RateLimiter(rate_limits or RateLimitConfig())
        self.requests: list[RequestLog] = []
        self.unhandled: list[str] = []  # "METHOD /path" of routes the fake does not know

    @property
    def token(self) -> str:
        """The bot token Discord currently accepts (the gateway resets it past the IDENTIFY cap)."""
        return self.gateway.token

    def app(self) -> web.Application:
        """The aiohttp application serving /api/v10/... and /gateway."""
        app = web.Application(middlewares=[self._middleware])
        routes = [*self.rest.routes(), *self.guild_routes.routes(), *self.interactions.routes()]
        for route in routes:
            assert isinstance(route, web.RouteDef)
            app.router.add_route(route.method, API_PREFIX + route.path, route.handler)
        app.router.add_get("/gateway", self.gateway.handle)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX):
            return await handler(request)
        sub = path[len(API_PREFIX) :]
        arrived = time.monotonic()
        # Time-driven changes happen lazily, before the next request sees the world.
        self.world.archive_idle_threads()
        if self.invalid_requests.banned:
            # Cloudflare's temporary ban: an HTML 429 without Discord's `Via` header, which is how
            # clients tell it from a normal rate limit (topics/rate-limits.mdx).
            response: web.StreamResponse = web.Response(
                status=429, text="<html>error code: 1015</html>", content_type="text/html"
            )
        else:
            response = await self._answer(request, handler, sub)
            scope = response.headers.get("X-RateLimit-Scope")
            self.invalid_requests.record(response.status, scope)
        lost = bool(request.get(_LOST, False))
        self.requests.append(RequestLog(request.method, sub, response.status, lost, arrived))
        return response

    async def _answer(self, request: web.Request, handler: Handler, sub: str) -> web.StreamResponse:
        token_in_url = sub.startswith(_TOKEN_IN_URL)
        if not token_in_url and request.headers.get("Authorization") != f"Bot {self.token}":
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        fault = self.faults.take(request.method, sub)
        if fault is not None and fault.lose is None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return self._fault_response(fault.status, fault.default_body(), fault.retry_after)
        resource = request.match_info.route.resource
        if resource is None or request.match_info.http_exception is not None:
            exc = request.match_info.http_exception
            status = exc.status if exc is not None else 404
            self.unhandled.append(f"{request.method} {sub}")
            log.warning("fake discord has no route for %s %s", request.method, sub)
            return json_response(
                {"message": f"{status}: {exc.reason if exc else 'Not Found'}", "code": 0}, status
            )
        template = resource.canonical.removeprefix(API_PREFIX)
        major = ":".join(request.match_info.get(k, "") for k in _MAJOR_PARAMS)
        if sub.startswith("/webhooks/"):
            major = request.match_info.get("token", "")
        try:
            headers = self.ratelimiter.check(
                request.method, template, major, count_global=not token_in_url
            )
        except RateLimited as limited:
            return json_response(limited.body, status=429, headers=limited.headers)
        try:
            response = await handler(request)
        except ApiError as error:
            response = json_response(error.body, status=error.status)
        except web.HTTPException:
            raise
        except (ValueError, KeyError, TypeError) as error:
            # A body the fake cannot read is a bad request for Discord too.
            log.warning("bad request %s %s: %r", request.method, sub, error)
            response = json_response({"message": "400: Bad Request", "code": 0}, status=400)
        response.headers.update(headers)
        if fault is not None and fault.lose is not None:
            return await self._lose(request, fault, response)
        return response

    async def _lose(
        self, request: web.Request, fault: Fault, response: web.StreamResponse
    ) -> web.StreamResponse:
        """The request was processed; now lose its answer the way the fault says."""
        request[_LOST] = True
        if isinstance(fault.lose, int):
            status = fault.lose
            return self._fault_response(status, fault.default_body(status), fault.retry_after)
        if fault.lose == "hang":
            await self.faults.released.wait()
        # Cut the TCP connection: the client sees a disconnect and never this response.
        if request.transport is not None:
            request.transport.abort()
        return response

    def _fault_response(self, status: int, body: Any, retry_after: float) -> web.Response:
        headers = {"Via": "1.1 google"}
        if status == 429:
            headers.update(
                {"Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Scope": "user"}
            )
        if isinstance(body, str):
            return web.Response(text=body, status=status, content_type="text/html", headers=headers)
        return json_response(body, status=status, headers=headers)
