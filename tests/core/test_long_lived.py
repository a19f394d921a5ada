"""The shared match is built with the collector paused and then frozen out of its full passes;
nothing frozen leaks once it becomes garbage."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from bot import long_lived
from bot.long_lived import SETTLE_FROM, collector_paused, settle


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # leave the rest of the suite an ordinary collector
    gc.enable()


class Node:
    """Something that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_pauses_nest_across_threads_and_restore_the_collector() -> None:
    assert gc.isenabled()
    inner_done = threading.Event()
    with collector_paused():
        assert not gc.isenabled()

        def other_build() -> None:
            with collector_paused():
                assert not gc.isenabled()
            inner_done.set()

        thread = threading.Thread(target=other_build)
        thread.start()
        thread.join()
        assert inner_done.is_set() and not gc.isenabled()  # the outer build still runs
    assert gc.isenabled()


def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_small_builds_are_left_to_the_collector() -> None:
    assert settle(SETTLE_FROM - 1) is False
    assert gc.get_freeze_count() == 0


def test_a_frozen_cycle_that_dies_is_collected_at_the_next_full_settle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(long_lived, "_last_full", None)
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle only the collector can free
    gone = weakref.ref(a)
    assert settle(SETTLE_FROM) is True  # the first settle (a cold start's) only freezes
    assert gc.get_freeze_count() > 0
    del a, b
    gc.collect()
    assert gone() is not None  # frozen: full passes skip it
    settle(SETTLE_FROM)
    assert gone() is not None  # a settle within the hour only freezes: no full pass
    monkeypatch.setattr(long_lived, "FULL_SETTLE_EVERY", 0.0)
    settle(SETTLE_FROM)
    assert gone() is None  # the next full settle unfroze and collected it


def test_an_acyclic_frozen_object_goes_as_soon_as_it_is_dropped() -> None:
    batch = [Node() for _ in range(3)]
    gone = weakref.ref(batch[0])
    settle(SETTLE_FROM)
    del batch
    assert gone() is None  # reference counting still frees it: a replaced batch goes at once


def test_the_first_settle_leaves_cyclic_garbage_for_the_next_full_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(long_lived, "_last_full", None)
    gc.disable()  # as under collector_paused: only settle may collect
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b  # already garbage when the cold start settles
    settle(SETTLE_FROM)
    assert gone() is not None  # no full pass at a cold start: it is frozen with the rest
    monkeypatch.setattr(long_lived, "FULL_SETTLE_EVERY", 0.0)
    settle(SETTLE_FROM)
    assert gone() is None
