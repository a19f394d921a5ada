"""Marking background work (scheduled digests, DM digests, polling), so what it asks of Discord
waits behind what members are waiting for (`bot/discord/pacing.py`).

A context variable: tasks inherit it from the one that starts them, so every request a digest
run makes, in whatever task it spreads to, is known as background work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_BACKGROUND: ContextVar[bool] = ContextVar("paperboy_background", default=False)


def in_background() -> bool:
    """Whether the current task is doing background work."""
    return _BACKGROUND.get()


@contextmanager
def background_work() -> Iterator[None]:
    """Mark what runs inside (and the tasks it starts) as background work."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)
