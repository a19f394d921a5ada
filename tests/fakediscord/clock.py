"""The fake server's sense of time: real by default; a test may pin it, move it, or share the bot's.

Discord judges several rules by time (a member's timeout, the 3-second interaction deadline, the
15-minute interaction token, the invalid-request window). Two readings serve them: `now()` is the
wall clock those rules compare dates against; `monotonic()` measures elapsed time and also counts
every jump forward made with `advance()` or `set()`, so "the token is 16 minutes old" can be
arranged without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall time and elapsed time for the fake server, under a test's control."""

    def __init__(self) -> None:
        self._pinned: datetime | None = None
        self._source: Callable[[], datetime] | None = None
        self._wall_shift = 0.0  # seconds added to the wall clock by advance()
        self._elapsed_shift = 0.0  # seconds added to monotonic() by advance() and set()

    def now(self) -> datetime:
        """The server's current UTC time."""
        if self._source is not None:
            base = self._source()
        elif self._pinned is not None:
            base = self._pinned
        else:
            base = datetime.now(UTC)
        return base + timedelta(seconds=self._wall_shift)

    def monotonic(self) -> float:
        """Seconds for measuring elapsed time (real elapsed time plus every jump forward)."""
        return time.monotonic() + self._elapsed_shift

    def advance(self, seconds: float | timedelta) -> None:
        """Move time forward: dates compare later and every age grows by `seconds`."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ValueError("the clock only moves forward; use set() to go back")
        self._wall_shift += step
        self._elapsed_shift += step

    def set(self, moment: datetime) -> None:
        """Pin the wall clock at `moment` (it stands still); a jump forward also ages tokens."""
        if moment.tzinfo is None:
            raise ValueError("give an aware datetime (e.g. tzinfo=UTC)")
        jump = (moment - self.now()).total_seconds()
        self._pinned, self._source, self._wall_shift = moment, None, 0.0
        self._elapsed_shift += max(jump, 0.0)

    def follow(self, source: Callable[[], datetime]) -> None:
        """Read the wall clock from `source` (e.g. the bot's own clock) from now on."""
        self._pinned, self._source, self._wall_shift = None, source, 0.0

    def real(self) -> None:
        """Go back to the machine's clock (elapsed-time jumps already made stay)."""
        self._pinned, self._source, self._wall_shift = None, None, 0.0
