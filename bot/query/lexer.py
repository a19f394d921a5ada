"""Splitting query text into tokens, each with its 1-based column."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, NamedTuple

from bot.query.errors import QueryError

Kind = Literal["word", "phrase", "field", "(", ")", ",", "OR", "AND", "NOT", "-"]

FIELD_ALIASES = {
    "title": "title",
    "abstract": "abstract",
    "author": "authors",
    "cat": "categories",
    "like": "like",
}
FIELD_HELP = "(use title:, abstract:, author:, cat:, like:)"

_FIELD_RE = re.compile(r"([A-Za-z]+):")


class Token(NamedTuple):
    """One lexical token: `text` is the word, phrase body or field name. A tuple: a hundred
    thousand subscriptions are lexed when the bot starts, and a frozen dataclass is slow to make."""

    kind: Kind
    text: str
    column: int


# One scanner for every token, so a query is lexed in C, not a character at a time. The groups:
# a bracket or comma, a closed phrase, an unclosed quote, a '-', a word (up to a space, a quote,
# a bracket or a comma; `\s` is exactly `str.isspace` for str patterns). Spaces are skipped.
_SCAN = re.compile(r'\s+|([(),])|"([^"]*)"|(")|(-)|([^\s"(),]+)')
_OPERATORS = frozenset(("OR", "AND", "NOT"))


def lex(text: str) -> list[Token]:
    """Turn query text into tokens; raises QueryError on an unclosed quote or unknown field."""
    out: list[Token] = []
    _scan(text, 0, len(text), out.append)
    return out


def _scan(text: str, start: int, end: int, append: Callable[[Token], None]) -> None:
    """Lex `text[start:end]` (columns and the look past a '-' are the whole text's)."""
    for m in _SCAN.finditer(text, start, end):
        bracket, phrase, quote, dash, word = m.groups()
        col = m.start() + 1
        if word is not None:
            if ":" in word and (field := _FIELD_RE.match(word)):
                _field(text, m.start(), word, field, append)
            elif word in _OPERATORS:
                append(Token(word, word, col))  # type: ignore[arg-type]
            else:
                append(Token("word", word, col))
        elif phrase is not None:
            append(Token("phrase", phrase, col))
        elif bracket is not None:
            append(Token(bracket, bracket, col))  # type: ignore[arg-type]
        elif dash is not None:
            if m.end() == len(text) or text[m.end()].isspace():
                raise QueryError(f"'-' needs a term right after it at column {col}", col)
            append(Token("-", "-", col))
        elif quote is not None:
            raise QueryError(f"unclosed quote at column {col}", col)


def _field(
    text: str, start: int, word: str, field: re.Match[str], append: Callable[[Token], None]
) -> None:
    """A `name:` prefix as a field token, then what follows the colon lexed on its own."""
    col = start + 1
    name = field.group(1).lower()
    if name not in FIELD_ALIASES:
        raise QueryError(f"unknown field '{field.group(1)}:' at column {col} {FIELD_HELP}", col)
    append(Token("field", FIELD_ALIASES[name], col))
    rest = start + field.end()
    if rest == start + len(word):
        return
    if name == "like":
        # an id or URL, colons and all (`like:arXiv:2106.09685`, `like:https://…`)
        append(Token("word", word[field.end() :], rest + 1))
        return
    _scan(text, rest, start + len(word), append)  # e.g. `title:-x` or `title:cat:x`
