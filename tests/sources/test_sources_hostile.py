"""Hostile source data: injected links are dropped with one warning, text cleaning is linear and
bounded, and any JSON or RSS document parses or fails with one SourceError (fuzzed)."""

from __future__ import annotations

import html
import logging
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.links import safe_url
from bot.models import Paper
from bot.sources import SourceError, parse_daily_papers, parse_rss
from bot.text import (
    ABSTRACT_LIMIT,
    MAX_AUTHORS,
    MAX_UNESCAPE_PASSES,
    NAME_LIMIT,
    TITLE_LIMIT,
    clean_text,
)

INJECTION = "https://github.com/a/b)  [⚠ Download the official weights](https://evil.example/x.exe"


def hf_entry(**paper: Any) -> dict[str, Any]:
    body = {"id": "2401.01234", "title": "A title", "summary": "An abstract.", **paper}
    return {"paper": body}


def test_a_masked_link_in_a_url_field_is_dropped_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = hf_entry(githubRepo=INJECTION, projectPage="HTTPS://Example.COM/ä")
    with caplog.at_level(logging.WARNING):
        (paper,) = parse_daily_papers([entry])
    assert paper.code_url is None
    assert paper.project_url == "https://example.com/%C3%A4"  # parsed and re-serialised
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "2401.01234 githubRepo" in warning.getMessage() and "\n" not in warning.getMessage()


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "ftp://example.com/x",
        "https://",
        "https://user@evil.example/",
        "https://example.com/a b",
        "https://example.com/<x>",
        "https://example.com/[x]",
        "//example.com/x",
    ],
)
def test_only_http_urls_with_a_host_and_no_link_syntax_are_kept(value: str) -> None:
    assert safe_url(value) is None


def test_a_good_url_survives_unchanged() -> None:
    assert safe_url(" https://github.com/org/repo ") == "https://github.com/org/repo"


def test_deeply_escaped_text_takes_a_bounded_number_of_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    real = html.unescape

    def counting(s: str) -> str:
        nonlocal calls
        calls += 1
        return real(s)

    monkeypatch.setattr(html, "unescape", counting)
    title = "&" + "amp;" * 16_000 + "lt;b&gt;"  # 64 KB, the reported 3.6 s on the event loop
    assert clean_text(title) == "<b>"
    assert calls <= MAX_UNESCAPE_PASSES


def test_double_escaping_and_decomposed_accents_are_cleaned() -> None:
    assert clean_text("a &amp;lt; b &#38;amp; c") == "a < b & c"
    assert clean_text("Jose\u0301 Garci\u0301a") == "José García"  # NFD in, NFC stored


def test_field_lengths_are_capped_at_parse_time() -> None:
    authors = [{"name": "N" * 1_000}] * (MAX_AUTHORS + 10)
    entry = hf_entry(title="T " * 100_000, summary="word " * 100_000, authors=authors)
    (paper,) = parse_daily_papers([entry])
    assert len(paper.title) <= TITLE_LIMIT and len(paper.abstract) <= ABSTRACT_LIMIT
    assert len(paper.authors) == MAX_AUTHORS
    assert all(len(a) <= NAME_LIMIT for a in paper.authors)


# --- fuzzing ------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_paper_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["2401.01234", "hep-th/9901001", "x", ""]) | _json,
        "title": st.text() | _json,
        "summary": st.text() | _json,
        "authors": st.lists(st.fixed_dictionaries({"name": st.text() | _json})) | _json,
        "githubRepo": st.text() | st.just(INJECTION) | _json,
        "projectPage": st.text().map(lambda s: "https://x.org/" + s) | _json,
        "ai_keywords": st.lists(st.text()) | _json,
        "upvotes": _json,
        "publishedAt": st.text() | _json,
    },
)
_entries = st.lists(
    st.fixed_dictionaries({"paper": _paper_fields}, optional={"thumbnail": st.text() | _json})
    | _json,
    max_size=4,
)


def _assert_safe(paper: Paper) -> None:
    for url in (paper.code_url, paper.project_url, paper.thumbnail):
        assert url is None or safe_url(url) == url
    assert paper.title and len(paper.title) <= TITLE_LIMIT
    assert len(paper.abstract) <= ABSTRACT_LIMIT


@given(_entries | _json)
def test_any_json_parses_to_safe_papers_or_one_source_error(document: Any) -> None:
    try:
        papers = parse_daily_papers(document)
    except SourceError as exc:
        assert "\n" not in str(exc)
        return
    for paper in papers:
        _assert_safe(paper)


_xml_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@given(
    st.lists(
        st.fixed_dictionaries(
            {"title": _xml_text, "description": _xml_text, "creator": _xml_text},
            optional={"guid": st.sampled_from(["oai:arXiv.org:2401.01234v1", "junk"])},
        ),
        max_size=4,
    ),
    st.binary(max_size=40),
)
def test_any_rss_parses_to_safe_papers_or_one_source_error(
    items: list[dict[str, str]], junk: bytes
) -> None:
    body = "".join(
        "<item>"
        + "".join(f"<{k}>{escape(_xml_safe(v))}</{k}>" for k, v in item.items())
        + "<link>https://arxiv.org/abs/2401.01234</link>"
        + "<arxiv:announce_type>new</arxiv:announce_type></item>"
        for item in items
    )
    document = (
        '<?xml version="1.0"?><rss xmlns:arxiv="http://arxiv.org/schemas/atom"><channel>'
        f"{body}</channel></rss>"
    ).encode()
    for xml in (document, document[: len(document) // 2] + junk):
        try:
            parsed = parse_rss(xml)
        except SourceError as exc:
            assert "\n" not in str(exc)
            continue
        for paper, _ in parsed:
            _assert_safe(paper)


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot carry most control characters at all; a feed would not be well-formed
    return "".join(c for c in text if c in "\t\n\r" or c >= " ")
