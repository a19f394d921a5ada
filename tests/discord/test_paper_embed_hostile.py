"""Fuzzing the /paper and /search embeds: any paper text stays within Discord's limits, pings
nobody and links only to the paper's own URLs."""

from __future__ import annotations

from hypothesis import given

from bot.discord.embeds import DESCRIPTION_LIMIT, FIELD_LIMIT, TITLE_LIMIT, paper_embed
from bot.models import Paper
from tests.render_support import allowed_targets, hostile_papers, link_targets, pings


@given(hostile_papers)
def test_any_paper_embed_is_within_limits_with_no_ping_or_foreign_link(paper: Paper) -> None:
    data = paper_embed(paper, paper.ai_summary or "").to_dict()
    assert len(data.get("title", "")) <= TITLE_LIMIT
    assert len(data.get("description", "")) <= DESCRIPTION_LIMIT
    fields = data.get("fields", [])
    assert all(len(f["value"]) <= FIELD_LIMIT for f in fields)
    markdown = [data.get("title", ""), data.get("description", "")] + [f["value"] for f in fields]
    plain = [data.get("author", {}).get("name", ""), data.get("footer", {}).get("text", "")]
    assert pings(markdown + plain) == []
    for text in markdown:
        assert set(link_targets(text)) <= allowed_targets(paper), text
    assert data["url"] == paper.abs_url


def test_the_reported_injection_renders_no_attacker_link_in_paper() -> None:
    evil = "https://github.com/a/b)  [⚠ Download the official weights](https://evil.example/x.exe"
    paper = Paper(id="2401.01234", title="T", abstract="", code_url=evil)
    (links,) = [f for f in paper_embed(paper, "").to_dict()["fields"] if f["name"] == "Links"]
    assert "evil.example" not in links["value"] and "weights" not in links["value"]
