"""The live /search pagers, without Discord: pages over a real SQLite store, and a bounded memory
that forgets the least recently used pager first."""

from __future__ import annotations

from bot.query import parse
from bot.search_sessions import SearchSession, SearchSessions, load_page, turn_page
from bot.store import Store
from bot.store.papers import upsert_papers
from tests.support import NOW, paper


def session(owner: int = 1) -> SearchSession:
    return SearchSession(owner, parse("diffusion"), None, None)


async def test_pages_forward_and_back_with_the_total_counted_once(store: Store) -> None:
    papers = [paper(f"2611.{n:05d}", f"Diffusion {n}") for n in range(1, 13)]
    await store.run(upsert_papers, papers, NOW)
    pager = session()
    first = await load_page(store, pager, 0, escape=str)
    assert (len(first.hits), pager.total) == (5, 12)
    assert not pager.has_previous and pager.has_next
    second = await turn_page(store, pager, True, escape=str)
    assert second.offset == 5 and second.total is None  # the total from page 1 is reused
    third = await turn_page(store, pager, True, escape=str)
    assert (len(third.hits), pager.has_next) == (2, False)
    back = await turn_page(store, pager, False, escape=str)
    assert back.offset == 5 and {h.paper.id for h in back.hits} == {h.paper.id for h in second.hits}

    await store.run(upsert_papers, [paper("2611.00099", "Diffusion late")], NOW)
    again = await turn_page(store, pager, True, escape=str)
    assert (pager.total, len(again.hits)) == (13, 3)  # papers arrived: recounted


async def test_before_the_first_page_is_nothing_and_no_offset_goes_negative(store: Store) -> None:
    await store.run(upsert_papers, [paper("2611.00001", "Diffusion")], NOW)
    pager = session()
    await load_page(store, pager, 0, escape=str)
    page = await turn_page(store, pager, False, escape=str)
    assert page.offset == 0 and len(page.hits) == 1


def test_sessions_are_bounded_least_recently_used_forgotten_first() -> None:
    sessions = SearchSessions(limit=2)
    sessions.open(1, session(owner=10))
    sessions.open(2, session(owner=20))
    assert sessions.get(1) is not None  # used: now the most recent
    sessions.open(3, session(owner=30))
    assert len(sessions) == 2
    assert sessions.get(2) is None  # forgotten: its buttons will say the search expired
    assert sessions.get(1) is not None and sessions.get(3) is not None
    closed = sessions.close(1)
    assert closed is not None and closed.owner_id == 10
    assert sessions.get(1) is None and sessions.close(1) is None
