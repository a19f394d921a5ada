"""Test controls over the running fake server: injected faults, rate limits, gateway drops, the
server clock, interaction deadlines, timeouts, the active-thread cap, sharding and the
invalid-request counter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import Clock
from .faults import Fault, LostAnswer
from .invalid import InvalidRequests
from .ratelimit import RateLimitConfig
from .server import FakeServer
from .sharding import Sharding
from .state import Guild, Member

if TYPE_CHECKING:
    from .actions import InteractionResult


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

    # -- Discord's clocks --------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        """The server clock: `.set(datetime)`, `.advance(seconds)`, `.follow(bot_clock)`."""
        return self.server.world.clock

    @property
    def interaction_deadline(self) -> float | None:
        """Seconds the bot has for its first answer (Discord: 3); None turns the rule off."""
        return self.server.interactions.deadline

    @interaction_deadline.setter
    def interaction_deadline(self, seconds: float | None) -> None:
        self.server.interactions.deadline = seconds

    def age_interaction(self, result: InteractionResult, seconds: float = 15 * 60 + 1) -> None:
        """Make one interaction `seconds` older (default: its 15-minute token has expired)."""
        result.record.sent_at -= seconds

    # -- guild rules -----------------------------------------------------------------------
    def time_out(self, member: Member, until: datetime | timedelta | None) -> None:
        """Time a member out until a moment (or for a duration, by the server clock); None lifts."""
        if isinstance(until, timedelta):
            until = self.clock.now() + until
        member.guild.time_out(member, until)

    def time_out_bot(self, guild: Guild, until: datetime | timedelta | None) -> None:
        """Time the bot out in a guild: until then it may only view and read history (403 50013)."""
        self.time_out(guild.bot_member, until)

    @property
    def max_active_threads(self) -> int:
        """Active (unarchived) threads a guild may hold before 160006 (Discord: 1,000)."""
        return self.server.world.max_active_threads

    @max_active_threads.setter
    def max_active_threads(self, count: int) -> None:
        self.server.world.max_active_threads = count

    # -- the gateway and the edge -------------------------------------------------------------
    @property
    def sharding(self) -> Sharding:
        """Sharding rules: `.max_guilds_per_shard` (4011 past it), `.recommended_shards`, …"""
        return self.server.gateway.sharding

    @property
    def gateway_closes(self) -> list[int]:
        """Close codes the gateway sent (4004, 4010, 4011, 4013, 4014…), in order."""
        return self.server.gateway.closes

    @property
    def invalid_requests(self) -> InvalidRequests:
        """401/403/429 answers counted as Discord does: `.count` (10 min), `.total`, `.banned`."""
        return self.server.invalid_requests
