"""`like:<arXiv id>` wherever queries meet papers: scoring a batch of papers against the `like:`
papers of the queries in play (and members' mutes), the documents the matchers then read, the
"Matched" wording, /search ranked by similarity, and fetching a `like:` paper Paperboy lacks.

Nothing is scored when no query has a `like:` term and nobody muted anything, so subscriptions
without one cost what they always did.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

import sqlite_utils

from bot.delivery.digest import Subscriber
from bot.errors import UserError
from bot.matching import Result, SubscriptionMatcher
from bot.models import Paper
from bot.paper_lookup import RecentMisses, lookup_paper
from bot.query import Document, Match, Query, paper_document
from bot.query.nodes import LIKE, And, Leaf, Node, Not, Or
from bot.search import Cursor, SearchHit, SearchPage
from bot.similarity import Likes, Scorer, TfidfScorer, score_likes
from bot.snippets import make_snippet
from bot.sources.huggingface import HuggingFaceSource
from bot.store import Store
from bot.store.papers import get_papers
from bot.store.similarity import document_frequencies, fts_candidates, terms_expression

K = TypeVar("K")
NEIGHBOURS = 300  # candidates full-text search hands /search per `like:` paper
FALLBACK_CANDIDATES = 2_000  # `-like:` only: the best full-text matches that are then filtered


def default_scorer(db: sqlite_utils.Database) -> Scorer:
    """The scorer in use: TF-IDF over the stored papers (swap here for an embedding model)."""
    cache: dict[str, int] = {}

    def frequencies(terms: Collection[str]) -> tuple[Mapping[str, int], int]:
        missing = [t for t in terms if t not in cache]
        found, total = document_frequencies(db, missing)
        cache.update({t: found.get(t, 0) for t in missing})
        return cache, total

    return TfidfScorer(frequencies)


def like_ids(queries: Iterable[Query]) -> set[str]:
    """Every `like:` paper id of these queries."""
    # a `like:` term is rendered `like:<id>` in the normal form, which no other term can hold
    # (words hold no ':'): a cold start skips walking 100,000 trees that have none
    return {i for q in queries if "like:" in q.normal for i in q.like_ids}


def score_batch(
    db: sqlite_utils.Database,
    papers: Sequence[Paper],
    queries: Iterable[Query],
    extra_ids: Collection[str] = (),
    scorer: Scorer | None = None,
) -> Likes:
    """How similar each paper is to the queries' `like:` papers and to `extra_ids` (mutes)."""
    wanted = like_ids(queries) | set(extra_ids)
    if not wanted or not papers:
        return Likes()
    refs = list(get_papers(db, sorted(wanted)).values())
    return score_likes(scorer or default_scorer(db), refs, papers)


def documents(papers: Sequence[Paper], likes: Likes) -> list[Document]:
    """The papers' documents, with similarity filled in for the matchers."""
    return [likes.document(paper_document(p)) for p in papers]


def explain_result(
    result: Mapping[str, Sequence[tuple[K, Match]]], likes: Likes
) -> dict[str, list[tuple[K, Match]]]:
    """A matcher's result with every `like:` term said in words."""
    if not likes.scores:
        return {pid: list(hits) for pid, hits in result.items()}
    return {pid: [(k, likes.explain(pid, m)) for k, m in hits] for pid, hits in result.items()}


def without_muted(
    result: Mapping[str, Sequence[tuple[K, Match]]],
    owner: Callable[[K], int | None],
    mutes: Mapping[int, Collection[str]],
    likes: Likes,
) -> dict[str, list[tuple[K, Match]]]:
    """Drop the hits of members who muted a paper this one is (or is similar to)."""
    if not mutes:
        return {pid: list(hits) for pid, hits in result.items()}
    out: dict[str, list[tuple[K, Match]]] = {}
    for pid, hits in result.items():
        kept = []
        for key, why in hits:
            user = owner(key)
            if user is None or user not in mutes or not likes.is_similar(pid, mutes[user]):
                kept.append((key, why))
        if kept:
            out[pid] = kept
    return out


def _member(subscriber: Subscriber) -> int | None:
    return subscriber.user_id if subscriber.kind == "personal" else None


def match_with_likes(
    db: sqlite_utils.Database,
    papers: Sequence[Paper],
    subscribers: Sequence[tuple[Subscriber, Query]],
    mutes: Mapping[int, Collection[str]],
    owner: Callable[[Subscriber], int | None] = _member,
) -> Result[Subscriber]:
    """Match the papers against the subscriptions, `like:` terms scored and said in words, and
    without mentioning members for papers like one they muted (`mutes`: member -> paper ids;
    `owner`: whose a subscription is)."""
    if not subscribers:
        return {}
    muted = {pid for ids in mutes.values() for pid in ids}
    likes = score_batch(db, papers, (q for _, q in subscribers), muted)
    found = SubscriptionMatcher(subscribers).match(documents(papers, likes))
    kept = without_muted(found, owner, mutes, likes)
    return explain_result(kept, likes)


def required_likes(node: Node) -> set[str] | None:
    """`like:` ids at least one of which every match is similar to (None: no such set)."""
    if isinstance(node, Leaf):
        return {node.words[0]} if node.field == LIKE else None
    if isinstance(node, Not):
        return None
    found = [required_likes(c) for c in node.children]
    if isinstance(node, Or):
        return None if any(f is None for f in found) else set().union(*found)  # type: ignore[arg-type]
    assert isinstance(node, And)
    options = [f for f in found if f is not None]
    return min(options, key=len) if options else None


def _positive_likes(node: Node, positive: bool = True) -> set[str]:
    if isinstance(node, Leaf):
        return {node.words[0]} if node.field == LIKE and positive else set()
    if isinstance(node, Not):
        return _positive_likes(node.child, not positive)
    return set().union(*(_positive_likes(c, positive) for c in node.children))


def search_similar(
    db: sqlite_utils.Database,
    query: Query,
    *,
    limit: int = 5,
    offset: int = 0,
    cursor: Cursor | None = None,
    since: datetime | None = None,
    mark: tuple[str, str] = ("**", "**"),
    escape: Callable[[str], str] = lambda s: s,
    count: bool = False,
) -> SearchPage:
    """/search for a query with `like:` terms: the most similar papers first.

    The candidates are a bounded pool (at most a few hundred), so pages are cut by `offset`
    and `cursor`, which `search_papers` pages by, is not needed.

    Full-text search narrows the candidates to the papers sharing the `like:` papers' heaviest
    terms (never every stored paper); the query's evaluator then decides, as for any search.
    A `like:` paper itself is the question, not an answer, and is left out.
    """
    scorer = default_scorer(db)
    needed = required_likes(query.tree)
    refs = get_papers(db, sorted(query.like_ids))
    if needed:
        candidates: dict[str, Paper] = {}
        for ref_id in sorted(needed & set(refs)):
            terms = scorer.top_terms(refs[ref_id]) if isinstance(scorer, TfidfScorer) else []
            expression = terms_expression(terms)
            for p in fts_candidates(db, expression, limit=NEIGHBOURS, since=since):
                candidates.setdefault(p.id, p)
    else:  # every `like:` is an exclusion: the query's words narrow it, best matches first
        found = fts_candidates(db, query.to_fts(), limit=FALLBACK_CANDIDATES, since=since)
        candidates = {p.id: p for p in found}
    pool = [p for p in candidates.values() if p.id not in query.like_ids]
    likes = score_likes(scorer, list(refs.values()), pool)
    positive = _positive_likes(query.tree)
    ranked: list[tuple[float, Paper, Match]] = []
    for paper in pool:
        match = query.matches(likes.document(paper_document(paper)))
        if match is not None:
            similar = likes.scores.get(paper.id, {})
            best = max((similar.get(r, 0.0) for r in positive), default=0.0)
            ranked.append((best, paper, likes.explain(paper.id, match)))
    if needed:
        ranked.sort(key=lambda r: (-r[0], r[1].id))
    window = ranked[offset : offset + limit]
    terms = query.highlight_terms()
    hits = tuple(
        SearchHit(p, m, make_snippet(p.abstract, terms, mark=mark, escape=escape))
        for _, p, m in window
    )
    return SearchPage(
        hits=hits,
        offset=offset,
        has_more=len(ranked) > offset + limit,
        total=len(ranked) if count else None,
    )


async def fetch_like_papers(
    store: Store,
    hf: HuggingFaceSource,
    query: Query,
    now: datetime,
    misses: RecentMisses | None = None,
) -> None:
    """Make sure every `like:` paper is stored (fetched as /paper does), or a `UserError`."""
    for arxiv_id in query.like_ids:
        if await lookup_paper(store, hf, arxiv_id, now, misses) is None:
            raise UserError(
                f"I couldn't find arXiv:{arxiv_id} for `like:` here or on Hugging Face; "
                "check the id."
            )
