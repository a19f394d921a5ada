"""Many deliveries at once: bounded, results in order, and one failure neither hides the others'
work nor changes what the caller catches."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.fanout import for_each_at_once


async def test_at_most_limit_run_at_once_and_results_keep_the_items_order() -> None:
    running: set[int] = set()
    peak = 0
    gate = asyncio.Event()

    async def work(n: int) -> int:
        nonlocal peak
        running.add(n)
        peak = max(peak, len(running))
        await gate.wait()
        await asyncio.sleep(0.001 * (10 - n))  # later items finish first
        running.discard(n)
        return n * n

    task = asyncio.create_task(for_each_at_once(list(range(10)), work, limit=3))
    for _ in range(20):
        await asyncio.sleep(0)
    assert running == {0, 1, 2}  # the bound holds while they wait
    gate.set()
    assert await asyncio.wait_for(task, 10) == [n * n for n in range(10)]
    assert peak == 3


async def test_a_failure_lets_the_others_finish_then_is_raised_as_it_was() -> None:
    done: list[int] = []

    async def work(n: int) -> int:
        await asyncio.sleep(0)
        if n == 1:
            raise LookupError("member 1")
        done.append(n)
        return n

    with pytest.raises(LookupError, match="member 1"):
        await for_each_at_once([0, 1, 2, 3], work, limit=2)
    assert sorted(done) == [0, 2, 3]
