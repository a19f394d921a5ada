"""Fuzzing the digest renderer: any paper text renders within Discord's limits, pings nobody and
links only to the paper's own URLs (no masked-link injection)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.delivery.digest import DigestEntry
from bot.delivery.messages import (
    AUTHOR_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE_LIMIT,
    MESSAGE_LIMIT,
    dm_messages,
    embed_length,
    header_message,
    links_text,
    paper_message,
)
from bot.models import Paper
from tests.render_support import allowed_targets, hostile_papers, link_targets, pings

DAY = date(2026, 11, 26)
INJECTED = "https://github.com/a/b)  [⚠ Download the official weights](https://evil.example/x.exe"


def _entry(paper: Paper, why: str = "x (title)") -> DigestEntry:
    return DigestEntry(paper, paper.ai_summary or paper.abstract[:300], why, 1, ())


def _markdown(embed: dict[str, Any]) -> list[str]:
    """The parts of an embed where Discord renders Markdown (so a link could form)."""
    out = [embed.get("title", ""), embed.get("description", "")]
    return out + [f["value"] for f in embed["fields"]] + [f["name"] for f in embed["fields"]]


def _plain(embed: dict[str, Any]) -> list[str]:
    """Author and footer render no Markdown, but must still never hold a mention."""
    return [embed.get("author", {}).get("name", ""), embed.get("footer", {}).get("text", "")]


def _check_embed(embed: dict[str, Any], paper: Paper) -> None:
    assert len(embed["title"]) <= EMBED_TITLE_LIMIT
    assert len(embed["description"]) <= EMBED_DESCRIPTION_LIMIT
    assert all(len(f["value"]) <= FIELD_VALUE_LIMIT for f in embed["fields"])
    assert len(embed.get("author", {}).get("name", "")) <= AUTHOR_LIMIT
    assert embed_length(embed) <= EMBED_TOTAL_LIMIT
    assert embed["url"] == paper.abs_url
    assert pings(_markdown(embed) + _plain(embed)) == []
    for text in _markdown(embed):
        assert set(link_targets(text)) <= allowed_targets(paper), text


@given(hostile_papers, st.text(max_size=300))
def test_any_paper_renders_one_message_within_limits_with_no_ping_or_foreign_link(
    paper: Paper, why: str
) -> None:
    spec = paper_message("channel:1", _entry(paper, why))
    assert spec.content == "" and spec.mention_user_ids == ()
    (embed,) = spec.embeds
    _check_embed(embed, paper)


@given(st.lists(hostile_papers, min_size=1, max_size=8), st.integers(0, 500))
def test_any_digest_header_and_dm_fit_discord_and_link_only_to_arxiv(
    papers: list[Paper], overflow: int
) -> None:
    papers = [replace(p, id=f"2401.{n:05d}") for n, p in enumerate(papers)]  # one digest, distinct
    entries = [_entry(p) for p in papers]
    header = header_message("channel:1", 1, DAY, entries, overflow).content
    assert len(header) <= MESSAGE_LIMIT
    assert pings([header]) == []
    assert set(link_targets(header)) <= {p.abs_url for p in papers}
    for spec in dm_messages("dm:1", DAY, entries):
        assert len(spec.content) <= MESSAGE_LIMIT and len(spec.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(embed_length(e) for e in spec.embeds) <= EMBED_TOTAL_LIMIT
        for embed in spec.embeds:
            _check_embed(embed, next(p for p in papers if p.abs_url == embed["url"]))


def test_an_injected_link_stored_before_the_fix_renders_as_no_link() -> None:
    # a row ingested before URLs were checked still holds the attacker's value
    paper = Paper(id="2401.01234", title="T", abstract="", code_url=INJECTED)
    links = links_text(_entry(paper))
    assert "evil.example" not in links and "weights" not in links
    assert link_targets(links) == [paper.pdf_url, paper.hf_url]


def test_a_title_carrying_a_masked_link_renders_it_inert() -> None:
    title = "Good paper https://x.org/[click](https://evil.example) [⚠ here](https://evil.example)"
    paper = Paper(id="2401.01234", title=title, abstract="")
    (embed,) = paper_message("channel:1", _entry(paper)).embeds
    assert link_targets(embed["title"]) == []
    header = header_message("channel:1", 1, DAY, [_entry(paper)], 0).content
    assert link_targets(header) == [paper.abs_url]
