"""Search over every stored paper with the subscription language, best first.

FTS5 narrows the candidates and ranks them (BM25, title weighted up); the query's own evaluator
then keeps only true matches, so search and subscriptions always agree on what matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.models import Paper
from bot.query import Match, Query
from bot.snippets import make_snippet
from bot.store.papers import row_to_paper
from bot.store.rows import iso, rows

# bm25 column weights for papers_fts(title, abstract, authors, keywords)
BM25_WEIGHTS = (10.0, 1.0, 2.0, 4.0)
_BATCH = 200


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the paper, why it matched and a highlighted snippet."""

    paper: Paper
    match: Match
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results."""

    hits: tuple[SearchHit, ...]
    offset: int
    has_more: bool
    total: int | None = None  # every true match, when asked for (`count=True`)

    def agrees_with(self, total: int) -> bool:
        """Whether a total counted earlier still fits this page (papers may have arrived since)."""
        end = self.offset + len(self.hits)
        return end < total if self.has_more else end == total


def _ranked_rows(
    db: sqlite_utils.Database, query: Query, since: datetime | None
) -> Iterator[dict[str, Any]]:
    fts = query.to_fts()
    # listed_at, not first_seen: a paper stored by a /paper look-up today is not recent
    date_filter = " AND (papers.published >= :since OR papers.listed_at >= :since)" if since else ""
    params: dict[str, Any] = {"since": iso(since), "limit": _BATCH}
    if fts:
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        sql = (
            f"SELECT papers.*, bm25(papers_fts, {weights}) AS score FROM papers_fts"
            " JOIN papers ON papers.rowid = papers_fts.rowid"
            f" WHERE papers_fts MATCH :fts{date_filter}"
            " ORDER BY score, papers.id LIMIT :limit OFFSET :offset"
        )
        params["fts"] = fts
    else:  # nothing FTS can narrow on (e.g. only cat:), so newest first
        where = date_filter.replace(" AND ", " WHERE ", 1)
        sql = (
            f"SELECT papers.* FROM papers{where}"
            " ORDER BY coalesce(papers.published, papers.first_seen) DESC, papers.id"
            " LIMIT :limit OFFSET :offset"
        )
    offset = 0
    while True:
        batch = rows(db, sql, {**params, "offset": offset})
        yield from batch
        if len(batch) < _BATCH:
            return
        offset += _BATCH


def search_papers(
    db: sqlite_utils.Database,
    query: Query,
    *,
    limit: int = 5,
    offset: int = 0,
    since: datetime | None = None,
    mark: tuple[str, str] = ("**", "**"),
    escape: Callable[[str], str] = lambda s: s,
    count: bool = False,
) -> SearchPage:
    """Papers matching `query` (only those seen/published since `since`), best first; with
    `count`, also how many match in all (the same single pass, carried on to the end)."""
    hits: list[SearchHit] = []
    seen = 0
    for row in _ranked_rows(db, query, since):
        paper = row_to_paper(row)
        match = query.matches(paper)
        if match is None:
            continue
        seen += 1
        if seen <= offset or len(hits) == limit:
            if not count and len(hits) == limit:
                return SearchPage(hits=tuple(hits), offset=offset, has_more=True)
            continue
        snippet = make_snippet(paper.abstract, query.highlight_terms(), mark=mark, escape=escape)
        hits.append(SearchHit(paper=paper, match=match, snippet=snippet))
    has_more = seen > offset + len(hits)
    return SearchPage(
        hits=tuple(hits), offset=offset, has_more=has_more, total=seen if count else None
    )
