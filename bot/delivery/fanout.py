"""Running one delivery per feed or member, many at once (Discord-free)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def for_each_at_once(
    items: Sequence[T], work: Callable[[T], Awaitable[R]], *, limit: int
) -> list[R]:
    """`work(item)` for every item, at most `limit` at a time; the results in the items' order.

    One failing does not stop the others (each delivery is its own exactly-once run, and an
    unfinished one resumes next time anyway); once all are done the first failure is raised as
    it was, so callers catch the same exceptions as from a plain loop.
    """
    slots = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with slots:
            return await work(item)

    outcomes = await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes  # type: ignore[return-value]  # no exception left: all are R
