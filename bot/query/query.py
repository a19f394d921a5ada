"""The parsed, immutable query object shared by subscriptions and /search."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.models import Paper
from bot.query.errors import QueryError
from bot.query.evaluate import Match, match_document
from bot.query.fts import fts_expression
from bot.query.nodes import LIKE, And, Leaf, Node, anchors, leaves, make_and, make_not, render
from bot.query.parser import parse_anchored
from bot.query.text import Document, paper_document


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query; `normal` is its canonical text (equal normal forms are duplicates)."""

    normal: str
    tree: Node = field(compare=False, repr=False)
    anchors: tuple[Leaf, ...] = field(compare=False, repr=False)

    def matches(self, paper: Paper | Document) -> Match | None:
        """The reference (brute-force) evaluation: why the paper matches, or None."""
        doc = paper if isinstance(paper, Document) else paper_document(paper, self.fields)
        return match_document(self.tree, doc)

    @property
    def fields(self) -> tuple[str, ...]:
        """The document fields any of the query's terms looks in."""
        found = (f for leaf, _ in leaves(self.tree) for f in leaf.fields)
        return tuple(dict.fromkeys(found))

    def to_fts(self) -> str:
        """An FTS5 MATCH expression selecting a superset of the matching papers.

        Returns "" when full-text search cannot narrow the query (an alternative made only of
        `cat:` terms, which have no FTS column): the caller must then filter every candidate
        paper (e.g. by category in SQL) with `matches()`.
        """
        return fts_expression(self.tree) or ""

    def highlight_terms(self) -> list[str]:
        """Words and phrases to bold in snippets (a trailing `*` means "any word starting so")."""
        terms = (leaf for leaf, positive in leaves(self.tree) if positive)
        return list(
            dict.fromkeys(
                (" ".join(t.words) + ("*" if t.prefix else ""))
                for t in terms
                if t.field not in ("categories", LIKE)
            )
        )

    @property
    def like_ids(self) -> tuple[str, ...]:
        """The arXiv ids of its `like:` terms (positive or not), in query order."""
        found = (leaf.words[0] for leaf, _ in leaves(self.tree) if leaf.field == LIKE)
        return tuple(dict.fromkeys(found))

    def __str__(self) -> str:
        return self.normal


def _query(tree: Node) -> Query:
    found = anchors(tree)
    if found is None:
        raise QueryError("only exclusions: add a word the paper must contain")
    return Query(normal=render(tree), tree=tree, anchors=found)


def excluding_like(query: Query, arxiv_id: str) -> Query:
    """`query -like:<id>`, in normal form (the whole query, alternatives included)."""
    return _query(make_and([query.tree, make_not(Leaf(LIKE, (arxiv_id,)))]))


def without_like_exclusion(query: Query, arxiv_id: str) -> Query:
    """The query with a top-level `-like:<id>` taken out again (unchanged if it has none)."""
    excluded = make_not(Leaf(LIKE, (arxiv_id,)))
    if not isinstance(query.tree, And) or excluded not in query.tree.children:
        return query
    return _query(make_and([c for c in query.tree.children if c != excluded]))


def parse(text: str) -> Query:
    """Parse query text; raises QueryError (one line, with column) when it cannot be used."""
    tree, found = parse_anchored(text)  # the parser refuses exclusion-only alternatives
    return Query(normal=render(tree), tree=tree, anchors=found)
