"""Hugging Face Daily Papers: parse the API's JSON into Papers and fetch whole days."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from yarl import URL

from bot.arxiv_ids import normalise_id
from bot.links import safe_url
from bot.models import Paper
from bot.sources.http import RetryingClient, SourceError
from bot.text import (
    ABSTRACT_LIMIT,
    MAX_AUTHORS,
    MAX_KEYWORDS,
    NAME_LIMIT,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    clean_text,
)

log = logging.getLogger(__name__)

HF_API_URL = "https://huggingface.co/api"
PAGE_SIZE = 100  # the API's maximum `limit`
MAX_PAGES = 50  # 5,000 papers: far beyond a real day, a stop for a server that ignores `p`


class _BadEntry(ValueError):
    """One entry cannot be turned into a Paper."""


def parse_daily_papers(document: Any, hf_date: date | None = None) -> list[Paper]:
    """Papers from a `/daily_papers` list; bad entries are skipped, a bad document raises."""
    if isinstance(document, dict) and "error" in document:
        raise SourceError("huggingface daily_papers", f"API error: {document['error']}")
    if not isinstance(document, list):
        raise SourceError(
            "huggingface daily_papers", f"expected a list, got {type(document).__name__}"
        )
    papers: list[Paper] = []
    for index, entry in enumerate(document):
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
                raise _BadEntry("no 'paper' object")
            papers.append(_paper_from(entry["paper"], entry, hf_date))
        except _BadEntry as exc:
            log.warning("Skipping Hugging Face entry %d: %s", index, exc)
    return papers


def parse_paper(document: Any, hf_date: date | None = None) -> Paper:
    """The Paper in a `/papers/{id}` response (the bare paper object); a bad one raises."""
    if isinstance(document, dict) and "error" in document and "id" not in document:
        raise SourceError("huggingface papers", f"API error: {document['error']}")
    if not isinstance(document, dict):
        raise SourceError(
            "huggingface papers", f"expected an object, got {type(document).__name__}"
        )
    try:
        return _paper_from(document, {}, hf_date)
    except _BadEntry as exc:
        raise SourceError("huggingface papers", str(exc)) from exc


def _paper_from(paper: dict[str, Any], entry: dict[str, Any], hf_date: date | None) -> Paper:
    raw_id = paper.get("id")
    arxiv_id = normalise_id(raw_id) if isinstance(raw_id, str) else None
    if arxiv_id is None:
        raise _BadEntry(f"invalid id {raw_id!r}")
    title = clean_text(_text(paper.get("title")) or _text(entry.get("title")), TITLE_LIMIT)
    summary = _text(paper.get("summary")) or _text(entry.get("summary"))
    abstract = clean_text(summary, ABSTRACT_LIMIT)
    if not title:
        raise _BadEntry(f"{arxiv_id} has no title")
    if hf_date is None:
        submitted = _datetime(paper.get("submittedOnDailyAt"))
        hf_date = submitted.date() if submitted else None
    return Paper(
        id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=_authors(paper.get("authors")),
        # paper.publishedAt is the arXiv date; the top-level copy is shifted, so never use it.
        published=_datetime(paper.get("publishedAt")),
        hf_date=hf_date,
        code_url=safe_url(paper.get("githubRepo"), what=f"{arxiv_id} githubRepo"),
        project_url=safe_url(paper.get("projectPage"), what=f"{arxiv_id} projectPage"),
        upvotes=_int(paper.get("upvotes")),
        ai_summary=clean_text(_text(paper.get("ai_summary")), SUMMARY_LIMIT) or None,
        ai_keywords=_keywords(paper.get("ai_keywords")),
        thumbnail=safe_url(entry.get("thumbnail"), what=f"{arxiv_id} thumbnail"),
        sources=frozenset({"hf"}),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _authors(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = (
        clean_text(_text(a.get("name")), NAME_LIMIT)
        for a in value[:MAX_AUTHORS]
        if isinstance(a, dict) and a.get("name")
    )
    return tuple(name for name in names if name)


def _keywords(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    words = (clean_text(k, NAME_LIMIT) for k in value[: MAX_KEYWORDS * 2] if isinstance(k, str))
    return tuple(dict.fromkeys(w for w in words if w))[:MAX_KEYWORDS]


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _int(value: Any) -> int | None:
    # bool is an int subclass; a JSON true is not a vote count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class HuggingFaceSource:
    """Hugging Face Daily Papers over a `RetryingClient`."""

    def __init__(self, client: RetryingClient, base_url: str = HF_API_URL) -> None:
        self.client = client
        self._base = base_url.rstrip("/")

    async def fetch_day(self, day: date) -> list[Paper]:
        """Every paper Hugging Face added to Daily Papers on `day`, across all pages."""
        url = f"{self._base}/daily_papers"
        papers: dict[str, Paper] = {}
        for page in range(MAX_PAGES):
            params: dict[str, str | int] = {"date": day.isoformat(), "p": page, "limit": PAGE_SIZE}
            document = await self.client.get_json(url, params)
            try:
                parsed = parse_daily_papers(document, hf_date=day)
            except SourceError as exc:  # name the page that was wrong, not just the API
                raise SourceError(str(URL(url).update_query(params)), exc.reason) from exc
            fresh = [p for p in parsed if p.id not in papers]
            papers.update((p.id, p) for p in fresh)
            # A short page is the last; a page of only known ids means `p` is being ignored.
            if len(document) < PAGE_SIZE or not fresh:
                break
        else:
            log.warning("Stopped reading %s for %s after %d pages", url, day, MAX_PAGES)
        return list(papers.values())

    async def fetch_paper(self, arxiv_id: str) -> Paper | None:
        """One paper by arXiv id (any accepted form), or None if Hugging Face doesn't know it."""
        normalised = normalise_id(arxiv_id)
        if normalised is None:
            raise ValueError(f"not an arXiv id: {arxiv_id!r}")
        try:
            document = await self.client.get_json(f"{self._base}/papers/{normalised}")
        except SourceError as exc:
            if exc.status == 404:
                return None
            raise
        return parse_paper(document)
