"""The planner: what a feed's next digest holds, and why it is empty when it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import sqlite_utils
from aiohttp import web

from bot.delivery.planner import plan_digest
from bot.models import Paper
from bot.paper_lookup import lookup_paper
from bot.sources.http import RetryingClient
from bot.sources.huggingface import HuggingFaceSource
from bot.store import Store, source_status
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from tests.support import make_feed, subscribe

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday
CHANNEL = 500
pytestmark = pytest.mark.now(NOW)


def paper(pid: str, title: str, sources: set[str], cats: tuple[str, ...] = ()) -> Paper:
    return Paper(
        id=pid, title=title, abstract="Abstract.", categories=cats, sources=frozenset(sources)
    )


@pytest.fixture(autouse=True)
async def feed(store: Store) -> None:
    """Every test here plans the digest of one ten-day-old feed, in channel CHANNEL."""
    await make_feed(store, CHANNEL, sources="hf, arxiv:cs.CL", created=NOW - timedelta(days=10))


async def plan(store: Store, now: datetime = NOW):
    result = await store.run(plan_digest, CHANNEL, now, cap=25)
    assert result is not None
    return result


async def test_first_run_takes_the_last_24_hours_from_the_feeds_sources(store: Store) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await subscribe(store, CHANNEL, "agents", user=42)
    await store.run(
        papers_repo.upsert_papers,
        [paper("2611.00001", "Old diffusion", {"hf"})],
        NOW - timedelta(hours=30),
    )
    await store.run(
        papers_repo.upsert_papers,
        [
            paper("2611.00002", "Diffusion agents", {"hf"}),
            paper("2611.00003", "Diffusion in vision", {"arxiv"}, ("cs.CV",)),  # not a feed source
            paper("2611.00004", "Diffusion for text", {"arxiv"}, ("cs.CL",)),
            paper("2611.00005", "Optics", {"hf"}),
        ],
        NOW - timedelta(hours=2),
    )
    result = await plan(store)
    assert result.window_start == NOW - timedelta(hours=24)
    assert result.listed == 3
    assert [e.paper.id for e in result.digest.entries] == ["2611.00002", "2611.00004"]
    assert result.digest.entries[0].mention_user_ids == (42,)
    assert result.reason is None


async def test_window_starts_at_last_completed_run_but_never_beyond_three_days(
    store: Store,
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    done = await store.run(
        feeds_repo.start_run, channel_id=CHANNEL, window_start=NOW, now=NOW - timedelta(hours=5)
    )
    await store.run(
        feeds_repo.finish_run, done.id, now=NOW, listed=0, matched=0, posted=0, reason=None
    )
    # a crashed run (never finished) does not move the window
    await store.run(feeds_repo.start_run, channel_id=CHANNEL, window_start=NOW, now=NOW)
    assert (await plan(store)).window_start == NOW - timedelta(hours=5)
    assert (await plan(store, NOW + timedelta(days=9))).window_start == NOW + timedelta(days=6)


def _delivered(db: sqlite_utils.Database, paper_id: str, at: datetime) -> None:
    db.execute(
        "INSERT INTO deliveries (destination, paper_id, state, nonce, created_at, updated_at)"
        " VALUES (?, ?, 'sent', ?, ?, ?)",
        [f"channel:{CHANNEL}", paper_id, f"n{paper_id}", at.isoformat(), at.isoformat()],
    )


async def test_already_delivered_papers_are_not_planned_again(store: Store) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await store.run(
        papers_repo.upsert_papers, [paper("2611.00002", "Diffusion", {"hf"})], NOW - timedelta(1)
    )
    await store.run(_delivered, "2611.00002", NOW - timedelta(hours=2))
    result = await plan(store)
    assert result.digest.entries == ()
    assert result.reason == "all 1 matching papers were already posted here"


async def test_an_old_paper_listed_again_is_not_posted_again(store: Store) -> None:
    """Planning reads only the deliveries made in the window, and looks up the papers first
    seen before it: one posted months ago and listed again today stays posted."""
    await subscribe(store, CHANNEL, "diffusion")
    # announced on arXiv in January and posted then; Hugging Face features it today
    announced = paper("2601.00001", "Diffusion, the classic", {"arxiv"}, ("cs.CL",))
    await store.run(papers_repo.upsert_papers, [announced], NOW - timedelta(days=300))
    await store.run(_delivered, announced.id, NOW - timedelta(days=299))
    featured = paper("2601.00001", "Diffusion, the classic", {"hf"})
    await store.run(papers_repo.upsert_papers, [featured], NOW - timedelta(hours=1))
    await store.run(papers_repo.upsert_papers, [paper("2611.00003", "Diffusion", {"hf"})], NOW)
    listed = await store.run(papers_repo.papers_listed_between, NOW - timedelta(days=1), NOW)
    assert announced.id in {p.id for p in listed}  # in today's window again
    result = await plan(store)
    assert [e.paper.id for e in result.digest.entries] == ["2611.00003"]


async def test_reasons_for_an_empty_digest(store: Store) -> None:
    assert (await plan(store)).reason.startswith("this channel has no subscriptions")
    await subscribe(store, CHANNEL, "diffusion")
    assert (await plan(store)).reason == (
        "no new papers from this feed's sources since the last digest"
    )
    await store.run(source_status.record_failure, "hf", NOW - timedelta(minutes=50), "timeout")
    await store.run(source_status.record_failure, "hf", NOW - timedelta(minutes=10), "timeout")
    # 08:10 UTC is 09:10 in Berlin: the feed's own timezone
    assert (await plan(store)).reason == "Hugging Face unreachable since 09:10"
    await store.run(source_status.record_success, "hf", NOW, 3)
    await store.run(
        papers_repo.upsert_papers,
        [paper(f"2611.0010{i}", "Optics", {"hf"}) for i in range(3)],
        NOW - timedelta(hours=1),
    )
    assert (await plan(store)).reason == "0 of 3 listed papers matched"


async def test_no_feed_no_plan(store: Store) -> None:
    assert await store.run(plan_digest, 999, NOW, cap=25) is None


async def test_a_paper_hugging_face_lists_after_arxiv_reaches_a_feed_taking_only_hf(
    store: Store,
) -> None:
    # arXiv announces most papers a day or more before Hugging Face lists them. A feed taking
    # `hf` (and not the paper's arXiv category) must get it on the day Hugging Face lists it.
    await store.run(feeds_repo.update_feed, CHANNEL, sources="hf")
    await subscribe(store, CHANNEL, "diffusion")
    arxiv_copy = paper("2611.00007", "Diffusion policies", {"arxiv"}, ("cs.LG",))
    await store.run(papers_repo.upsert_papers, [arxiv_copy], NOW - timedelta(hours=20))
    yesterday = await plan(store, NOW - timedelta(hours=12))
    assert yesterday.digest.entries == ()
    done = await store.run(
        feeds_repo.start_run,
        channel_id=CHANNEL,
        window_start=yesterday.window_start,
        now=NOW - timedelta(hours=12),
    )
    await store.run(
        feeds_repo.finish_run,
        done.id,
        now=NOW - timedelta(hours=12),
        listed=0,
        matched=0,
        posted=0,
        reason=None,
    )
    hf_copy = paper("2611.00007", "Diffusion policies", {"hf"})
    await store.run(papers_repo.upsert_papers, [hf_copy], NOW - timedelta(hours=1))
    today = await plan(store)
    assert [e.paper.id for e in today.digest.entries] == ["2611.00007"]


async def test_a_paper_looked_up_with_slash_paper_is_not_news_for_digests(store: Store) -> None:
    # /paper can fetch any paper, years old; storing it must not put it in the next digest.
    document = json.loads(
        (Path(__file__).parent.parent / "fixtures" / "sources" / "hf_paper.json").read_text()
    )
    await subscribe(store, CHANNEL, "context")

    async def serve(request: web.Request) -> web.Response:
        return web.json_response(document)

    app = web.Application()
    app.router.add_get("/api/papers/{id}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            hf = HuggingFaceSource(RetryingClient(session), f"http://127.0.0.1:{port}/api")
            found = await lookup_paper(store, hf, "2608.09888", NOW - timedelta(hours=1))
    finally:
        await runner.cleanup()
    assert found is not None and found.id == "2608.09888"
    assert (await plan(store)).digest.entries == ()
    # ...until a source lists it: then it is news like any other paper.
    listed = paper("2608.09888", "In-Context Learning", {"hf"})
    await store.run(papers_repo.upsert_papers, [listed], NOW - timedelta(minutes=5))
    assert [e.paper.id for e in (await plan(store)).digest.entries] == ["2608.09888"]


async def test_arxiv_only_feed_on_a_saturday_says_there_was_no_announcement(
    store: Store,
) -> None:
    await store.run(feeds_repo.update_feed, CHANNEL, sources="arxiv")
    await subscribe(store, CHANNEL, "diffusion")
    saturday = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert (await plan(store, saturday)).reason == "no arXiv announcement on Saturdays"
    assert (await plan(store, NOW)).reason.startswith("no new papers")  # a Thursday


async def test_a_weekly_feeds_window_reaches_back_eight_days_a_daily_one_three(
    store: Store,
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    for pid, age in (("2611.00001", 9), ("2611.00002", 6), ("2611.00003", 1)):
        await store.run(
            papers_repo.upsert_papers,
            [paper(pid, f"Diffusion {age} days ago", {"hf"})],
            NOW - timedelta(days=age),
        )
    ten_days_ago = NOW - timedelta(days=10)  # the last digest, long ago
    done = await store.run(
        feeds_repo.start_run, channel_id=CHANNEL, window_start=ten_days_ago, now=ten_days_ago
    )
    await store.run(
        feeds_repo.finish_run, done.id, now=ten_days_ago, listed=0, matched=0, posted=0,
        reason=None,
    )  # fmt: skip
    daily = await plan(store)
    assert [e.paper.id for e in daily.digest.entries] == ["2611.00003"]
    await store.run(feeds_repo.update_feed, CHANNEL, days="weekly:thu")
    weekly = await plan(store)
    assert weekly.window_start == NOW - timedelta(days=8)
    assert sorted(e.paper.id for e in weekly.digest.entries) == ["2611.00002", "2611.00003"]


async def test_a_new_weekly_feeds_first_digest_covers_the_last_week(store: Store) -> None:
    await store.run(feeds_repo.update_feed, CHANNEL, days="weekly:mon")
    await subscribe(store, CHANNEL, "diffusion")
    await store.run(
        papers_repo.upsert_papers, [paper("2611.00002", "Diffusion", {"hf"})], NOW - timedelta(5)
    )
    first = await plan(store)
    assert first.window_start == NOW - timedelta(days=7)
    assert [e.paper.id for e in first.digest.entries] == ["2611.00002"]


async def test_a_weekly_digest_is_capped_with_the_rest_counted(store: Store) -> None:
    await store.run(feeds_repo.update_feed, CHANNEL, days="weekly:thu")
    await subscribe(store, CHANNEL, "diffusion")
    for day in range(7):
        await store.run(
            papers_repo.upsert_papers,
            [paper(f"2611.{day:03d}{n:02d}", f"Diffusion {day} {n}", {"hf"}) for n in range(5)],
            NOW - timedelta(days=day, hours=1),
        )
    capped = await store.run(plan_digest, CHANNEL, NOW, cap=10)
    assert len(capped.digest.entries) == 10 and capped.digest.overflow == 25
