"""The live /search pagers: for each (by pager id) who searched, what, over which window, the page
shown and the total counted with the first page. Discord-free and held in memory only, so a
pager from before a restart is simply unknown here (its buttons then say the search expired).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.likes import search_similar
from bot.query import Query
from bot.search import Cursor, SearchPage, search_papers
from bot.store import Store

PER_PAGE = 5
MAX_SESSIONS = 2_000  # pagers kept at most; the least recently turned is forgotten first


@dataclass(slots=True)
class SearchSession:
    """One member's search being paged through."""

    owner_id: int
    query: Query
    days: int | None
    since: datetime | None
    page: SearchPage = field(default_factory=lambda: SearchPage(hits=(), offset=0, has_more=False))
    total: int | None = None  # counted with the first page, reused on every turn
    total_at_least: bool = False  # the count stopped at `total` ("1,000+")
    cursors: dict[int, Cursor] = field(default_factory=dict)  # page offset -> where it starts

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before the one shown."""
        return self.page.offset > 0

    @property
    def has_next(self) -> bool:
        """Whether there is a page after the one shown."""
        return self.page.has_more


async def load_page(
    store: Store, session: SearchSession, offset: int, *, escape: Callable[[str], str]
) -> SearchPage:
    """Fetch the page at `offset` into `session` (counting the total only when it is unknown or
    no longer fits: papers arrived or left since), and return it."""
    offset = max(0, offset)
    page = await _fetch(store, session, offset, escape, count=session.total is None)
    if session.total is not None and not page.agrees_with(session.total, session.total_at_least):
        page = await _fetch(store, session, offset, escape, count=True)
    if page.total is not None:
        session.total, session.total_at_least = page.total, page.total_at_least
    if page.next_cursor is not None:
        session.cursors[offset + len(page.hits)] = page.next_cursor
    session.page = page
    return page


async def turn_page(
    store: Store, session: SearchSession, forward: bool, *, escape: Callable[[str], str]
) -> SearchPage:
    """Move `session` one page forward or back."""
    step = PER_PAGE if forward else -PER_PAGE
    return await load_page(store, session, session.page.offset + step, escape=escape)


async def _fetch(
    store: Store,
    session: SearchSession,
    offset: int,
    escape: Callable[[str], str],
    *,
    count: bool,
) -> SearchPage:
    # `like:` queries rank by similarity on their own path (bot/likes.py)
    search = search_similar if session.query.like_ids else search_papers
    return await store.read(
        search,
        session.query,
        limit=PER_PAGE,
        offset=offset,
        cursor=session.cursors.get(offset),
        since=session.since,
        escape=escape,
        count=count,
    )


class SearchSessions:
    """The live pagers by id, at most `limit` (least recently used forgotten first)."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.limit = limit
        self._sessions: OrderedDict[int, SearchSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, pager_id: int, session: SearchSession) -> None:
        """Keep `session` under `pager_id`."""
        self._sessions[pager_id] = session
        self._sessions.move_to_end(pager_id)
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)

    def get(self, pager_id: int) -> SearchSession | None:
        """The live session with this id, or None (expired, forgotten, or from before a restart)."""
        session = self._sessions.get(pager_id)
        if session is not None:
            self._sessions.move_to_end(pager_id)
        return session

    def close(self, pager_id: int) -> SearchSession | None:
        """Forget a session; the one forgotten, if it was live."""
        return self._sessions.pop(pager_id, None)
