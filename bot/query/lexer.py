"""Splitting query text into tokens, each with its 1-based column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

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

_SPECIAL = '"(),'
_FIELD_RE = re.compile(r"([A-Za-z]+):")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token: `text` is the word, phrase body or field name."""

    kind: Kind
    text: str
    column: int


def lex(text: str) -> list[Token]:
    """Turn query text into tokens; raises QueryError on an unclosed quote or unknown field."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
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
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
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
                j = i + field.end()  # lex what follows the colon on its own
                if name == "like" and j < len(word) + i:
                    # an id or URL, colons and all (`like:arXiv:2106.09685`, `like:https://…`)
                    out.append(Token("word", text[j : i + len(word)], j + 1))
                    j = i + len(word)
            elif word in ("OR", "AND", "NOT"):
                out.append(Token(word, word, col))  # type: ignore[arg-type]
            else:
                out.append(Token("word", word, col))
            i = j
    return out
