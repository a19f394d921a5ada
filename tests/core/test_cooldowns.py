"""The per-user token bucket behind every command's cooldown, and /paper's memory of misses, on a
clock the tests move by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cooldowns import BucketRate, TokenBuckets
from bot.paper_lookup import RecentMisses
from tests.support import NOW

SEARCH = BucketRate(capacity=4, refill_seconds=5.0)
ALICE, BOB = 1, 2


def uses(buckets: TokenBuckets, key: int, times: list[float]) -> list[float]:
    """What `take` answers at each of `times` (0.0 allowed, else seconds to wait)."""
    return [buckets.take(key, t) for t in times]


def test_a_member_refining_a_search_four_times_in_ten_seconds_is_never_refused() -> None:
    buckets = TokenBuckets(SEARCH)
    assert uses(buckets, ALICE, [0.0, 2.5, 6.0, 9.5]) == [0.0, 0.0, 0.0, 0.0]
    # even all at once: the burst is the capacity
    assert uses(TokenBuckets(SEARCH), BOB, [0.0, 0.0, 0.0, 0.0]) == [0.0] * 4


def test_sustained_spam_gets_one_use_per_refill() -> None:
    buckets = TokenBuckets(SEARCH)
    assert uses(buckets, ALICE, [0.0] * 4) == [0.0] * 4
    assert buckets.take(ALICE, 0.0) == 5.0  # the fifth at once waits a full refill
    assert buckets.take(ALICE, 1.0) == 4.0  # a refusal takes nothing: the wait just shrinks
    assert buckets.take(ALICE, 5.0) == 0.0  # one token back after 5 s...
    assert buckets.take(ALICE, 5.5) == 4.5  # ...and only one
    # a spammer firing every second for a minute gets about one use per 5 s
    allowed = sum(buckets.take(ALICE, 6.0 + s) == 0.0 for s in range(60))
    assert allowed == 12


def test_the_wait_is_what_a_person_reads() -> None:
    buckets = TokenBuckets(SEARCH)
    uses(buckets, ALICE, [0.0] * 4)
    assert buckets.take(ALICE, 2.0) == 3.0  # "try again in 3 s", not 3.0000000000000004


def test_a_pause_refills_the_burst_but_never_beyond_capacity() -> None:
    buckets = TokenBuckets(SEARCH)
    uses(buckets, ALICE, [0.0] * 4)
    assert uses(buckets, ALICE, [3600.0] * 5) == [0.0, 0.0, 0.0, 0.0, 5.0]


def test_members_have_their_own_buckets() -> None:
    buckets = TokenBuckets(SEARCH)
    uses(buckets, ALICE, [0.0] * 4)
    assert buckets.take(ALICE, 0.0) > 0
    assert buckets.take(BOB, 0.0) == 0.0


def test_a_clock_set_back_refills_nothing_and_drains_nothing() -> None:
    buckets = TokenBuckets(SEARCH)
    assert uses(buckets, ALICE, [100.0, 100.0]) == [0.0, 0.0]
    assert uses(buckets, ALICE, [40.0, 40.0, 40.0]) == [0.0, 0.0, 5.0]
    assert buckets.take(ALICE, 105.0) == 0.0  # refills from the latest time seen


def test_memory_stays_bounded_and_refilled_buckets_go_first() -> None:
    buckets = TokenBuckets(SEARCH, max_keys=100)
    for user in range(1_000):
        buckets.take(user, float(user))  # one use each, a second apart
    assert len(buckets) <= 100
    # forgetting a full bucket changes nothing: a member seen long ago starts with a burst
    assert uses(buckets, 0, [1_000.0] * 4) == [0.0] * 4
    # past the bound, even busy members are forgotten oldest first (they get a fresh burst)
    crowded = TokenBuckets(SEARCH, max_keys=3)
    for user in range(10):
        crowded.take(user, 0.0)
    assert len(crowded) == 3


@pytest.mark.parametrize("capacity, refill", [(0, 5.0), (4, 0.0), (4, -1.0)])
def test_a_rate_that_could_never_allow_anything_is_refused(capacity: int, refill: float) -> None:
    with pytest.raises(ValueError, match="capacity"):
        BucketRate(capacity, refill)


# /paper's memory of what Hugging Face didn't know


def test_a_miss_is_remembered_for_the_ttl_only() -> None:
    misses = RecentMisses(ttl=timedelta(hours=1))
    misses.add("2609.12345", NOW)
    assert misses.recently_missed("2609.12345", NOW + timedelta(minutes=59))
    assert not misses.recently_missed("2609.00001", NOW)
    assert not misses.recently_missed("2609.12345", NOW + timedelta(hours=1))
    assert len(misses) == 0  # expired entries are dropped, not kept


def test_a_repeated_miss_starts_its_hour_again() -> None:
    misses = RecentMisses(ttl=timedelta(hours=1))
    misses.add("2609.12345", NOW)
    misses.add("2609.00002", NOW + timedelta(minutes=10))
    misses.add("2609.12345", NOW + timedelta(minutes=30))
    later = NOW + timedelta(minutes=75)
    assert misses.recently_missed("2609.12345", later)
    assert not misses.recently_missed("2609.00002", later)


def test_misses_are_bounded_oldest_forgotten_first() -> None:
    misses = RecentMisses(limit=3)
    for n in range(5):
        misses.add(f"2609.{n:05d}", NOW + timedelta(seconds=n))
    assert len(misses) == 3
    assert not misses.recently_missed("2609.00000", NOW)
    assert misses.recently_missed("2609.00004", NOW)
