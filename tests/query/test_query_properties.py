"""Property tests: canonical form is stable, plural folding is symmetric, FTS5 is a superset."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.models import Paper
from bot.query import Query, QueryError, parse
from bot.query.nodes import anchors
from bot.query.text import stem, word_forms
from tests.query.support import PAPERS, papers, query_texts


def _parse_or_skip(text: str) -> Query:
    try:
        return parse(text)
    except QueryError:
        assume(False)
        raise


@given(query_texts())
@settings(max_examples=400)
def test_normal_form_round_trips_and_keeps_meaning(text: str) -> None:
    q = _parse_or_skip(text)
    again = parse(q.normal)
    assert again.normal == q.normal
    assert [bool(q.matches(p)) for p in PAPERS] == [bool(again.matches(p)) for p in PAPERS]


@given(st.text(max_size=60))
@settings(max_examples=400)
def test_any_text_parses_or_raises_one_line_query_error(text: str) -> None:
    try:
        q = parse(text)
    except QueryError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert parse(q.normal).normal == q.normal


@given(st.from_regex(r"[a-z]{1,9}", fullmatch=True))
def test_every_word_is_among_the_forms_of_its_stem(word: str) -> None:
    # to_fts relies on this to widen a word to all plural forms
    assert word in word_forms(stem(word))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("model", "models"),
        ("transformer", "transformers"),
        ("study", "studies"),
        ("match", "matches"),
        ("box", "boxes"),
        ("case", "cases"),
        ("class", "classes"),
        ("llm", "llms"),
        ("type", "types"),
        ("policy", "policies"),
    ],
)
def test_plurals_fold_both_ways(a: str, b: str) -> None:
    assert stem(a) == stem(b)


@pytest.mark.parametrize("word", ["class", "corpus", "analysis", "its", "gas", "rl"])
def test_words_that_only_look_plural_are_kept(word: str) -> None:
    assert stem(word) == word


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, authors, keywords)")
    yield con
    con.close()


def _load(con: sqlite3.Connection, batch: list[Paper]) -> None:
    con.execute("DELETE FROM papers_fts")
    con.executemany(
        "INSERT INTO papers_fts(rowid, title, abstract, authors, keywords) VALUES (?, ?, ?, ?, ?)",
        [
            (i, p.title, p.abstract, ", ".join(p.authors), ", ".join(p.ai_keywords))
            for i, p in enumerate(batch)
        ],
    )


@given(query_texts(), st.lists(papers(), min_size=1, max_size=12))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fts_expression_is_valid_and_a_superset(
    fts: sqlite3.Connection, text: str, batch: list[Paper]
) -> None:
    q = _parse_or_skip(text)
    expr = q.to_fts()
    assume(expr)  # "" only for cat:-only alternatives, which FTS cannot narrow
    _load(fts, batch)
    found = {row[0] for row in fts.execute("SELECT rowid FROM papers_fts(?)", (expr,))}
    assert {i for i, p in enumerate(batch) if q.matches(p)} <= found


@given(st.text(max_size=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fts_expression_never_breaks_sqlite(fts: sqlite3.Connection, text: str) -> None:
    try:
        q = parse(text)
    except QueryError:
        return
    if q.to_fts():
        fts.execute("SELECT rowid FROM papers_fts(?)", (q.to_fts(),)).fetchall()


def test_fts_expression_finds_plurals_and_compounds(fts: sqlite3.Connection) -> None:
    _load(fts, PAPERS)
    for text in ["model", "transformers", "study", '"case study"', "gpt-4", "quantiz*", "llm"]:
        q = parse(text)
        found = {row[0] for row in fts.execute("SELECT rowid FROM papers_fts(?)", (q.to_fts(),))}
        expected = {i for i, p in enumerate(PAPERS) if q.matches(p)}
        assert expected and expected <= found, text


def test_cat_only_query_cannot_be_narrowed_by_fts() -> None:
    assert parse("cat:cs.CL").to_fts() == ""
    assert parse("cat:cs.CL diffusion").to_fts() != ""


@given(query_texts())
@settings(max_examples=400)
def test_the_anchors_found_while_parsing_are_the_trees_anchors(text: str) -> None:
    q = _parse_or_skip(text)
    assert q.anchors == anchors(q.tree)
