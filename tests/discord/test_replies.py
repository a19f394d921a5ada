"""A bug in a command logs one bounded traceback: a runaway recursion never floods the log."""

from __future__ import annotations

from bot.discord.replies import TRACEBACK_CHARS, bounded_traceback


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _caught(fn: object) -> BaseException:
    try:
        fn()  # type: ignore[operator]
    except BaseException as exc:  # the test wants whatever it raised
        return exc
    raise AssertionError("expected an exception")


def test_a_recursion_error_logs_a_few_frames_not_a_thousand() -> None:
    error = _caught(lambda: _recurse(0))
    text = bounded_traceback(error)
    assert text.startswith("Traceback (most recent call last)")
    assert text.endswith("RecursionError: maximum recursion depth exceeded")
    assert text.count("in _recurse") <= 12
    assert len(text) <= TRACEBACK_CHARS + 100


def test_a_huge_message_is_cut_in_the_middle_keeping_both_ends() -> None:
    def shout() -> None:
        raise ValueError("x" * 1_000_000)

    text = bounded_traceback(_caught(shout))
    assert len(text) < TRACEBACK_CHARS + 100
    assert text.startswith("Traceback") and "characters cut" in text


def test_a_chained_error_keeps_its_cause() -> None:
    def chained() -> None:
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc

    text = bounded_traceback(_caught(chained))
    assert "KeyError: 'missing'" in text and text.endswith("RuntimeError: lookup failed")
