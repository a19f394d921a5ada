"""Snowflake ids and Discord-style timestamps for the fake server."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .clock import Clock

DISCORD_EPOCH_MS = 1_420_070_400_000


class Snowflakes:
    """Generates increasing snowflake ids whose timestamp is the server clock's time."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        """Return a new unique snowflake."""
        ms = int(self._clock.now().timestamp() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (next(self._counter) & 0x3FFFFF)
        # Keep ids strictly increasing even if the clock stands still or steps back.
        self._last = max(value, self._last + 1)
        return self._last


def iso(moment: datetime) -> str:
    """Format a datetime the way Discord does (ISO 8601 with +00:00)."""
    return moment.astimezone(UTC).isoformat()


def now() -> datetime:
    """Current UTC time."""
    return datetime.now(UTC)
