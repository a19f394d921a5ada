"""/saved's pages: a member's reading list, newest first, five at a time, as text."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from bot.links import markdown_link
from bot.reading_exports import year_of
from bot.store import reading_list as lists
from bot.text import neutralise_mentions, truncate

PER_PAGE = 5
TITLE_LIMIT = 150


@dataclass(frozen=True, slots=True)
class SavedPage:
    """One page of a member's reading list, where it starts, and how many papers it holds."""

    papers: tuple[lists.SavedPaper, ...]
    offset: int
    total: int

    @classmethod
    def load(cls, db: sqlite_utils.Database, user_id: int, offset: int) -> SavedPage:
        """The page at `offset` (the last page if the list has shrunk below it)."""
        papers, total = lists.saved_page(db, user_id, offset=max(0, offset), limit=PER_PAGE)
        if not papers and total:
            offset = (total - 1) // PER_PAGE * PER_PAGE
            papers, total = lists.saved_page(db, user_id, offset=offset, limit=PER_PAGE)
        return cls(tuple(papers), max(0, offset) if papers else 0, total)


def saved_page_text(page: SavedPage) -> str:
    """e.g. `🔖 Your reading list — page 1 of 3 · 12 papers` and one line per paper."""
    pages = max(1, -(-page.total // PER_PAGE))
    noun = "paper" if page.total == 1 else "papers"
    lines = [
        f"🔖 **Your reading list** — page {page.offset // PER_PAGE + 1} of {pages} · "
        f"{page.total} {noun}"
    ]
    for n, paper in enumerate(page.papers, start=page.offset + 1):
        link = markdown_link(truncate(paper.title, TITLE_LIMIT), paper.abs_url, preview=False)
        first = paper.authors[0] if paper.authors else ""
        who = neutralise_mentions(first + (" et al." if len(paper.authors) > 1 else ""))
        detail = " · ".join(x for x in (who, year_of(paper), f"arXiv:{paper.paper_id}") if x)
        lines.append(f"{n}. {link} — {detail}")
    return "\n".join(lines)
