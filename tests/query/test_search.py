"""Search over the store: BM25 order with the title weighted up, true matches only, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Paper
from bot.query import parse
from bot.search import search_papers
from bot.store import Store
from bot.store import papers as papers_repo

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.now(NOW)

PAPERS = [
    Paper(
        id="2611.00001",
        title="Masked Diffusion Language Models",
        abstract="We train masked diffusion models for text generation at scale.",
        categories=("cs.CL",),
        sources=frozenset({"arxiv"}),
    ),
    Paper(
        id="2611.00002",
        title="A study of image generation",
        abstract="Diffusion that is masked in space, plus a note on masked diffusion for images.",
        categories=("cs.CV",),
        sources=frozenset({"hf"}),
    ),
    Paper(
        id="2611.00003",
        title="Diffusion without masks",
        abstract="Continuous diffusion for audio.",
        categories=("cs.SD",),
        sources=frozenset({"hf"}),
    ),
    Paper(
        id="2611.00004",
        title="Quantized LLM inference",
        abstract="We quantize large language models to int4.",
        categories=("cs.LG",),
        sources=frozenset({"hf"}),
    ),
]


@pytest.fixture(autouse=True)
async def stored(store: Store) -> None:
    """Three papers listed 20 days ago, the fourth yesterday."""
    await store.run(papers_repo.upsert_papers, PAPERS[:3], NOW - timedelta(days=20))
    await store.run(papers_repo.upsert_papers, PAPERS[3:], NOW - timedelta(days=1))


async def ids(store: Store, query: str, **kw) -> list[str]:
    page = await store.run(search_papers, parse(query), limit=10, **kw)
    return [h.paper.id for h in page.hits]


async def test_phrase_only_true_matches_title_hits_first(store: Store) -> None:
    # FTS5 would also return 2611.00003 for the words; the evaluator drops it (no phrase)
    assert await ids(store, '"masked diffusion"') == ["2611.00001", "2611.00002"]


async def test_title_weighted_up(store: Store) -> None:
    assert (await ids(store, "diffusion"))[0] in {"2611.00001", "2611.00003"}
    assert (await ids(store, "diffusion"))[-1] == "2611.00002"


async def test_exclusion_prefix_and_category_only(store: Store) -> None:
    assert await ids(store, "diffusion -masks") == ["2611.00001", "2611.00002"] or (
        await ids(store, "diffusion -masks")
    ) == ["2611.00002", "2611.00001"]
    assert await ids(store, "quantiz*") == ["2611.00004"]
    assert await ids(store, "cat:cs.CV") == ["2611.00002"]


async def test_days_filter(store: Store) -> None:
    since = NOW - timedelta(days=7)
    assert await ids(store, "diffusion OR quantized", since=since) == ["2611.00004"]


async def test_paging_and_snippet(store: Store) -> None:
    query = parse("diffusion")
    first = await store.run(search_papers, query, limit=2)
    second = await store.run(search_papers, query, limit=2, offset=2)
    assert first.has_more and not second.has_more
    assert len(first.hits) == 2 and len(second.hits) == 1
    assert {h.paper.id for h in first.hits + second.hits} == {
        "2611.00001",
        "2611.00002",
        "2611.00003",
    }
    assert all("**" in h.snippet for h in first.hits + second.hits)
    hit = next(h for h in first.hits + second.hits if h.paper.id == "2611.00002")
    assert hit.snippet.startswith("**Diffusion**")


async def test_no_results(store: Store) -> None:
    page = await store.run(search_papers, parse("superconductors"))
    assert page.hits == () and not page.has_more


async def test_days_filter_leaves_out_an_old_paper_looked_up_recently(store: Store) -> None:
    # /paper stores a looked-up paper without a source; being looked up doesn't make it recent.
    classic = Paper(
        id="1706.03762",
        title="Quantized attention, a classic",
        abstract="Old.",
        published=NOW - timedelta(days=3000),
    )
    await store.run(papers_repo.upsert_papers, [classic], NOW - timedelta(hours=1))
    assert await ids(store, "quantized", since=NOW - timedelta(days=7)) == ["2611.00004"]


async def test_count_gives_the_total_of_true_matches_in_the_same_pass(store: Store) -> None:
    query = parse('"masked diffusion" OR quantized')  # FTS also finds 2611.00003; not a match
    first = await store.run(search_papers, query, limit=2, count=True)
    assert first.total == 3 and first.has_more and len(first.hits) == 2
    last = await store.run(search_papers, query, limit=2, offset=2, count=True)
    assert last.total == 3 and not last.has_more and len(last.hits) == 1
    uncounted = await store.run(search_papers, query, limit=2)
    assert uncounted.total is None and uncounted.hits == first.hits and uncounted.has_more


async def test_a_total_counted_earlier_is_checked_against_each_page(store: Store) -> None:
    query = parse("diffusion")  # 3 matches
    second = await store.run(search_papers, query, limit=2, offset=2)
    assert second.agrees_with(3)
    assert not second.agrees_with(2)  # a paper more than counted: the total is stale
    first = await store.run(search_papers, query, limit=2)
    assert first.agrees_with(3) and not first.agrees_with(2)
