"""Shared by the rendering fuzz tests (no tests here): hostile papers, and checks that rendered
text pings nobody and links only to a paper's own URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hypothesis import strategies as st

from bot.links import safe_url
from bot.models import Paper

# pieces an attacker would put in a title, abstract, author or keyword
HOSTILE = [
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@&42>",
    "<#42>",
    "</cmd:42>",
    "[⚠ weights](https://evil.example/x.exe)",
    "](https://evil.example)",
    "https://evil.example/[a](https://evil.example/b)",
    "\\",
    "`",
    "*",
    "_",
    "~",
    "|",
    "> ",
    "# ",
    "1. ",
    "\n",
    "İ",
    "ß",
]
_pieces = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=12), max_size=12).map("".join)
_long = st.text(max_size=1500) | _pieces
_url = st.sampled_from(
    [
        None,
        "https://github.com/org/repo",
        "https://github.com/a/b)  [⚠ Download the official weights](https://evil.example/x.exe",
        "javascript:alert(1)",
        "https://example.com/a b",
    ]
)

hostile_papers = st.builds(
    Paper,
    id=st.sampled_from(["2401.01234", "hep-th/9901001"]),
    title=_pieces.filter(str.strip) | _long.filter(str.strip),
    abstract=_long,
    authors=st.lists(_pieces, max_size=6).map(tuple),
    categories=st.lists(st.sampled_from(["cs.CL", "cs.LG", "@everyone"]), max_size=3).map(tuple),
    code_url=_url,
    project_url=_url,
    upvotes=st.none() | st.integers(min_value=0, max_value=10**9),
    ai_summary=st.none() | _pieces,
    ai_keywords=st.lists(_pieces, max_size=4).map(tuple),
)

_LINK = re.compile(r"\]\(<?([^)>\s]*)")
_PING = re.compile(r"@(everyone|here)|<[@#/]", re.IGNORECASE)


def allowed_targets(paper: Paper) -> set[str]:
    """The only places a rendered paper may link to: its own arXiv/HF pages and checked URLs."""
    urls = {paper.abs_url, paper.pdf_url, paper.hf_url}
    for url in (paper.code_url, paper.project_url):
        checked = safe_url(url)
        if checked:
            urls.add(checked)
    return urls


def link_targets(text: str) -> list[str]:
    """Targets of every Markdown masked link in `text` (an escaped `\\]` opens none)."""
    found = []
    for m in _LINK.finditer(text):
        backslashes = len(text[: m.start()]) - len(text[: m.start()].rstrip("\\"))
        if backslashes % 2 == 0:
            found.append(m.group(1))
    return found


def pings(texts: Iterable[str]) -> list[str]:
    """Every fragment that could mention someone (a user, role, channel, @everyone/@here)."""
    return [m.group(0) for t in texts for m in _PING.finditer(t)]
