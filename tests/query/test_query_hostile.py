"""Hostile queries: nesting, length and any text at all end in one `QueryError`, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.query import MAX_QUERY_LENGTH, QueryError, parse

# the characters the grammar gives meaning to, plus letters, so generated text is mostly syntax
_SYNTAX = st.sampled_from([*'()",-*: ', "OR ", "NOT ", "AND ", "title:", "cat:", "a", "b"])


@pytest.mark.parametrize(
    "text",
    [
        "(" * 141 + "a",  # the reported crash: RecursionError, a 120 KB traceback
        "(" * 149,
        "(" * 60 + "a" + ")" * 60,
        "-(" * 60 + "a",
        "title:(" * 28 + "a",
    ],
)
def test_deep_nesting_is_a_query_error_naming_the_limit(text: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert "\n" not in str(caught.value)


def test_nesting_up_to_the_limit_still_parses() -> None:
    assert parse("(" * 8 + "a b" + ")" * 8).normal == "a b"
    with pytest.raises(QueryError, match=r"too many nested parentheses at column 9 \(at most 8"):
        parse("(" * 9 + "a" + ")" * 9)


def test_a_long_run_of_negations_cancels_without_recursion() -> None:
    assert parse("-" * 196 + "a b").normal == "a b"


def test_an_overlong_query_names_the_limit() -> None:
    with pytest.raises(QueryError, match=f"at most {MAX_QUERY_LENGTH}"):
        parse("a" * (MAX_QUERY_LENGTH + 1))


@given(st.lists(_SYNTAX, max_size=120).map("".join))
def test_any_syntax_soup_parses_or_raises_one_line_query_error(text: str) -> None:
    try:
        q = parse(text[:MAX_QUERY_LENGTH])
    except QueryError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert parse(q.normal).normal == q.normal


@given(st.text(max_size=MAX_QUERY_LENGTH + 20))
def test_any_unicode_text_parses_or_raises_one_line_query_error(text: str) -> None:
    try:
        parse(text)
    except QueryError as e:
        assert str(e) and "\n" not in str(e)
