"""Plain-word queries (`llm agents`, `rlhf OR dpo`) skip the lexer and the descent; these tests
hold the shortcut to the parser: the same tree and anchors for any text it takes."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.query.errors import QueryError
from bot.query.nodes import Leaf, Node
from bot.query.parser import _Parser, _plain_words, parse_anchored


def descended(text: str) -> tuple[Node, tuple[Leaf, ...]] | QueryError:
    """What the recursive-descent parser alone makes of `text` (or the error it raises)."""
    parser = _Parser(text)
    try:
        return parser.parse(), parser.anchors
    except QueryError as exc:
        return exc


# words, operators, negations, compounds, punctuation and odd spaces, so texts land on both
# sides of the shortcut's edge
_PIECES = st.sampled_from(
    ["llm", "models", "gpt-4o", "cs.cl", "Ünïcode", "a", "studies", "OR", "AND", "NOT", "or",
     "-x", "x-", "--", "...", "3.5", "日本語", "café", "ﬁne", "a/b", "_", "é"]
)  # fmt: skip
_SPACES = st.sampled_from([" ", "  ", "\t", "\u3000", "\x1c", "\n", " OR ", " AND "])


@st.composite
def texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(_PIECES, min_size=1, max_size=6))
    out = [pieces[0]]
    for piece in pieces[1:]:
        out += [draw(_SPACES), piece]
    return draw(_SPACES) * draw(st.integers(0, 1)) + "".join(out)


@settings(max_examples=400, deadline=None)
@given(texts())
@example("llm")
@example("rlhf OR dpo OR ppo")
@example("diffusion models diffusion")
@example("a OR a")
@example("a OR b c")
@example("OR")
@example("x OR")
@example("... llm")
def test_the_shortcut_builds_what_the_parser_builds(text: str) -> None:
    shortcut = _plain_words(text)
    if shortcut is not None:
        assert shortcut == descended(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_the_shortcut_takes_parses_the_same(text: str) -> None:
    shortcut = _plain_words(text)
    if shortcut is not None:
        assert shortcut == descended(text)


@pytest.mark.parametrize(
    "text", ["llm", "llm agents", "gpt-4o  reasoning\u3000models", "rlhf OR dpo", "a OR b OR a"]
)
def test_plain_words_take_the_shortcut(text: str) -> None:
    assert _plain_words(text) is not None
    assert parse_anchored(text) == descended(text)


@pytest.mark.parametrize(
    "text",
    ["llm -survey", "a AND b", "NOT a", "a OR b c", "title:llm", '"a b"', "quantiz*", "(a)",
     "a, b", "OR a", "a OR", "...", "a ... b"],
)  # fmt: skip
def test_anything_else_goes_to_the_parser(text: str) -> None:
    assert _plain_words(text) is None
