"""Discord-style rate limits: per-route buckets with X-RateLimit-* headers and a global limit."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RateLimitConfig:
    """Limits and windows (seconds); shrink the windows to make tests fast, or disable."""

    enabled: bool = True
    global_limit: int = 50
    global_window: float = 1.0
    message_limit: int = 5  # POST /channels/{id}/messages, per channel
    message_window: float = 5.0
    default_limit: int = 50  # every other route, per major parameter
    default_window: float = 1.0
    overrides: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def bucket_for(self, method: str, template: str) -> tuple[int, float]:
        """(limit, window) for a route template such as "/channels/{channel_id}/messages"."""
        if (method, template) in self.overrides:
            return self.overrides[(method, template)]
        if method == "POST" and template == "/channels/{channel_id}/messages":
            return self.message_limit, self.message_window
        return self.default_limit, self.default_window


class RateLimited(Exception):
    """Raised when a request must be answered with 429."""

    def __init__(self, headers: dict[str, str], body: dict[str, Any]) -> None:
        super().__init__(body["message"])
        self.headers = headers
        self.body = body


@dataclass
class _Window:
    count: int
    resets_at: float  # time.time()


class RateLimiter:
    """Counts requests in fixed windows, like Discord's buckets as seen by a client."""

    # topics/rate-limits.mdx: per-route buckets with X-RateLimit-Limit/Remaining/Reset/
    # Reset-After/Bucket headers, a global 50 requests per second, and 429 bodies with
    # `retry_after` and `global`.

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._buckets: dict[str, _Window] = {}
        self._global = _Window(0, 0.0)
        self.hits_429 = 0
        self.global_429 = 0  # of those, the bot-wide limit (the rest: a route's bucket)

    def reset(self) -> None:
        """Forget all counts (e.g. between tests)."""
        self._buckets.clear()
        self._global = _Window(0, 0.0)

    def check(
        self, method: str, template: str, major: str, *, count_global: bool = True
    ) -> dict[str, str]:
        """Count one request; return headers for the answer, or raise RateLimited."""
        cfg = self.config
        if not cfg.enabled:
            return {}
        now = time.time()
        if count_global:
            glob = self._global
            if now >= glob.resets_at:
                glob.count, glob.resets_at = 0, now + cfg.global_window
            if glob.count >= cfg.global_limit:
                self.hits_429 += 1
                self.global_429 += 1
                retry = glob.resets_at - now
                raise RateLimited(
                    {
                        "Retry-After": str(math.ceil(retry)),
                        "X-RateLimit-Global": "true",
                        "X-RateLimit-Scope": "global",
                        "Via": "1.1 google",
                    },
                    {
                        "message": "You are being rate limited.",
                        "retry_after": round(retry, 3),
                        "global": True,
                    },
                )
            glob.count += 1
        limit, window = cfg.bucket_for(method, template)
        bucket_hash = hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:16]
        key = f"{bucket_hash}:{major}"
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.resets_at:
            bucket = self._buckets[key] = _Window(0, now + window)
        reset_after = max(bucket.resets_at - now, 0.0)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Reset": f"{bucket.resets_at:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }
        if bucket.count >= limit:
            self.hits_429 += 1
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Scope": "user",
                    "Retry-After": str(math.ceil(reset_after)),
                    "Via": "1.1 google",
                }
            )
            body = {
                "message": "You are being rate limited.",
                "retry_after": round(reset_after, 3),
                "global": False,
            }
            raise RateLimited(headers, body)
        bucket.count += 1
        headers["X-RateLimit-Remaining"] = str(limit - bucket.count)
        return headers
