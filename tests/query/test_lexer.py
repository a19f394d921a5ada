"""The lexer scans with one regular expression; these tests hold it to the character-by-character
definition it replaced (tokens, columns and the error raised, for any text)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.query.errors import QueryError
from bot.query.lexer import FIELD_ALIASES, FIELD_HELP, Token, lex

_FIELD_RE = re.compile(r"([A-Za-z]+):")


def reference_lex(text: str) -> list[Token]:
    """The definition: a character at a time (the lexer as it was first written)."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch, col = text[i], i + 1
        if ch.isspace():
            i += 1
        elif ch in "(),":
            out.append(Token(ch, ch, col))  # type: ignore[arg-type]
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError(f"unclosed quote at column {col}", col)
            out.append(Token("phrase", text[i + 1 : end], col))
            i = end + 1
        elif ch == "-" and (i + 1 >= n or text[i + 1].isspace()):
            raise QueryError(f"'-' needs a term right after it at column {col}", col)
        elif ch == "-":
            out.append(Token("-", "-", col))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '"(),':
                j += 1
            word = text[i:j]
            field = _FIELD_RE.match(word)
            if field:
                name = field.group(1).lower()
                if name not in FIELD_ALIASES:
                    raise QueryError(
                        f"unknown field '{field.group(1)}:' at column {col} {FIELD_HELP}", col
                    )
                out.append(Token("field", FIELD_ALIASES[name], col))
                j = i + field.end()
                if name == "like" and j < len(word) + i:
                    out.append(Token("word", text[j : i + len(word)], j + 1))
                    j = i + len(word)
            elif word in ("OR", "AND", "NOT"):
                out.append(Token(word, word, col))  # type: ignore[arg-type]
            else:
                out.append(Token("word", word, col))
            i = j
    return out


def outcome(lexer: object, text: str) -> object:
    """The tokens, or the error's message and column."""
    try:
        return lexer(text)  # type: ignore[operator]
    except QueryError as e:
        return ("error", str(e), e.column)


# the characters the lexer treats specially, Unicode spaces (which `str.isspace` knows) and
# pieces of field names, so random text often makes fields, phrases, dashes and errors
PIECES = st.sampled_from(
    [
        " ", "\t", "\u00a0", "\u2003", "\x1f", '"', "(", ")", ",", "-", ":", "*", "a", "Z", "7",
        "é", "title:", "TITLE:", "author:", "cat:", "like:", "abstract:", "foo:", "OR", "AND",
        "NOT", "2106.09685", "https://arxiv.org/abs/2106.09685", "gpt-4o", "-x",
    ]
)  # fmt: skip


@given(st.lists(PIECES, max_size=14).map("".join))
@settings(max_examples=1500)
def test_the_scanner_lexes_exactly_as_the_definition(text: str) -> None:
    assert outcome(lex, text) == outcome(reference_lex, text)


@given(st.text(max_size=40))
@settings(max_examples=500)
def test_any_text_lexes_exactly_as_the_definition(text: str) -> None:
    assert outcome(lex, text) == outcome(reference_lex, text)


@pytest.mark.parametrize(
    "text",
    [
        'title:-(a b) "x y" -z',  # a dash after a field, before a group
        "title:-",  # a dash ending the text after a field
        "title:- x",
        "title:cat:x",
        "like:arXiv:2106.09685 OR like:",
        'abstract:"unclosed',
        "a,b (c) NOT-d",
        "\u2003-\u00a0x",  # Unicode spaces around a dash
    ],
)
def test_edge_cases_lex_as_the_definition(text: str) -> None:
    assert outcome(lex, text) == outcome(reference_lex, text)
