"""Evaluating a query tree on one tokenised paper, and explaining a match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from bot.query.nodes import And, Leaf, Node, Not, Or
from bot.query.text import Document, FieldText


class MatchedTerm(NamedTuple):
    """One query term found in one field.

    `field` is one of 'title', 'abstract', 'keywords', 'authors', 'categories'. A tuple, so
    merging the terms of many matches dedupes them at C speed (a digest merges ~600k a day).
    """

    term: str
    field: str


@dataclass(frozen=True, slots=True)
class Match:
    """Why a paper matched: the positive terms of the satisfied parts of the query."""

    terms: tuple[MatchedTerm, ...]

    def describe(self) -> str:
        """Human-readable reason, e.g. `diffusion (title), "masked diffusion" (abstract)`."""
        return ", ".join(
            t.term if t.field == "like" else f"{t.term} ({t.field})" for t in self.terms
        )


def leaf_in_field(leaf: Leaf, text: FieldText) -> bool:
    """Whether one field of a paper contains the leaf."""
    if leaf.prefix:
        return text.has_prefix(leaf.keys[0])
    if len(leaf.keys) == 1:
        return leaf.keys[0] in text.keys
    return text.has_phrase(leaf.keys, leaf.spans)


def leaf_fields(leaf: Leaf, doc: Document) -> tuple[str, ...]:
    """The fields of the paper where the leaf occurs, in field order."""
    return tuple(f for f in leaf.fields if leaf_in_field(leaf, doc.fields[f]))


def evaluate(node: Node, doc: Document) -> bool:
    """Whether the paper satisfies the query tree (brute force)."""
    if isinstance(node, Leaf):
        return any(leaf_in_field(node, doc.fields[f]) for f in node.fields)
    if isinstance(node, Not):
        return not evaluate(node.child, doc)
    if isinstance(node, And):
        return all(evaluate(c, doc) for c in node.children)
    return any(evaluate(c, doc) for c in node.children)


def explain(
    node: Node,
    satisfied: Callable[[Node], bool],
    fields_of: Callable[[Leaf], tuple[str, ...]],
) -> Match:
    """Collect matched terms of a satisfied tree: all AND children, satisfied OR children, no NOTs.

    Shared by the brute-force evaluator and the indexed matcher so both explain identically.
    """
    out: list[MatchedTerm] = []

    def walk(n: Node) -> None:
        if isinstance(n, Leaf):
            out.extend(MatchedTerm(n.label, f) for f in fields_of(n))
        elif isinstance(n, And):
            for c in n.children:
                walk(c)
        elif isinstance(n, Or):
            for c in n.children:
                if satisfied(c):
                    walk(c)
        # a NOT never contributes terms: its child is absent from the paper

    walk(node)
    return Match(tuple(dict.fromkeys(out)))


def match_document(node: Node, doc: Document) -> Match | None:
    """The reference evaluation: a Match if the paper satisfies the tree, else None."""
    if not evaluate(node, doc):
        return None
    return explain(node, lambda n: evaluate(n, doc), lambda leaf: leaf_fields(leaf, doc))
