"""Test controls over the running fake server: injected faults, rate limits, gateway drops."""

from __future__ import annotations

from typing import Any

from .faults import Fault, LostAnswer
from .ratelimit import RateLimitConfig
from .server import FakeServer


class ServerControls:
    """FakeDiscord's fault, rate-limit and gateway controls (mixed into the driver)."""

    server: FakeServer

    def inject_faults(
        self,
        method: str,
        pattern: str,
        *,
        status: int | None = 500,
        times: int = 1,
        body: Any = None,
        delay: float = 0.0,
        retry_after: float = 0.05,
    ) -> Fault:
        """Make the next `times` requests matching METHOD + "/channels/{id}/messages" fail."""
        return self.server.faults.add(
            method,
            pattern,
            status=status,
            times=times,
            body=body,
            delay=delay,
            retry_after=retry_after,
        )

    def delay_responses(
        self, method: str, pattern: str, seconds: float, *, times: int = 1
    ) -> Fault:
        """Make the next `times` matching requests answer normally but `seconds` late."""
        return self.server.faults.add(method, pattern, status=None, times=times, delay=seconds)

    def lose_responses(
        self,
        method: str,
        pattern: str,
        *,
        how: LostAnswer = "drop",
        times: int = 1,
        skip: int = 0,
    ) -> Fault:
        """Process the next `times` matching requests (after `skip`), then lose their answers."""
        # Unlike delay_responses, the request really happens (message created, nonce recorded):
        # "Discord got it, the bot never saw the reply". `how`: "drop" cuts the connection,
        # "hang" never answers (until the server closes), an int answers that status instead.
        return self.server.faults.add(
            method, pattern, status=None, times=times, lose=how, skip=skip
        )

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.server.faults.clear()

    @property
    def rate_limits(self) -> RateLimitConfig:
        """The live rate-limit configuration (set `.enabled = False` to turn limits off)."""
        return self.server.ratelimiter.config

    async def drop_gateway(self, code: int | None = None) -> None:
        """Cut the gateway connection (abruptly, or with a close code); the bot should RESUME."""
        await self.server.gateway.drop(code)

    def refuse_gateway(self, refuse: bool = True) -> None:
        """While set, new gateway connections are refused (503): an outage after a drop."""
        self.server.gateway.refusing = refuse

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; the bot should reconnect and RESUME."""
        self._require_connection().send_op(7)

    async def send_invalid_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with resumable=False the bot must IDENTIFY again."""
        gateway = self._require_connection()
        if not resumable:
            gateway.sessions.clear()
        gateway.send_op(9, resumable)

    def _require_connection(self) -> Any:
        gateway = self.server.gateway
        if not gateway.connections:
            raise RuntimeError("the bot is not connected to the fake gateway")
        return gateway
