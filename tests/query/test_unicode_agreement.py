"""One Unicode normal form: /search (FTS5 + evaluator over the store) and subscription matching
agree on every paper and query, whatever the case, composition or compatibility form of the text."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
import sqlite_utils
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.matching import SubscriptionMatcher
from bot.models import Paper
from bot.query import Query, QueryError, parse
from bot.search import search_papers
from bot.store.migrations import MIGRATIONS
from bot.store.papers import upsert_papers
from bot.text import fold

NOW = datetime(2026, 11, 26, tzinfo=UTC)
NFD = "José García"  # typed composed below; stored decomposed in some papers
TRICKY = [
    "İstanbul",
    "istanbul",
    "ISTANBUL",
    "ıi",
    "Straße",
    "STRASSE",
    "strasse",
    unicodedata.normalize("NFD", "José"),
    "José",
    "Jose",
    "García",
    "x\u0301y",  # a combining mark no precomposed letter absorbs
    "ﬁne-tuning",  # the fi ligature
    "fine-tuning",
    "ＧＰＴ-4",  # full-width
    "gpt-4",
    "ΣΟΦΊΑ",
    "σοφία",
    "J̌",
    "diffusion",
    "models",
    "model",
]


def _db(papers: Sequence[Paper]) -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    MIGRATIONS.apply(db)
    upsert_papers(db, papers, NOW)
    return db


def _searched(db: sqlite_utils.Database, query: Query) -> set[str]:
    return {hit.paper.id for hit in search_papers(db, query, limit=1000).hits}


def _subscribed(papers: Sequence[Paper], query: Query) -> set[str]:
    return set(SubscriptionMatcher([(1, query)]).match(papers))


PAPERS = [
    Paper("2401.00001", "A history of İstanbul", "Trade routes.", authors=("Ada",)),
    Paper(
        "2401.00002",
        "Spectral methods",
        "Proofs.",
        authors=(unicodedata.normalize("NFD", NFD),),
    ),
    Paper("2401.00003", "Die Straße der Modelle", "Roads.", authors=("Kai",)),
    Paper("2401.00004", "ﬁne-tuning ＧＰＴ-4", "Ligatures and full-width text.", authors=("Bo",)),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("İstanbul", {"2401.00001"}),
        ("istanbul", {"2401.00001"}),
        ('author:"José García"', {"2401.00002"}),
        ("author:garcía", {"2401.00002"}),
        ("strasse", {"2401.00003"}),
        ("STRASSE", {"2401.00003"}),
        ("straße", {"2401.00003"}),
        ("fine-tuning", {"2401.00004"}),
        ("gpt-4", {"2401.00004"}),
    ],
)
def test_search_and_subscriptions_find_the_same_papers(text: str, expected: set[str]) -> None:
    query = parse(text)
    assert _subscribed(PAPERS, query) == expected
    assert _searched(_db(PAPERS), query) == expected


def test_fold_is_nfkc_with_full_case_folding() -> None:
    assert fold("İstanbul") == "istanbul"
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("ﬁne ＧＰＴ") == "fine gpt"
    assert fold(unicodedata.normalize("NFD", "José")) == "josé"


@st.composite
def _papers(draw: st.DrawFn) -> list[Paper]:
    def text(lo: int, hi: int) -> str:
        return " ".join(draw(st.lists(st.sampled_from(TRICKY), min_size=lo, max_size=hi)))

    count = draw(st.integers(1, 6))
    return [
        Paper(
            id=f"2401.{n:05d}",
            title=text(1, 5),
            abstract=text(0, 8),
            authors=tuple(draw(st.lists(st.sampled_from(TRICKY), max_size=3))),
            ai_keywords=tuple(draw(st.lists(st.sampled_from(TRICKY), max_size=2))),
        )
        for n in range(count)
    ]


_term = st.sampled_from(TRICKY).map(lambda w: w.split("-")[0])
_query = st.one_of(
    _term,
    st.tuples(_term, _term).map(lambda t: f'"{t[0]} {t[1]}"'),
    _term.map(lambda w: f"author:{w}"),
    st.tuples(_term, _term).map(lambda t: f"{t[0]} OR {t[1]}"),
    st.tuples(_term, _term).map(lambda t: f"{t[0]} -{t[1]}"),
    _term.filter(lambda w: len(w) >= 3).map(lambda w: w[:3] + "*"),
)


@given(_papers(), _query)
def test_for_any_paper_and_query_search_and_subscriptions_agree(
    papers: list[Paper], text: str
) -> None:
    try:
        query = parse(text)
    except QueryError:
        assume(False)
        return
    assert _searched(_db(papers), query) == _subscribed(papers, query)
