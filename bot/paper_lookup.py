"""Finding one paper for /paper: the store first, then Hugging Face (stored once fetched), with a
short memory of the ids Hugging Face didn't know so asking again costs no request."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta

from bot.arxiv_ids import normalise_id
from bot.errors import UserError
from bot.models import Paper
from bot.sources.http import SourceError
from bot.sources.huggingface import HuggingFaceSource
from bot.store import Store
from bot.store.papers import get_paper, upsert_papers

log = logging.getLogger(__name__)

SEARCH_DAYS_LIMIT = 3650
MISS_TTL = timedelta(hours=1)  # a paper new to Hugging Face is usually listed within the hour
MAX_MISSES = 5_000  # ids remembered at most (a few hundred KB)


class RecentMisses:
    """The arXiv ids Hugging Face said it didn't know, each for `ttl`, at most `limit` of them
    (the oldest forgotten first). In memory: a restart simply asks again."""

    def __init__(self, ttl: timedelta = MISS_TTL, limit: int = MAX_MISSES) -> None:
        self.ttl, self.limit = ttl, limit
        self._until: OrderedDict[str, datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._until)

    def add(self, arxiv_id: str, now: datetime) -> None:
        """Remember that Hugging Face didn't know `arxiv_id` at `now`."""
        self._until.pop(arxiv_id, None)
        self._until[arxiv_id] = now + self.ttl  # insertion order is expiry order
        while len(self._until) > self.limit:
            self._until.popitem(last=False)

    def recently_missed(self, arxiv_id: str, now: datetime) -> bool:
        """Whether Hugging Face didn't know `arxiv_id` less than `ttl` before `now`."""
        self._expire(now)
        return arxiv_id in self._until

    def _expire(self, now: datetime) -> None:
        while self._until:
            arxiv_id, until = next(iter(self._until.items()))
            if until > now:
                return
            del self._until[arxiv_id]


def parse_paper_id(text: str) -> str:
    """The arXiv id in what the user pasted, or a one-line `UserError`."""
    arxiv_id = normalise_id(text)
    if arxiv_id is None:
        shown = " ".join(text.split())[:60].replace("`", "'") or "(empty)"
        raise UserError(
            f"`{shown}` is not an arXiv id or URL: try 2401.01234 or "
            "https://arxiv.org/abs/2401.01234."
        )
    return arxiv_id


async def lookup_paper(
    store: Store,
    hf: HuggingFaceSource,
    arxiv_id: str,
    now: datetime,
    misses: RecentMisses | None = None,
) -> Paper | None:
    """The stored paper, else Hugging Face's copy (stored for next time), else None; an id in
    `misses` is not asked about again, and a new miss is added to it."""
    paper = await store.read(get_paper, arxiv_id)
    if paper is not None:
        return paper
    if misses is not None and misses.recently_missed(arxiv_id, now):
        return None
    try:
        fetched = await hf.fetch_paper(arxiv_id)
    except SourceError as exc:
        log.warning("Looking up %s on Hugging Face failed: %s", arxiv_id, exc)
        raise UserError(
            f"I don't have arXiv:{arxiv_id} yet and Hugging Face isn't answering; "
            "try again in a few minutes."
        ) from exc
    if fetched is None:
        if misses is not None:
            misses.add(arxiv_id, now)
        return None
    # Hugging Face's paper API knows every arXiv paper, Daily Papers or not: a lookup is not a
    # listing, so it is stored without a source and never becomes digest news (a source that
    # lists it later makes it so; see `upsert_papers`).
    await store.run(upsert_papers, [replace(fetched, sources=frozenset())], now)
    return await store.read(get_paper, arxiv_id)


def search_since(days: int | None, now: datetime) -> datetime | None:
    """The start of a /search window of `days` days (None: all time), or a `UserError`."""
    if days is None:
        return None
    if not 1 <= days <= SEARCH_DAYS_LIMIT:
        raise UserError(f"`days` must be between 1 and {SEARCH_DAYS_LIMIT}.")
    return now - timedelta(days=days)
