"""Search at scale, on small real databases: the index selects exactly the matches where it says
so, pages follow a cursor through ranking windows without losing or repeating a paper, counts
stop at the cap, field-only queries never scan `papers`, and a search past its time limit is
refused in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bot.search
from bot.models import Paper
from bot.query import Query, QueryError, parse
from bot.query.fts import search_expression
from bot.search import SearchTooBroad, search_papers
from bot.store import paper_search
from bot.store.migrations import MIGRATIONS
from bot.store.papers import get_paper, upsert_papers
from tests.query.support import PAPERS, papers, query_texts

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _db(batch: list[Paper]) -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    MIGRATIONS.apply(db)
    upsert_papers(db, batch, NOW)
    return db


def _parse_or_skip(text: str) -> Query:
    try:
        return parse(text)
    except QueryError:
        assume(False)
        raise


@given(query_texts(), st.lists(papers(), min_size=1, max_size=10, unique_by=lambda p: p.id))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_the_index_selects_a_superset_and_exactly_the_matches_when_it_says_so(
    text: str, batch: list[Paper]
) -> None:
    query = _parse_or_skip(text)
    expr, exact = search_expression(query.tree)
    assume(expr is not None)
    db = _db(batch)
    found = {
        row[0]
        for row in db.execute(
            "SELECT papers.id FROM papers_fts JOIN papers ON papers.rowid = papers_fts.rowid"
            " WHERE papers_fts MATCH ?",
            [expr],
        )
    }
    matching = {p.id for p in batch if query.matches(p)}
    assert matching <= found
    if exact:
        assert found == matching


def _many(n: int, title: str = "Diffusion study") -> list[Paper]:
    return [
        Paper(
            id=f"2611.{i:05d}",
            title=f"{title} {i}" + " of diffusion" * (i % 3),
            # "gpt 4" is a candidate for the compound gpt-4 but no match: the index can't tell
            abstract="We study diffusion with gpt 4."
            if i % 2
            else "Masked diffusion models and GPT-4, again.",
            categories=("cs.CL",) if i % 4 else ("cs.RO",),
            sources=frozenset({"arxiv"}),
        )
        for i in range(n)
    ]


def _all_pages(db: sqlite_utils.Database, query: Query, **kw: object) -> list[list[str]]:
    pages, cursor, offset = [], None, 0
    while True:
        page = search_papers(db, query, limit=3, offset=offset, cursor=cursor, **kw)  # type: ignore[arg-type]
        pages.append([h.paper.id for h in page.hits])
        if not page.has_more:
            return pages
        cursor, offset = page.next_cursor, offset + len(page.hits)


@pytest.mark.parametrize(
    "text", ["diffusion", '"masked diffusion"', "cat:cs.RO", "diffusion -masked"]
)
def test_cursor_pages_cross_ranking_windows_and_show_every_match_once(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr(bot.search, "RANK_WINDOW", 4)  # 20 papers: several windows
    batch = _many(20)
    db = _db(batch)
    query = parse(text)
    pages = _all_pages(db, query)
    shown = [pid for page in pages for pid in page]
    assert len(shown) == len(set(shown))  # nothing repeated
    assert set(shown) == {p.id for p in batch if query.matches(p)}  # nothing lost
    assert all(len(page) == 3 for page in pages[:-1])


def test_within_one_window_the_order_is_the_full_ranking() -> None:
    db = _db(_many(20))
    query = parse("diffusion")
    shown = [pid for page in _all_pages(db, query) for pid in page]
    best = search_papers(db, query, limit=20)
    assert shown == [h.paper.id for h in best.hits]


def test_cat_only_lists_the_newest_first() -> None:
    db = _db(_many(12))
    assert _all_pages(db, parse("cat:cs.RO")) == [["2611.00008", "2611.00004", "2611.00000"]]


def test_a_day_window_pages_only_recent_papers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.search, "RANK_WINDOW", 2)
    db = _db(_many(6))
    upsert_papers(db, _many(12)[6:], NOW + timedelta(days=30))
    since = NOW + timedelta(days=29)
    shown = {pid for page in _all_pages(db, parse("diffusion"), since=since) for pid in page}
    assert shown == {f"2611.{i:05d}" for i in range(6, 12)}
    page = search_papers(db, parse("diffusion"), since=since, count=True)
    assert (page.total, page.total_at_least) == (6, False)


def test_counts_stop_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.search, "COUNT_CAP", 5)
    db = _db(_many(20))
    exact = search_papers(db, parse("diffusion"), count=True)
    assert (exact.total, exact.total_at_least) == (5, True)
    checked = search_papers(db, parse("gpt-4"), count=True)  # re-checked one by one
    assert (checked.total, checked.total_at_least) == (5, True)
    few = search_papers(db, parse("gpt-4 cat:cs.RO"), count=True)
    assert (few.total, few.total_at_least) == (5, False)  # exactly the cap: no "+"


def test_an_inexact_count_past_its_budget_is_a_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.search, "CHECK_BUDGET", 4)
    db = _db(_many(20))
    page = search_papers(db, parse("gpt-4"), count=True)
    assert page.total_at_least and page.total is not None and page.total <= 4


def test_field_only_queries_never_scan_the_papers_table() -> None:
    db = _db([*PAPERS, *_many(30)])
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    for text in ["cat:cs.RO", "author:lecun", 'author:"Yann LeCun"', "title:diffusion"]:
        assert search_papers(db, parse(text), count=True).hits
    assert search_papers(db, parse("cat:cs.CL"), since=NOW - timedelta(days=1)).hits
    db.conn.set_trace_callback(None)
    plans = {
        s: [d for *_, d in db.execute("EXPLAIN QUERY PLAN " + s).fetchall()]
        for s in statements
        if s.startswith("SELECT")
    }
    scans = {s: p for s, p in plans.items() if any(d.split()[:2] == ["SCAN", "papers"] for d in p)}
    assert plans and not scans, scans


def test_a_search_past_its_time_limit_is_refused_in_one_line() -> None:
    db = _db(_many(10))
    with pytest.raises(SearchTooBroad) as refused:
        search_papers(db, parse("diffusion"), time_limit=-1.0)
    assert "too broad" in str(refused.value) and "\n" not in str(refused.value)
    # the connection is left as it was: the next search runs normally
    assert search_papers(db, parse("diffusion")).hits


def test_the_time_limit_interrupts_a_long_statement() -> None:
    db = sqlite_utils.Database(memory=True)
    with pytest.raises(paper_search.Interrupted), paper_search.time_limit(db, 0.01):
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000)"
            " SELECT count(*) FROM n"
        ).fetchone()
    assert db.execute("SELECT 1").fetchone() == (1,)


def test_pages_after_papers_arrived_are_found_again_by_number() -> None:
    db = _db(_many(9))
    query = parse("diffusion")
    first = search_papers(db, query, limit=3)
    upsert_papers(db, _many(12)[9:], NOW + timedelta(hours=1))
    second = search_papers(db, query, limit=3, offset=3, cursor=first.next_cursor)
    fresh = search_papers(db, query, limit=6)
    assert [h.paper.id for h in second.hits] == [h.paper.id for h in fresh.hits[3:]]


def test_changed_text_leaves_the_index_and_unchanged_text_is_not_reindexed() -> None:
    db = _db(_many(3))
    old = get_paper(db, "2611.00001")
    assert old is not None
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    upsert_papers(db, [Paper(id=old.id, title=old.title, abstract=old.abstract, upvotes=7)], NOW)
    assert not [s for s in statements if s.startswith("INSERT INTO papers_fts")]  # only upvotes
    longer = old.abstract + " Now with superconductors."
    upsert_papers(
        db,
        [
            Paper(
                id=old.id,
                title="Renamed entirely: a much longer title than before",
                abstract=longer,
            )
        ],
        NOW,
    )
    db.conn.set_trace_callback(None)
    assert [h.paper.id for h in search_papers(db, parse("superconductors")).hits] == [old.id]
    assert [h.paper.id for h in search_papers(db, parse("title:renamed")).hits] == [old.id]
    # the old title's words are gone from the index, not just filtered out afterwards
    expr, _ = search_expression(parse("title:1").tree)  # "Diffusion study 1 of diffusion"
    ids = db.execute("SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?", [expr]).fetchall()
    assert ids == []
