"""/trending: papers listed in the last N days, ranked by Hugging Face upvotes gained since
Paperboy first saw them, then by total upvotes, optionally only those matching a query.

The ranking is computed once per command (a window is at most 30 days, so at most a month of
papers) and paged from memory; each page then loads only its five papers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from bot.errors import UserError
from bot.likes import documents, score_batch
from bot.models import Paper
from bot.query import Query
from bot.store import papers as papers_repo
from bot.store.upvotes import Trend, trending

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 30, 7
_MATCH_BATCH = 500


def check_days(days: int) -> int:
    """`days` if it is a /trending window (1–30), else a one-line `UserError`."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise UserError(f"`days` must be between {MIN_DAYS} and {MAX_DAYS}.")
    return days


@dataclass(frozen=True, slots=True)
class TrendingPage:
    """One page of /trending: its papers with their trends, where it starts, and the total."""

    entries: tuple[tuple[Paper, Trend], ...]
    offset: int
    total: int


def rank_trending(
    db: sqlite_utils.Database, days: int, now: datetime, query: Query | None = None
) -> list[Trend]:
    """The window's ranking, keeping only papers that match `query` when given (full-text search
    narrows the candidates first, as /search does; the query's evaluator decides)."""
    since, until = now - timedelta(days=check_days(days)), now + timedelta(microseconds=1)
    if query is None:
        return trending(db, since, until)
    ranked = trending(db, since, until, query.to_fts())
    kept: list[Trend] = []
    for start in range(0, len(ranked), _MATCH_BATCH):
        batch = ranked[start : start + _MATCH_BATCH]
        papers = papers_repo.get_papers(db, (t.paper_id for t in batch))
        likes = score_batch(db, list(papers.values()), [query])
        docs = {d.id: d for d in documents(list(papers.values()), likes)}
        kept.extend(t for t in batch if t.paper_id in docs and query.matches(docs[t.paper_id]))
    return kept


def trending_page(
    db: sqlite_utils.Database, ranked: list[Trend], offset: int, per_page: int
) -> TrendingPage:
    """The papers of one page of a ranking (a paper deleted since is left out)."""
    window = ranked[offset : offset + per_page]
    papers = papers_repo.get_papers(db, (t.paper_id for t in window))
    entries = tuple((papers[t.paper_id], t) for t in window if t.paper_id in papers)
    return TrendingPage(entries=entries, offset=offset, total=len(ranked))
