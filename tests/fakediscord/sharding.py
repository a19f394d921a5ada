"""Discord's sharding and IDENTIFY rules for the fake gateway: which shard a guild belongs to,
when a session must shard (close 4011), invalid shards (4010), invalid intents (4013), the
recommended shard count and the daily IDENTIFY budget that GET /gateway/bot reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# events/gateway.mdx "List of Intents": every defined intent bit; anything else closes 4013.
VALID_INTENTS = sum(1 << bit for bit in (*range(17), 20, 21, 24, 25))

# Close codes (topics/opcodes-and-status-codes.mdx "Gateway Close Event Codes").
Close = tuple[int, str]
AUTHENTICATION_FAILED = (4004, "Authentication failed.")
INVALID_SHARD = (4010, "Invalid shard.")
SHARDING_REQUIRED = (4011, "Sharding required.")
INVALID_INTENTS = (4013, "Invalid intent(s).")
DISALLOWED_INTENTS = (4014, "Disallowed intent(s).")


def shard_of(guild_id: int, num_shards: int) -> int:
    """The shard that receives a guild's events: (guild_id >> 22) % num_shards."""
    # events/gateway.mdx "Sharding Formula"; DMs always go to shard 0.
    return (guild_id >> 22) % num_shards


@dataclass
class Sharding:
    """Sharding limits and the IDENTIFY budget; tests lower them to reach the limits cheaply."""

    # events/gateway.mdx "Sharding": a shard may hold at most 2,500 guilds, past that the
    # session is closed with 4011 "Sharding required".
    max_guilds_per_shard: int = 2500
    # GET /gateway/bot "shards": the recommended count (None → one shard per 1,000 guilds).
    recommended_shards: int | None = None
    # events/gateway.mdx "Identifying": 1,000 IDENTIFY calls per 24 hours across all shards;
    # past that Discord ends every session and resets the bot token.
    identify_budget: int = 1000
    identify_used: int = 0
    max_concurrency: int = 1

    def recommended(self, guild_count: int) -> int:
        """The shard count GET /gateway/bot recommends."""
        if self.recommended_shards is not None:
            return self.recommended_shards
        return max(1, math.ceil(guild_count / 1000))

    def session_start_limit(self) -> dict[str, Any]:
        """The Session Start Limit object of GET /gateway/bot."""
        # events/gateway.mdx "Session Start Limit Object".
        return {
            "total": self.identify_budget,
            "remaining": max(self.identify_budget - self.identify_used, 0),
            "reset_after": 14_400_000,
            "max_concurrency": self.max_concurrency,
        }

    def check_shard(self, shard: Any, guild_ids: list[int]) -> tuple[tuple[int, int], Close | None]:
        """The (shard id, shard count) of an IDENTIFY and the close code it earns, if any."""
        if shard is None:
            shard = [0, 1]
        try:
            shard_id, count = int(shard[0]), int(shard[1])
        except (TypeError, ValueError, IndexError):
            return (0, 1), INVALID_SHARD
        if count < 1 or not 0 <= shard_id < count:
            return (0, 1), INVALID_SHARD
        mine = sum(1 for g in guild_ids if shard_of(g, count) == shard_id)
        if mine > self.max_guilds_per_shard:
            return (shard_id, count), SHARDING_REQUIRED
        return (shard_id, count), None
