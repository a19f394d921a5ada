"""Search over every stored paper with the subscription language, best first.

The full-text index ranks candidates (BM25, title weighted up) and pages them with a cursor;
only the rows shown are read and confirmed by the query's own evaluator, so search and
subscriptions always agree on what matches. A query found in very many papers ranks the newest
`RANK_WINDOW` matches, then the next `RANK_WINDOW`, and so on: five results never cost scoring a
third of the database. Counts stop at `COUNT_CAP` ("1,000+ results"). A query of `cat:` terms
only has nothing to rank, so it lists the papers stored most recently first.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import sqlite_utils

from bot.errors import UserError
from bot.models import Paper
from bot.query import Match, Query, QueryError
from bot.query.fts import search_expression
from bot.query.nodes import leaves
from bot.query.text import paper_document
from bot.snippets import make_snippet
from bot.store import paper_search as sql
from bot.store.papers import row_to_paper

RANK_WINDOW = 20_000  # candidates scored at most per ranked page
COUNT_CAP = 1_000  # a count stops here: "1,000+ results"
CHECK_BUDGET = 500  # candidates an inexact query's count re-checks at most (then "312+")
_BATCH = 50  # candidates read per statement
TIME_LIMIT = 2.0  # seconds one search may take before it is refused as too broad
TOO_BROAD = "That search is too broad to finish in time: narrow it down with more words."


class SearchTooBroad(QueryError, UserError):
    """A search that ran past its time limit: one line asking to narrow the query."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts in a search's order: the ranking window (`lo <= rowid < hi`) and the
    last candidate read before it (its score when ranked, and rowid)."""

    lo: int | None = None
    hi: int | None = None
    score: float | None = None
    rowid: int | None = None
    started: bool = False  # whether the first window's floor has been found
    # the newest paper's rowid when the cursor was made: if papers arrived since, the ranking
    # moved and the page is found again by its number instead
    stamp: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the paper, why it matched and a highlighted snippet."""

    paper: Paper
    match: Match
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results, and the cursor of the page after it."""

    hits: tuple[SearchHit, ...]
    offset: int
    has_more: bool
    total: int | None = None  # true matches, when asked for (`count=True`)
    total_at_least: bool = False  # `total` is a floor: the count stopped there ("1,000+")
    next_cursor: Cursor | None = None

    def agrees_with(self, total: int, at_least: bool = False) -> bool:
        """Whether a total counted earlier still fits this page (papers may have arrived since)."""
        end = self.offset + len(self.hits)
        if at_least:
            return self.has_more or end >= total
        return end < total if self.has_more else end == total


@dataclass(frozen=True, slots=True)
class _Plan:
    fts: str | None
    exact: bool  # the index selects exactly the matches: a candidate needs no re-check to count
    ranked: bool
    since: datetime | None


def _plan(query: Query, since: datetime | None) -> _Plan:
    fts, exact = search_expression(query.tree)
    ranked = fts is not None and any(
        positive and leaf.field != "categories" for leaf, positive in leaves(query.tree)
    )
    return _Plan(fts, exact and fts is not None, ranked, since)


def _candidates(db: sqlite_utils.Database, plan: _Plan, cursor: Cursor) -> Iterator[Cursor]:
    """Every candidate from `cursor` on, in the search's order, as the cursor just after it."""
    return _ranked(db, plan, cursor) if plan.ranked else _newest(db, plan, cursor)


def _newest(db: sqlite_utils.Database, plan: _Plan, cursor: Cursor) -> Iterator[Cursor]:
    before = cursor.rowid
    while True:
        found = sql.newest_candidates(db, plan.fts, before=before, since=plan.since, limit=_BATCH)
        for rowid in found:
            yield Cursor(rowid=rowid)
        if len(found) < _BATCH:
            return
        before = found[-1]


def _ranked(db: sqlite_utils.Database, plan: _Plan, cursor: Cursor) -> Iterator[Cursor]:
    assert plan.fts is not None
    lo, hi = cursor.lo, cursor.hi
    after: tuple[float, int] | None = None
    if cursor.rowid is not None and cursor.score is not None:
        # the keyset is where that paper ranks now: every score moves a little as papers arrive
        now = sql.candidate_score(db, plan.fts, cursor.rowid)
        after = (cursor.score if now is None else now, cursor.rowid)
    if not cursor.started:
        lo = sql.window_floor(db, plan.fts, below=hi, since=plan.since, size=RANK_WINDOW)
    while True:
        found = sql.ranked_candidates(
            db, plan.fts, lo=lo, hi=hi, after=after, since=plan.since, limit=_BATCH
        )
        for rowid, score in found:
            yield Cursor(lo=lo, hi=hi, score=score, rowid=rowid, started=True)
        if len(found) == _BATCH:
            after = found[-1][1], found[-1][0]
            continue
        if lo is None:  # the last window is done
            return
        hi, after = lo, None
        lo = sql.window_floor(db, plan.fts, below=hi, since=plan.since, size=RANK_WINDOW)


def _matches(
    db: sqlite_utils.Database, query: Query, positions: Iterator[Cursor], deadline: float
) -> Iterator[tuple[Cursor, Paper, Match]]:
    """The candidates that truly match, read a few rows at a time."""
    fields = query.fields  # tokenise only the fields the query looks at
    while True:
        chunk = [c for _, c in zip(range(20), positions, strict=False)]
        if not chunk:
            return
        if time.monotonic() > deadline:
            raise sql.Interrupted
        found = sql.rows_by_rowid(db, [c.rowid for c in chunk if c.rowid is not None])
        for position in chunk:
            row = found.get(position.rowid)  # type: ignore[arg-type]
            if row is None:
                continue
            paper = row_to_paper(row)
            match = query.matches(paper_document(paper, fields))
            if match is not None:
                yield position, paper, match


def _count(
    db: sqlite_utils.Database, query: Query, plan: _Plan, deadline: float
) -> tuple[int, bool]:
    """How many papers match, and whether that is a floor (the count stopped early)."""
    if plan.exact:
        found = sql.count_candidates(db, plan.fts, since=plan.since, cap=COUNT_CAP + 1)
        return min(found, COUNT_CAP), found > COUNT_CAP
    # re-check the newest candidates (no scoring), one more than the budget to know if it ran out
    read = 0

    def budget() -> Iterator[Cursor]:
        nonlocal read
        unranked = _Plan(plan.fts, plan.exact, False, plan.since)
        for position in itertools.islice(_candidates(db, unranked, Cursor()), CHECK_BUDGET + 1):
            read += 1
            yield position

    matched = 0
    for _ in _matches(db, query, budget(), deadline):
        matched += 1
        if matched > COUNT_CAP:
            return COUNT_CAP, True
    return matched, read > CHECK_BUDGET


def search_papers(
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
    time_limit: float = TIME_LIMIT,
) -> SearchPage:
    """Papers matching `query` (only those published or listed since `since`), best first: the
    page starting at `cursor` (a page's `next_cursor`), numbered from `offset`; without a
    cursor, the first page, or the one `offset` matches in (for small offsets). With `count`,
    also how many match (capped: see `COUNT_CAP`). Raises `SearchTooBroad` past `time_limit`."""
    plan = _plan(query, since)
    try:
        with sql.time_limit(db, time_limit) as deadline:
            stamp = sql.newest_rowid(db)
            if cursor is not None and cursor.stamp != stamp:
                cursor = None  # papers arrived: find the page by its number
            skip = offset if cursor is None else 0
            ranking: list[Cursor] | None = None
            total: int | None = None
            at_least = False
            if count and plan.exact and plan.ranked and cursor is None:
                # one pass gives both the count and, when there are few, the whole ranking
                scored = sql.scored_candidates(db, plan.fts or "", since=since, cap=COUNT_CAP + 1)
                total, at_least = min(len(scored), COUNT_CAP), len(scored) > COUNT_CAP
                if not at_least:
                    ranking = [
                        Cursor(score=score, rowid=rowid, started=True)
                        for rowid, score in sorted(scored, key=lambda rs: (rs[1], rs[0]))
                    ]
            elif count:
                total, at_least = _count(db, query, plan, deadline)
            start = cursor or Cursor()
            if cursor is None and total is not None and not at_least:
                # few enough candidates (see `_count`) to rank them all in one window
                start = Cursor(started=True)
            positions = iter(ranking) if ranking is not None else _candidates(db, plan, start)
            found = _matches(db, query, positions, deadline)
            hits: list[SearchHit] = []
            next_cursor: Cursor | None = None
            has_more = False
            for position, paper, match in found:
                if skip:
                    skip -= 1
                    continue
                if len(hits) == limit:
                    has_more = True
                    break
                snippet = make_snippet(
                    paper.abstract, query.highlight_terms(), mark=mark, escape=escape
                )
                hits.append(SearchHit(paper=paper, match=match, snippet=snippet))
                next_cursor = position
    except sql.Interrupted as exc:
        raise SearchTooBroad(TOO_BROAD) from exc
    return SearchPage(
        hits=tuple(hits),
        offset=offset,
        has_more=has_more,
        total=total,
        total_at_least=at_least,
        next_cursor=replace(next_cursor, stamp=stamp) if has_more and next_cursor else None,
    )
