"""Keeping the garbage collector's full passes off the shared match.

A full collection walks every tracked object. The shared match of a big server holds about a
million (parsed subscriptions, their matcher, a batch of papers and bitsets) which live until
the next change and hold no reference cycles. Building it made the collector walk that heap
again and again (1.4 s of a cold build at 100,000 subscriptions), and one full pass (~0.3 s)
still landed in the middle of the slot's plans.

So a build runs with automatic collection paused (`collector_paused`), and a big one is then
`settled` before the pause ends: everything alive is frozen (`gc.freeze`), so later passes
skip it. (Settled after the pause, the first allocation would start a pass over every object
the build made, ~60 ms at 100,000 subscriptions, just before the freeze hid them all.)
A frozen object is still freed by its reference count (an old batch, replaced, goes at once);
only garbage in reference cycles waits, until the next full settle, at most an hour later,
collects whatever died since (unfreeze, collect, freeze again: one full pass, ~0.3 s at
100,000 subscriptions, which a build at the slot would rather not pay every time).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Distinct subscriptions from which a build is worth settling: below it the heap is small and
# a full pass cheap (tests, most servers), above it one pass costs tenths of a second.
SETTLE_FROM = 10_000
FULL_SETTLE_EVERY = 3600.0  # seconds: how long cyclic garbage may wait among frozen objects

_lock = threading.Lock()
_depth = 0  # builds under way (the feeds' and the DM digests' can overlap on two threads)
_resume = False  # whether automatic collection was on when the first of them began
_last_full: float | None = None  # time.monotonic() of the last full settle


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
    """After building long-lived data for `size` distinct subscriptions, still inside
    `collector_paused` (freezing resets the young generation's count): freeze what is alive,
    first collecting what died since the last full settle if that was `FULL_SETTLE_EVERY` ago
    (the first settle starts that clock; only from `SETTLE_FROM`). True if settled."""
    global _last_full
    if size < SETTLE_FROM:
        return False
    with _lock:
        now = time.monotonic()
        if _last_full is None:
            # The first build (a cold start, which a digest may be waiting for) only freezes:
            # a full pass over the new process's heap cost ~0.13 s of it, to free the little
            # cyclic garbage the start-up made, which the full settle an hour later frees.
            _last_full = now
        elif now - _last_full >= FULL_SETTLE_EVERY:
            gc.unfreeze()  # what earlier settles froze is collectable again
            gc.collect()
            _last_full = now
        gc.freeze()
    return True
