"""Keeping the garbage collector's full passes off the shared match.

A full collection walks every tracked object. The shared match of a big server holds about a
million (parsed subscriptions, their matcher, a batch of papers and bitsets) which live until
the next change and hold no reference cycles. Building it made the collector walk that heap
again and again (1.4 s of a cold build at 100,000 subscriptions), and one full pass (~0.3 s)
still landed in the middle of the slot's plans.

So a build runs with automatic collection paused (`collector_paused`), and a big one is then
`settled`: whatever an earlier settle froze is collected if it has died since, and everything
alive is frozen (`gc.freeze`), so later passes skip it. Nothing leaks: each settle unfreezes
first, so cyclic garbage is collected at the next settle at the latest.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Distinct subscriptions from which a build is worth settling: below it the heap is small and
# a full pass cheap (tests, most servers), above it one pass costs tenths of a second.
SETTLE_FROM = 10_000

_lock = threading.Lock()
_depth = 0  # builds under way (the feeds' and the DM digests' can overlap on two threads)
_resume = False  # whether automatic collection was on when the first of them began


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection while the block builds long-lived, acyclic data."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


def settle(size: int) -> bool:
    """After building long-lived data for `size` distinct subscriptions: collect what died
    since the last settle and freeze what is alive (only from `SETTLE_FROM`). True if settled."""
    if size < SETTLE_FROM:
        return False
    with _lock:
        gc.unfreeze()  # what the last settle froze is collectable again
        gc.collect()
        gc.freeze()
    return True
