"""Plain-text rendering for the command line: previews and search results."""

from __future__ import annotations

import shlex
import textwrap
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from bot.delivery.digest import Subscriber, build_digest
from bot.delivery.messages import date_label
from bot.models import Paper
from bot.query import Query
from bot.search import SearchPage


@dataclass(frozen=True, slots=True)
class Style:
    """How emphasis is drawn: ANSI bold on a terminal, Markdown-ish `*` when piped."""

    bold: tuple[str, str]
    dim: tuple[str, str]

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        """ANSI styling when `stream` is a terminal, plain text otherwise."""
        if stream.isatty():
            return cls(bold=("\x1b[1m", "\x1b[0m"), dim=("\x1b[2m", "\x1b[0m"))
        return cls(bold=("*", "*"), dim=("", ""))

    def b(self, text: str) -> str:
        """Bold text."""
        return f"{self.bold[0]}{text}{self.bold[1]}"

    def d(self, text: str) -> str:
        """Dimmed text."""
        return f"{self.dim[0]}{text}{self.dim[1]}"


def _wrap(text: str, indent: str = "   ") -> str:
    return textwrap.fill(text, width=96, initial_indent=indent, subsequent_indent=indent)


def render_digest(query: Query, papers: list[Paper], day: date, *, style: Style, cap: int) -> str:
    """What a channel subscribed to `query` would receive from `papers`, as terminal text."""
    subscriber = Subscriber(kind="channel", subscription_id=0, normal=query.normal)
    matches = {}
    for paper in papers:
        match = query.matches(paper)
        if match is not None:
            matches[paper.id] = [(subscriber, match)]
    digest = build_digest(papers, matches, cap=cap)
    head = f"{date_label(day)} · {query.normal} · {digest.matched} of {len(papers)} papers match"
    lines = [style.b(head), ""]
    if not digest.entries:
        lines.append(
            "Nothing matched. Try a broader query (fewer words, OR, or a prefix like quantiz*)."
        )
    for n, entry in enumerate(digest.entries, 1):
        paper = entry.paper
        upvotes = f"  ▲ {paper.upvotes}" if paper.upvotes else ""
        lines.append(f"{n:>2}. {style.b(paper.title)}")
        lines.append(f"    {paper.abs_url}{upvotes}")
        lines.append(_wrap(f"TL;DR: {entry.tldr}", "    "))
        lines.append(style.d(f"    Matched: {entry.why}"))
        lines.append("")
    if digest.overflow:
        # Quoted for the shell: a normal form may itself hold quotes ("masked diffusion").
        lines.append(f"+{digest.overflow} more (see `paperboy search {shlex.quote(query.normal)}`)")
    return "\n".join(lines).rstrip() + "\n"


def render_search(query: Query, page: SearchPage, *, style: Style) -> str:
    """Search results, best first, with the matched words emphasised."""
    if not page.hits:
        return (
            f"No stored paper matches {query.normal}. Try a broader query: fewer words, "
            "OR between alternatives, or a prefix like quantiz*.\n"
        )
    lines: list[str] = []
    for n, hit in enumerate(page.hits, page.offset + 1):
        paper = hit.paper
        when = paper.published or paper.first_seen
        day = f" ({date_label(when.date())})" if when else ""
        lines.append(f"{n:>2}. {style.b(paper.title)}{day}")
        lines.append(f"    {paper.abs_url}")
        lines.append(_wrap(hit.snippet, "    "))
        lines.append("")
    if page.has_more:
        lines.append("More results: raise --limit.")
    return "\n".join(lines).rstrip() + "\n"
