"""How fast the host runs plain Python at the moment of a benchmark.

These machines are shared: the same code measured minutes apart differs by up to ±30 %. The
benchmarks with absolute targets (seconds, not ratios) print this reference beside their
figures. It is a hint, not a correction: a tight integer loop sees a busy CPU, but not every
slow phase (memory-bound work such as planning slowed by a quarter while it did not move).
"""

from __future__ import annotations

import time

REFERENCE_STEPS = 1_000_000


def reference_seconds(repeats: int = 3) -> float:
    """Best of `repeats` timings of a fixed pure-Python loop (integer arithmetic and a branch
    per step: the kind of work tokenising and matching do)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for i in range(REFERENCE_STEPS):
            if i & 3:
                total += i & 7
        best = min(best, time.perf_counter() - start)
    return best


def describe(before: float, after: float) -> str:
    """One line for a benchmark's footer."""
    return (
        f"host: a fixed {REFERENCE_STEPS:,}-step Python loop took {before * 1000:.0f} ms before"
        f" and {after * 1000:.0f} ms after (compare between runs: higher is a slower host)"
    )
