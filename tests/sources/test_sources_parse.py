"""Parsing recorded Hugging Face and arXiv documents into Papers."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.sources import (
    SourceError,
    load_sample_day,
    parse_daily_papers,
    parse_paper,
    parse_rss,
    select_papers,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- Hugging Face -----------------------------------------------------------------------------


def test_hf_full_entry_maps_every_field() -> None:
    papers = parse_daily_papers(fixture_json("hf_daily_mixed.json"), hf_date=date(2026, 8, 11))
    full = papers[0]
    assert full.id == "2608.09888"
    assert full.title == "In-Context Learning at 10$^6$ Tokens"
    assert full.abstract == (
        "We scale in-context learning to $10^6$ tokens & show that the loss falls as "
        "$O(n^{-1/2})$. See G\\'en\\'erale results."
    )
    # hidden authors are still authors; whitespace in names is collapsed
    assert full.authors == ("Ada Lovelace", "Charles Babbage", "Anonymous Reviewer")
    assert full.published == datetime(2026, 8, 10, 17, 59, 41, tzinfo=UTC)  # paper.publishedAt
    assert full.hf_date == date(2026, 8, 11)
    assert full.code_url == "https://github.com/example/icl-1m"
    assert full.project_url == "https://example.org/icl-1m"
    assert full.upvotes == 781
    assert full.ai_summary == (
        "Scaling in-context learning to a million tokens keeps improving loss."
    )
    assert full.ai_keywords == ("in-context learning", "long context", "scaling laws")
    assert full.thumbnail == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2608.09888.png"
    )
    assert full.sources == frozenset({"hf"})


def test_hf_entry_without_optional_fields() -> None:
    minimal = parse_daily_papers(fixture_json("hf_daily_mixed.json"), hf_date=date(2026, 8, 11))[1]
    assert minimal.id == "2608.01234"
    assert minimal.upvotes == 0
    assert minimal.ai_summary is None
    assert minimal.ai_keywords == ()
    assert minimal.code_url is None
    assert minimal.project_url is None
    assert minimal.authors == ("Grace Hopper",)


def test_hf_bad_entries_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.sources.huggingface"):
        papers = parse_daily_papers(fixture_json("hf_daily_mixed.json"))
    # no paper object, a string, an invalid id and a blank title are dropped; the rest stay
    assert [p.id for p in papers] == ["2608.09888", "2608.01234", "2608.07777"]
    skipped = [r.getMessage() for r in caplog.records]
    assert len(skipped) == 4
    assert any("not-an-id" in message for message in skipped)


def test_hf_fields_of_the_wrong_type_become_empty() -> None:
    odd = parse_daily_papers(fixture_json("hf_daily_mixed.json"))[2]
    assert odd.title == "Odd Optional Fields"
    assert odd.authors == ()
    assert odd.published is None
    assert odd.upvotes is None  # a boolean is not a vote count
    assert odd.ai_keywords == ()
    assert odd.code_url is None
    assert odd.project_url is None
    assert odd.thumbnail is None


def test_hf_date_defaults_to_the_submission_day() -> None:
    papers = parse_daily_papers(fixture_json("hf_daily_mixed.json"))
    assert papers[0].hf_date == date(2026, 8, 11)  # from paper.submittedOnDailyAt
    assert papers[1].hf_date is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"error": '"limit" must be less than or equal to 100'}, "API error"),
        ({"unexpected": "object"}, "expected a list"),
        ("<html>", "expected a list"),
        (None, "expected a list"),
    ],
)
def test_hf_malformed_document_raises_source_error(document: Any, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        parse_daily_papers(document)
    assert "\n" not in str(caught.value)


def test_hf_error_fixture_raises() -> None:
    with pytest.raises(SourceError, match="must be less than or equal to 100"):
        parse_daily_papers(fixture_json("hf_error.json"))


def test_hf_empty_list_is_an_empty_day() -> None:
    assert parse_daily_papers([]) == []


def test_hf_single_paper() -> None:
    paper = parse_paper(fixture_json("hf_paper.json"))
    assert paper.id == "2608.09888"
    assert paper.title == "In-Context Learning at 10$^6$ Tokens"
    assert paper.authors == ("Ada Lovelace", "Charles Babbage")
    assert paper.hf_date == date(2026, 8, 11)
    assert paper.code_url == "https://github.com/example/icl-1m"
    assert paper.thumbnail is None  # only list entries carry a thumbnail


@pytest.mark.parametrize("document", [[], {"error": "Not found"}, {"id": "nope", "title": "x"}])
def test_hf_single_paper_malformed(document: Any) -> None:
    with pytest.raises(SourceError):
        parse_paper(document)


# --- arXiv RSS --------------------------------------------------------------------------------


def rss_items() -> dict[str, list[tuple[Any, str]]]:
    by_id: dict[str, list[tuple[Any, str]]] = {}
    for paper, announce in parse_rss(fixture_bytes("arxiv_rss.xml")):
        by_id.setdefault(paper.id, []).append((paper, announce))
    return by_id


def test_rss_reads_all_four_announce_types() -> None:
    types = {i: [a for _, a in pairs] for i, pairs in rss_items().items()}
    assert types == {
        "2608.10001": ["new"],
        "2608.10002": ["cross", "cross"],
        "2203.01250": ["replace-cross"],
        "hep-th/9901001": ["replace"],
        "2608.10003": ["new"],  # no <arxiv:announce_type>: read from the description
        "math/0701001": ["new"],
    }


def test_rss_new_item_fields() -> None:
    paper, _ = rss_items()["2608.10001"][0]
    assert paper.title == r"Sharp Bounds for $\ell_p$ Attention with Wrapped Title"
    # the "arXiv:... Announce Type: ... Abstract:" prefix is gone, entities decoded, LaTeX kept
    assert paper.abstract == (
        r"We prove that attention with $\ell_p$ scores is $O(n \log n)$ when $p < 2$, and that "
        r"Q&A benchmarks & friends agree. Results by \'Etienne hold for $p>1$."
    )
    assert paper.authors == ("Ana G\\'omez", "Li Wei", "Omar Haddad")
    assert paper.categories == ("cs.LG", "cs.CL", "stat.ML")
    assert paper.published == datetime(2026, 8, 11, 4, 0, tzinfo=UTC)
    assert paper.sources == frozenset({"arxiv"})


def test_rss_authors_split_on_and() -> None:
    paper, _ = rss_items()["2608.10002"][0]
    assert paper.authors == ("Jonas Weber", "Priya Raman")


def test_rss_replacements_have_no_first_version_date() -> None:
    paper, _ = rss_items()["2203.01250"][0]
    assert paper.published is None  # pubDate is the revision's announcement, not version 1
    assert paper.abstract == "We consider first order local minimization problems."


def test_rss_item_without_id_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.sources.arxiv"):
        items = parse_rss(fixture_bytes("arxiv_rss.xml"))
    assert len(items) == 7  # 8 items, one without any identifier
    assert ["no arXiv id" in r.getMessage() for r in caplog.records] == [True]


def test_rss_accepts_text_as_well_as_bytes() -> None:
    text = fixture_bytes("arxiv_rss.xml").decode("utf-8")
    assert [p.id for p, _ in parse_rss(text)] == [
        p.id for p, _ in parse_rss(fixture_bytes("arxiv_rss.xml"))
    ]


def test_rss_empty_listing() -> None:
    assert parse_rss(fixture_bytes("arxiv_empty.xml")) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("arxiv_malformed.xml", "malformed XML"),
        ("arxiv_atom.xml", "not an RSS feed"),
        ("hf_garbage.html", "malformed XML|not an RSS feed"),
    ],
)
def test_rss_malformed_documents_raise(name: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        parse_rss(fixture_bytes(name))
    assert "\n" not in str(caught.value)


def test_select_papers_keeps_new_and_cross_and_merges_cross_lists() -> None:
    items = parse_rss(fixture_bytes("arxiv_rss.xml"))
    papers = {p.id: p for p in select_papers(items)}
    assert set(papers) == {"2608.10001", "2608.10002", "2608.10003", "math/0701001"}
    # the two cross-list items of one paper became one, with both categories
    assert papers["2608.10002"].categories == ("eess.AS", "cs.CL", "cs.LG")


def test_select_papers_with_replacements() -> None:
    items = parse_rss(fixture_bytes("arxiv_rss.xml"))
    ids = [p.id for p in select_papers(items, include_replacements=True)]
    assert len(ids) == len(set(ids)) == 6
    assert {"2203.01250", "hep-th/9901001"} <= set(ids)


# --- the shipped sample day ---------------------------------------------------------------------


def test_sample_day_loads_through_the_real_parsers() -> None:
    day, papers = load_sample_day()
    assert day == date(2025, 8, 5)
    ids = [p.id for p in papers]
    assert len(ids) == len(set(ids))
    hf = [p for p in papers if "hf" in p.sources]
    arxiv_only = [p for p in papers if p.sources == frozenset({"arxiv"})]
    assert len(hf) == 13
    assert all(p.hf_date == day for p in hf)
    assert len(arxiv_only) == 5  # new and cross items; replacements are left out by default
    assert "2301.99001" not in ids and "cs/0112999" not in ids
    # some papers have an AI summary, keywords and code, but not all
    assert 0 < sum(p.ai_summary is not None for p in hf) < len(hf)
    assert 0 < sum(bool(p.ai_keywords) for p in hf) < len(hf)
    assert 0 < sum(p.code_url is not None for p in hf) < len(hf)


def test_sample_day_merges_the_paper_both_sources_list() -> None:
    _, papers = load_sample_day()
    merged = next(p for p in papers if p.id == "2410.18514")
    assert merged.sources == frozenset({"hf", "arxiv"})
    assert merged.categories == ("cs.AI", "cs.CL", "cs.LG")  # from arXiv
    assert merged.upvotes == 6 and merged.code_url == "https://github.com/ML-GSAI/SMDM"  # from HF


def test_sample_hf_text_is_clean() -> None:
    _, papers = load_sample_day()
    glm = next(p for p in papers if p.id == "2210.02414")
    assert glm.title == "GLM-130B: An Open Bilingual Pre-trained Model"
    assert r"4$\times$RTX 3090" in glm.abstract and "\\$" not in glm.abstract
