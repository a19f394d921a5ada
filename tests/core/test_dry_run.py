"""Dry runs: how many recent papers a new subscription would have matched, with examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.discord.embeds import subscribed_text
from bot.dry_run import DryRun, dry_run
from bot.models import Paper
from bot.query import parse
from bot.store import Store
from bot.store.papers import upsert_papers

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.now(NOW)


def paper(n: int, title: str, *, days_ago: float, upvotes: int | None = None) -> Paper:
    seen = NOW - timedelta(days=days_ago)
    return Paper(
        id=f"2603.{n:05d}",
        title=title,
        abstract=f"An abstract about {title.lower()}.",
        published=seen,
        upvotes=upvotes,
        sources=frozenset({"hf"}),
        first_seen=seen,
    )


@pytest.fixture(autouse=True)
async def stored(store: Store) -> None:
    """Six papers of the last nine days; four of the last seven match "diffusion"."""
    papers = [
        paper(1, "Diffusion transformers at scale", days_ago=1, upvotes=5),
        paper(2, "Masked diffusion language models", days_ago=2, upvotes=40),
        paper(3, "Diffusion for protein design", days_ago=6),
        paper(4, "Diffusion policies for robots", days_ago=3, upvotes=12),
        paper(5, "Old diffusion survey", days_ago=9, upvotes=99),  # outside the 7 days
        paper(6, "Sparse attention kernels", days_ago=1, upvotes=80),  # doesn't match
    ]
    await store.run(upsert_papers, papers, NOW)


async def test_counts_matches_of_the_last_seven_days_with_the_best_three_examples(
    store: Store,
) -> None:
    result = await store.run(dry_run, parse("diffusion"), NOW)
    assert result.matched == 4  # the 9-day-old survey and the attention paper are not counted
    assert result.considered == 5
    assert [p.id for p in result.examples] == ["2603.00002", "2603.00004", "2603.00001"]
    assert result.describe() == "4 papers of the last 7 days would have matched."


async def test_nothing_matched_is_reported_as_zero(store: Store) -> None:
    result = await store.run(dry_run, parse("quantum chromodynamics"), NOW)
    assert result == DryRun(days=7, considered=5, matched=0, examples=())
    assert result.describe().startswith("0 papers")


async def test_one_match_reads_in_the_singular(store: Store) -> None:
    result = await store.run(dry_run, parse('"protein design"'), NOW)
    assert result.matched == 1
    assert result.describe() == "1 paper of the last 7 days would have matched."


async def test_an_old_paper_someone_looked_up_today_is_not_of_the_last_seven_days(
    store: Store,
) -> None:
    # /paper stores a looked-up paper (no source) when it is asked for; it may be years old.
    classic = Paper(
        id="1706.03762",
        title="Attention is all you need: diffusion edition",
        abstract="An old paper.",
        published=NOW - timedelta(days=3000),
        upvotes=1000,
    )
    await store.run(upsert_papers, [classic], NOW - timedelta(hours=1))
    result = await store.run(dry_run, parse("diffusion"), NOW)
    assert result.matched == 4
    assert "1706.03762" not in [p.id for p in result.examples]


# How the /subscribe reply words a dry run (bot/discord/embeds.py)


def test_no_matches_come_with_one_line_saying_it_is_fine_and_how_to_widen() -> None:
    run = DryRun(days=7, considered=5, matched=0, examples=())
    lines = subscribed_text("quantum chromodynamics", run, "daily by DM", None).splitlines()
    assert lines[1:] == [
        "0 papers of the last 7 days would have matched.",
        "That's fine for a new topic — matches are delivered as they appear. To widen it, use "
        "fewer words, `OR` between alternatives, or a prefix such as `quantiz*`.",
    ]


def test_with_nothing_stored_yet_the_reply_says_so_instead_of_suggesting_a_wider_query() -> None:
    run = DryRun(days=7, considered=0, matched=0, examples=())
    lines = subscribed_text("diffusion", run, "daily by DM", None).splitlines()
    assert lines[1:] == [
        "0 papers of the last 7 days would have matched.",
        "No papers from those days are stored yet, so there was nothing to try it on.",
    ]


def test_matches_get_examples_and_no_hint() -> None:
    example = paper(1, "Diffusion transformers at scale", days_ago=1)
    run = DryRun(days=7, considered=5, matched=1, examples=(example,))
    text = subscribed_text("diffusion", run, "daily by DM", None)
    assert "1 paper of the last 7 days would have matched. For example:" in text
    assert "widen" not in text and "stored yet" not in text
