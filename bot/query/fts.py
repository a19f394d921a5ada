"""Translating a query into an SQLite FTS5 MATCH expression that selects a superset of matches.

The FTS table has columns title, abstract, authors, keywords and the default unicode61 tokenizer,
which neither stems nor knows our compound tokens. So: a word becomes an OR of its plural forms, a
phrase or compound becomes an FTS phrase of prefixes (`"model"* + "merg"*`), NOT terms are dropped
and `cat:` terms (no FTS column) put no constraint. Every token is quoted, so no query can produce
an FTS5 syntax error.
"""

from __future__ import annotations

from bot.query.nodes import LIKE, And, Leaf, Node, Not, Or
from bot.query.text import PART_RE, stem, word_forms

_COLUMNS = {"title": "title", "abstract": "abstract", "authors": "authors"}
_TEXT_COLUMNS = "{title abstract keywords}"


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _part_phrase(part: str) -> str:
    """One phrase element matching every plural form of the part."""
    forms = list(dict.fromkeys([part, *word_forms(stem(part))]))
    if len(forms) == 1:
        return _quote(part)
    root = min(forms, key=len)
    while not all(f.startswith(root) for f in forms):  # studies, study -> "stud"*
        root = root[:-1]
    return _quote(root) + "*"


def _leaf(leaf: Leaf) -> str | None:
    if leaf.field in ("categories", LIKE):  # no FTS column: similarity is scored elsewhere
        return None
    if leaf.prefix:
        parts = PART_RE.findall(leaf.words[0])
        body = " + ".join([*(_quote(p) for p in parts[:-1]), _quote(parts[-1]) + "*"])
    elif len(leaf.words) == 1 and leaf.words[0].isalnum():
        forms = list(dict.fromkeys([leaf.words[0], *word_forms(leaf.keys[0])]))
        body = (
            "(" + " OR ".join(_quote(f) for f in forms) + ")"
            if len(forms) > 1
            else _quote(forms[0])
        )
    else:
        parts = [p for w in leaf.words for p in PART_RE.findall(w)]
        body = " + ".join(_part_phrase(p) for p in parts)
    column = _TEXT_COLUMNS if leaf.field is None else _COLUMNS[leaf.field]
    return f"{column} : ({body})"


def fts_expression(node: Node) -> str | None:
    """The FTS5 expression for a tree, or None when FTS cannot narrow it (e.g. `cat:` only)."""
    if isinstance(node, Leaf):
        return _leaf(node)
    if isinstance(node, Not):
        return None
    parts = [fts_expression(c) for c in node.children]
    if isinstance(node, And):
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"
    assert isinstance(node, Or)
    if any(p is None for p in parts):
        return None
    return "(" + " OR ".join(p for p in parts if p is not None) + ")"
