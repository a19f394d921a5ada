"""A subscription's dry run: what it would have matched over the last few days of papers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from bot.likes import documents, score_batch
from bot.models import Paper
from bot.query import Query
from bot.store.papers import recent_papers

DRY_RUN_DAYS = 7
MAX_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class DryRun:
    """How many recent papers a query matches, with a few example papers (best first)."""

    days: int
    considered: int
    matched: int
    examples: tuple[Paper, ...]

    def describe(self) -> str:
        """e.g. `12 papers of the last 7 days would have matched.`"""
        noun = "paper" if self.matched == 1 else "papers"
        return f"{self.matched} {noun} of the last {self.days} days would have matched."


def _rank(paper: Paper) -> tuple[int, datetime, str]:
    # Most upvoted, then newest: the papers a subscriber would most like to see as examples.
    when = paper.published or paper.first_seen or datetime.min.replace(tzinfo=UTC)
    return (paper.upvotes or 0, when, paper.id)


def dry_run(
    db: sqlite_utils.Database, query: Query, now: datetime, *, days: int = DRY_RUN_DAYS
) -> DryRun:
    """Match `query` against the papers listed by a source or published in the last `days` days."""
    recent = recent_papers(db, now - timedelta(days=days))
    likes = score_batch(db, recent, [query])
    docs = documents(recent, likes)
    matched = [p for p, doc in zip(recent, docs, strict=True) if query.matches(doc) is not None]
    matched.sort(key=_rank, reverse=True)
    return DryRun(
        days=days,
        considered=len(recent),
        matched=len(matched),
        examples=tuple(matched[:MAX_EXAMPLES]),
    )
