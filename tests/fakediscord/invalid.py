"""Discord's invalid-request limit: 401, 403 and 429 answers counted per 10 minutes, and the
temporary ban (Cloudflare's, at the edge) that follows too many of them.

topics/rate-limits.mdx "Invalid Request Limit": "IP addresses that make too many invalid HTTP
requests are automatically and temporarily restricted from accessing the Discord API. Currently,
this limit is 10,000 per 10 minutes. An invalid request is one that results in 401, 403, or 429
statuses." 429s with `X-RateLimit-Scope: shared` are not counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .clock import Clock

INVALID_STATUSES = frozenset({401, 403, 429})


@dataclass
class InvalidRequests:
    """Counts invalid answers in a sliding window; past `limit` every request is refused."""

    clock: Clock
    limit: int = 10_000
    window: float = 600.0  # seconds
    ban_seconds: float = 3600.0  # how long the edge refuses everything once the limit is hit
    total: int = 0  # every invalid answer since the server started
    by_status: dict[int, int] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _banned_until: float | None = None

    def record(self, status: int, scope: str | None = None) -> None:
        """Count one answer if Discord would count it as invalid."""
        if status not in INVALID_STATUSES or (status == 429 and scope == "shared"):
            return
        now = self.clock.monotonic()
        self.total += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self._recent.append(now)
        self._trim(now)
        if len(self._recent) >= self.limit and self._banned_until is None:
            self._banned_until = now + self.ban_seconds

    def _trim(self, now: float) -> None:
        while self._recent and self._recent[0] <= now - self.window:
            self._recent.popleft()

    @property
    def count(self) -> int:
        """Invalid answers within the current window."""
        self._trim(self.clock.monotonic())
        return len(self._recent)

    @property
    def banned(self) -> bool:
        """True while the temporary ban lasts."""
        if self._banned_until is None:
            return False
        if self.clock.monotonic() >= self._banned_until:
            self._banned_until = None
            self._recent.clear()
            return False
        return True

    def reset(self) -> None:
        """Forget every count and lift a ban."""
        self.total, self._banned_until = 0, None
        self.by_status.clear()
        self._recent.clear()
