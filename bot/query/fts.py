"""Translating a query into an SQLite FTS5 MATCH expression that selects a superset of matches.

The FTS table has columns title, abstract, authors, keywords and the default unicode61 tokenizer,
which neither stems nor knows our compound tokens. So: a word becomes an OR of its plural forms, a
phrase or compound becomes an FTS phrase of prefixes (`"model"* + "merg"*`), NOT terms are dropped
and `cat:` terms (no FTS column) put no constraint. Every token is quoted, so no query can produce
an FTS5 syntax error.
"""

from __future__ import annotations

import itertools
import math

from bot.query.nodes import LIKE, And, Leaf, Node, Not, Or
from bot.query.text import PART_RE, joined_key, stem, word_forms

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


# -- the search index (migration fts_contentless): a categories column, and exactness --------

_SEARCH_COLUMNS = {**_COLUMNS, "categories": "categories"}


def _exact_word(leaf: Leaf) -> bool:
    """Whether the index matches this leaf exactly where the evaluator does: one ASCII word or
    prefix (the index holds the matcher's folded parts, diacritics kept), or a whole category."""
    if len(leaf.words) != 1 or not leaf.words[0].isascii():
        return False
    word = leaf.words[0]
    if leaf.prefix or word.isalnum():
        return len(PART_RE.findall(word)) == 1
    return leaf.field == "categories"  # the index holds each category's joined key


_MAX_PHRASES = 16  # a phrase widened to every plural form of each word, at most this many


def _exact_phrase(leaf: Leaf) -> str | None:
    """A phrase of plain ASCII words as an OR of phrases of their exact forms (`"a b"` ->
    `"a" + "b" OR "a" + "bs"`), which the index matches exactly where the evaluator does (the
    index keeps a gap between items, as the evaluator does); None beyond `_MAX_PHRASES`."""
    if leaf.prefix or leaf.field == "categories" or len(leaf.words) < 2:
        return None
    if not all(w.isascii() and w.isalnum() for w in leaf.words):
        return None
    forms = [
        list(dict.fromkeys([w, *word_forms(k)])) for w, k in zip(leaf.words, leaf.keys, strict=True)
    ]
    if math.prod(len(f) for f in forms) > _MAX_PHRASES:
        return None
    phrases = [" + ".join(_quote(w) for w in combo) for combo in itertools.product(*forms)]
    return "(" + " OR ".join(phrases) + ")"


def _search_leaf(leaf: Leaf) -> tuple[str, bool]:
    column = _TEXT_COLUMNS if leaf.field is None else _SEARCH_COLUMNS[leaf.field]
    phrase = _exact_phrase(leaf)
    if phrase is not None:
        return f"{column} : {phrase}", True
    exact = _exact_word(leaf)
    if leaf.field == "categories" and exact and not leaf.prefix and not leaf.words[0].isalnum():
        return f"categories : {_quote(joined_key(leaf.keys[0]))}", True
    body = _leaf(Leaf(None, leaf.words, leaf.prefix))
    assert body is not None
    body = body.removeprefix(_TEXT_COLUMNS + " : ")
    return f"{column} : {body}", exact


def search_expression(node: Node) -> tuple[str | None, bool]:
    """The search index's MATCH expression for a tree and whether it selects exactly the
    matching papers (then no match needs re-checking to be counted); None: it can't narrow."""
    if isinstance(node, Leaf):
        if node.field == LIKE:  # similarity has no index column: bot/likes.py narrows it
            return None, False
        return _search_leaf(node)
    if isinstance(node, Not):
        return None, False  # only meaningful beside a positive term: see And
    if isinstance(node, Or):
        parts = [search_expression(c) for c in node.children]
        if any(expr is None for expr, _ in parts):
            return None, False
        return "(" + " OR ".join(e for e, _ in parts if e) + ")", all(x for _, x in parts)
    assert isinstance(node, And)
    positive = [search_expression(c) for c in node.children if not isinstance(c, Not)]
    kept = [expr for expr, _ in positive if expr is not None]
    if not kept:
        return None, False
    exact = len(kept) == len(positive) and all(x for _, x in positive)
    expr = kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"
    for child in node.children:
        if isinstance(child, Not):
            excluded, child_exact = search_expression(child.child)
            if excluded is not None and child_exact:  # an inexact NOT could drop true matches
                expr = f"({expr} NOT {excluded})"
            else:
                exact = False
    return expr, exact
