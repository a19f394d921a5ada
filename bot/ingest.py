"""Fetching papers into the store: one path for the scheduler's polls and `paperboy ingest`.

Each source is fetched on its own, so one being down never stops the other; every outcome is
recorded in `source_status` so an empty digest can say "Hugging Face unreachable since 08:10".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import aiohttp
import sqlite_utils

from bot.config import Settings
from bot.models import Paper
from bot.sources import SourceError, build_sources
from bot.store import Store, source_status, upvotes
from bot.store import papers as papers_repo
from bot.store.source_status import SOURCE_NAMES

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source gave: papers fetched, how many were new, or the error."""

    source: str
    fetched: int = 0
    new: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The outcome of one ingest, per source."""

    results: tuple[SourceResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every source fetched."""
        return all(r.error is None for r in self.results)

    @property
    def new(self) -> int:
        """Papers stored for the first time."""
        return sum(r.new for r in self.results)


async def _store_papers(store: Store, source: str, papers: list[Paper]) -> SourceResult:
    now = store.now()

    def write(db: sqlite_utils.Database) -> int:
        result = papers_repo.upsert_papers(db, papers, now)
        # Upvote counts as this poll saw them (/trending ranks by what they gained since).
        upvotes.record_upvotes(db, (p.id for p in papers if p.upvotes is not None), now)
        source_status.record_success(db, source, now, len(papers))
        return len(result.new)

    new = await store.run(write)
    return SourceResult(source, fetched=len(papers), new=new)


async def _failed(store: Store, source: str, error: Exception) -> SourceResult:
    message = str(error) or type(error).__name__
    await store.run(source_status.record_failure, source, store.now(), message)
    log.warning("%s unreachable: %s", SOURCE_NAMES.get(source, source), message)
    return SourceResult(source, error=message)


async def ingest_once(
    store: Store,
    session: aiohttp.ClientSession,
    settings: Settings,
    *,
    day: date | None = None,
    source: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch Hugging Face (`day`, default today and yesterday) and arXiv's latest announcement."""
    say = progress or (lambda line: None)
    hf, arxiv = build_sources(session, settings)
    results: list[SourceResult] = []
    if source in (None, "hf"):
        today = store.now().date()
        days = [day] if day else [today, today - timedelta(days=1)]
        papers: list[Paper] = []
        try:
            for one in days:
                fetched = await hf.fetch_day(one)
                say(f"Hugging Face {one}: {len(fetched)} papers")
                papers.extend(fetched)
        except (SourceError, aiohttp.ClientError, TimeoutError) as exc:
            results.append(await _failed(store, "hf", exc))
        else:
            results.append(await _store_papers(store, "hf", papers))
    if source in (None, "arxiv"):
        try:
            fetched = await arxiv.fetch_new()
            say(f"arXiv {', '.join(arxiv.categories) or '(no categories)'}: {len(fetched)} papers")
        except (SourceError, aiohttp.ClientError, TimeoutError) as exc:
            results.append(await _failed(store, "arxiv", exc))
        else:
            results.append(await _store_papers(store, "arxiv", fetched))
    return IngestReport(tuple(results))


def summary_lines(report: IngestReport) -> list[str]:
    """One line per source for people: counts, or why it failed."""
    lines = []
    for result in report.results:
        name = SOURCE_NAMES.get(result.source, result.source)
        if result.error:
            lines.append(f"{name}: FAILED — {result.error}")
        else:
            lines.append(f"{name}: {result.fetched} papers, {result.new} new")
    return lines


async def ingest_cli(
    settings: Settings, *, day: date | None, source: str | None, sample: bool
) -> int:
    """`paperboy ingest`: fetch (or load the sample day) and print a summary; 0 when all worked."""
    async with await Store.open(settings.db, busy_timeout=settings.db_busy_timeout) as store:
        if sample:
            from bot.sources.sample import load_sample_day

            sample_day, papers = load_sample_day()
            now = store.now()
            result = await store.run(papers_repo.upsert_papers, papers, now)
            await store.run(upvotes.record_upvotes, [p.id for p in papers], now)
            print(
                f"Sample day {sample_day}: {len(papers)} papers, {len(result.new)} new"
                f" → {settings.db}"
            )
            return 0
        async with aiohttp.ClientSession() as session:
            report = await ingest_once(
                store, session, settings, day=day, source=source, progress=print
            )
    for line in summary_lines(report):
        print(line)
    print(f"{report.new} new papers stored in {settings.db}")
    return 0 if report.ok else 1
