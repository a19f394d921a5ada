"""Queries that cannot be used get a one-line message saying what is wrong and where."""

from __future__ import annotations

import pytest

from bot.query import MAX_QUERY_LENGTH, QueryError, parse

FIELDS = "(use title:, abstract:, author:, cat:, like:)"

ERRORS = [
    ('llm "masked dif', "unclosed quote at column 5", 5),
    ('diffusion "masked', "unclosed quote at column 11", 11),
    ("llm ) x", "unbalanced ')' at column 5", 5),
    ("(a b", "unclosed '(' at column 1", 1),
    ("()", "empty parentheses at column 1", 1),
    ("foo:bar", f"unknown field 'foo:' at column 1 {FIELDS}", 1),
    ("llm Foo:bar", f"unknown field 'Foo:' at column 5 {FIELDS}", 5),
    ("", "empty query", None),
    ("   ", "empty query", None),
    ("llm OR", "OR needs a term on both sides at column 5", 5),
    ("OR llm", "OR needs a term on both sides at column 1", 1),
    ("a OR OR b", "OR needs a term on both sides at column 3", 3),
    ("a,", "',' needs an alternative on both sides at column 2", 2),
    (", a", "',' needs an alternative on both sides at column 1", 1),
    ("q*", "prefix 'q*' at column 1 is too short (at least 3 letters before *)", 1),
    ("llm qu*", "prefix 'qu*' at column 5 is too short (at least 3 letters before *)", 5),
    ("llm foo_bar*", "prefix 'foo_bar*' must be a single word at column 5", 5),
    ("a*b", "'*' must end a word at column 1", 1),
    ("a - b", "'-' needs a term right after it at column 3", 3),
    ("llm NOT", "NOT needs a term after it at column 5", 5),
    ("title:", "'title:' needs a word, phrase or (group) after it at column 1", 1),
    ('a ""', "empty phrase at column 3", 3),
    ("!!", "'!!' has no letters or digits at column 1", 1),
    ("title:(author:x)", "'author:' cannot be used inside 'title:' at column 8", 8),
    (
        "-word",
        _EXCL := "only exclusions at column 1 — an exclusion alone would match almost every "
        "paper, so add a word the paper must contain (e.g. `llm -survey`)",
        1,
    ),
    ("NOT x", _EXCL, 1),
    ("a OR -b", _EXCL.replace("column 1", "column 6"), 6),
    ("a, -b", _EXCL.replace("column 1", "column 4"), 4),
    ("(x OR -y)", _EXCL, 1),
    ("x" * 201, "query is too long (201 characters, at most 200)", None),
]


# Messages the parser owns: each reads as one sentence (no "x: y: z" chains) naming its column.
PARSER_ERRORS = [e for e in ERRORS if e[2] is not None and "unknown field" not in e[1]]


@pytest.mark.parametrize(("query", "message", "column"), PARSER_ERRORS)
def test_parser_messages_are_one_sentence_with_the_column(
    query: str, message: str, column: int
) -> None:
    without_fields = message.replace("'title:'", "").replace("'author:'", "")
    assert ":" not in without_fields
    assert f"column {column}" in message


@pytest.mark.parametrize(("query", "message", "column"), ERRORS)
def test_error_message(query: str, message: str, column: int | None) -> None:
    with pytest.raises(QueryError) as info:
        parse(query)
    assert str(info.value) == message
    assert info.value.message == message
    assert info.value.column == column
    assert "\n" not in str(info.value)


def test_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse("")


def test_longest_allowed_query_parses() -> None:
    assert MAX_QUERY_LENGTH == 200
    parse("a" * MAX_QUERY_LENGTH)


@pytest.mark.parametrize("query", ["x (a OR -b)", "llm -survey", "-survey llm", "a, b -c"])
def test_exclusions_beside_a_positive_term_are_fine(query: str) -> None:
    parse(query)
