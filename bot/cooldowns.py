"""How often one person may run a command: a token bucket per user, Discord-free.

A bucket holds up to `capacity` tokens and gets one back every `refill_seconds`; each use takes
one. A member refining a search can fire a short burst (the capacity) without being refused,
while sustained spam is held to the refill rate. Unlike a fixed window, a refused member only
waits for the next token, not for a whole window to pass. Time is passed in by the caller (the
bot's clock), so tests move it by hand.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_MAX_KEYS = 10_000  # buckets kept in memory at most; see `_prune`


@dataclass(frozen=True, slots=True)
class BucketRate:
    """A burst of `capacity` uses, then one use per `refill_seconds`."""

    capacity: int
    refill_seconds: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.refill_seconds <= 0:
            raise ValueError(f"a bucket needs capacity ≥ 1 and a positive refill: {self}")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float  # seconds, on the caller's clock


class TokenBuckets:
    """One token bucket per key (a user id), all at the same rate."""

    def __init__(self, rate: BucketRate, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: int, now: float) -> float:
        """Use one token of `key`'s bucket at time `now` (seconds): 0.0 if allowed, else the
        seconds until a token is back (nothing is taken then)."""
        bucket = self._refilled(key, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        # Rounded to the microsecond: 2 s into a 5 s refill reads "3 s", not 3.0000000000000004.
        return round((1.0 - bucket.tokens) * self.rate.refill_seconds, 6)

    def _refilled(self, key: int, now: float) -> _Bucket:
        rate = self.rate
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(rate.capacity), now)
            self._buckets[key] = bucket
            self._prune(now)
        else:
            # A clock set back (e.g. by NTP) refills nothing rather than draining the bucket.
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(rate.capacity), bucket.tokens + elapsed / rate.refill_seconds)
            bucket.updated = max(bucket.updated, now)
            self._buckets.move_to_end(key)
        return bucket

    def _prune(self, now: float) -> None:
        """Keep memory bounded: forget buckets that have refilled (forgetting a full bucket changes
        nothing), and past `max_keys` the least recently used (that member gets a fresh burst)."""
        full_after = self.rate.capacity * self.rate.refill_seconds
        # Every use moves its key to the end, so the longest unused (the full ones) lead.
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if len(self._buckets) <= self.max_keys and now - oldest.updated < full_after:
                return
            self._buckets.popitem(last=False)
