"""The store against real SQLite files: migrations, merges, FTS, subscriptions, feeds."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from bot.models import Paper
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from bot.store.deliveries import PendingMessage, PostMode
from bot.store.migrations import MIGRATIONS

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.now(NOW)

HF_COPY = Paper(
    id="2611.01234",
    title="Masked Diffusion Language Models",
    abstract="We study masked diffusion.",
    authors=("Ada Lovelace", "Alan Turing"),
    hf_date=date(2026, 11, 25),
    upvotes=42,
    ai_summary="Masked diffusion rivals autoregression.",
    ai_keywords=("masked diffusion", "language modeling"),
    code_url="https://github.com/example/mdlm",
    thumbnail="https://cdn.example/2611.01234.png",
    sources=frozenset({"hf"}),
)
ARXIV_COPY = Paper(
    id="2611.01234",
    title="Masked Diffusion Language Models",
    abstract="We study masked diffusion. A longer abstract from arXiv with every sentence kept.",
    authors=("Ada Lovelace", "Alan Turing"),
    categories=("cs.CL", "cs.LG"),
    published=datetime(2026, 11, 24, tzinfo=UTC),
    sources=frozenset({"arxiv"}),
)


async def test_empty_file_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = await Store.open(path)
    await store.close()
    db = sqlite_utils.Database(path)
    applied = [m.name for m in MIGRATIONS.applied(db)]
    # every registered migration, in order: all of them are pending on an empty database
    assert applied == [m.name for m in MIGRATIONS.pending(sqlite_utils.Database(memory=True))]
    assert MIGRATIONS.pending(db) == []
    assert {
        "papers",
        "papers_fts",
        "feeds",
        "personal_subscriptions",
        "channel_subscriptions",
        "feed_runs",
        "deliveries",
        "source_status",
        "dm_status",
    } <= set(db.table_names())
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # opening again applies nothing new and keeps the data
    store = await Store.open(path)
    await store.close()
    assert len(MIGRATIONS.applied(sqlite_utils.Database(path))) == len(applied)


async def test_all_work_runs_on_one_thread(store: Store) -> None:
    names = {await store.run(lambda db: threading.current_thread().name) for _ in range(5)}
    assert len(names) == 1 and names.pop().startswith("paperboy-db")
    assert threading.current_thread().name not in names


async def test_hf_and_arxiv_copies_merge_into_one_row(store: Store) -> None:
    first = await store.run(papers_repo.upsert_papers, [HF_COPY], NOW)
    later = NOW + timedelta(hours=5)
    second = await store.run(papers_repo.upsert_papers, [ARXIV_COPY], later)
    assert first.new == ("2611.01234",) and second.updated == ("2611.01234",)
    paper = await store.run(papers_repo.get_paper, "2611.01234")
    assert paper is not None
    assert paper.sources == {"hf", "arxiv"}
    assert paper.categories == ("cs.CL", "cs.LG")
    assert paper.upvotes == 42 and paper.ai_summary and paper.code_url and paper.thumbnail
    assert paper.abstract == ARXIV_COPY.abstract  # the fuller text wins
    assert paper.first_seen == NOW  # first seen never moves
    assert await store.run(papers_repo.count_papers) == 1


async def test_same_batch_duplicates_merge(store: Store) -> None:
    result = await store.run(papers_repo.upsert_papers, [HF_COPY, ARXIV_COPY], NOW)
    assert result.new == ("2611.01234",)
    paper = await store.run(papers_repo.get_paper, "2611.01234")
    assert paper is not None and paper.sources == {"hf", "arxiv"}


async def test_unchanged_upsert_reports_nothing(store: Store) -> None:
    await store.run(papers_repo.upsert_papers, [HF_COPY], NOW)
    again = await store.run(papers_repo.upsert_papers, [HF_COPY], NOW + timedelta(days=1))
    assert again.new == () and again.updated == ()


async def test_fts_index_follows_every_write(store: Store, tmp_path: Path) -> None:
    def fts(db: sqlite_utils.Database, term: str) -> list[str]:
        sql = (
            "SELECT papers.id FROM papers_fts JOIN papers ON papers.rowid = papers_fts.rowid"
            " WHERE papers_fts MATCH ?"
        )
        return [r[0] for r in db.execute(sql, [term]).fetchall()]

    await store.run(papers_repo.upsert_papers, [HF_COPY], NOW)
    assert await store.run(fts, "turing") == ["2611.01234"]
    assert await store.run(fts, "autoregression") == []  # ai_summary is not indexed
    assert await store.run(fts, "keywords:modeling") == ["2611.01234"]
    assert await store.run(fts, "sentence") == []
    await store.run(papers_repo.upsert_papers, [ARXIV_COPY], NOW)
    assert await store.run(fts, "sentence") == ["2611.01234"]
    count = await store.run(lambda db: db.execute("SELECT count(*) FROM papers_fts").fetchone()[0])
    assert count == 1


async def test_papers_listed_window(store: Store) -> None:
    old = Paper(id="2611.00001", title="Old", abstract="x", sources=frozenset({"hf"}))
    await store.run(papers_repo.upsert_papers, [old], NOW - timedelta(days=2))
    await store.run(papers_repo.upsert_papers, [HF_COPY], NOW)
    window = await store.run(
        papers_repo.papers_listed_between, NOW - timedelta(days=1), NOW + timedelta(seconds=1)
    )
    assert [p.id for p in window] == ["2611.01234"]


def _feed_for_channel_10(db: sqlite_utils.Database) -> None:
    # subscriptions belong to their channel's feed (a foreign key)
    feeds_repo.ensure_feed(
        db, channel_id=10, guild_id=1, schedule_time="09:00", timezone="UTC", sources="hf",
        created_by=5, now=NOW,
    )  # fmt: skip


async def test_personal_subscription_limits_and_duplicates(store: Store) -> None:
    await store.run(_feed_for_channel_10)

    def add(
        db: sqlite_utils.Database, normal: str, user: int = 7
    ) -> subs_repo.PersonalSubscription:
        return subs_repo.add_personal(
            db,
            guild_id=1,
            user_id=user,
            channel_id=10,
            query=normal,
            normal=normal,
            dm=False,
            now=NOW,
            limit=25,
        )

    for i in range(25):
        await store.run(add, f"topic{i}")
    with pytest.raises(subs_repo.DuplicateSubscription):
        await store.run(add, "topic0")
    with pytest.raises(subs_repo.SubscriptionLimitReached) as refused:
        await store.run(add, "one more")
    assert refused.value.limit == 25
    other = await store.run(add, "topic0", 8)  # another member may have the same query
    assert other.user_id == 8
    assert not await store.run(subs_repo.remove_personal, sub_id=other.id, user_id=7)
    assert await store.run(subs_repo.remove_personal, sub_id=other.id, user_id=8)
    assert len(await store.run(subs_repo.personal_for_channel, 10)) == 25


async def test_dm_subscription_has_no_channel(store: Store) -> None:
    sub = await store.run(
        subs_repo.add_personal,
        guild_id=1,
        user_id=7,
        channel_id=10,
        query="llm",
        normal="llm",
        dm=True,
        now=NOW,
    )
    assert sub.dm and sub.channel_id is None
    assert await store.run(subs_repo.personal_for_channel, 10) == []
    assert [s.id for s in await store.run(subs_repo.dm_subscriptions)] == [sub.id]


async def test_channel_subscription_limits(store: Store) -> None:
    await store.run(_feed_for_channel_10)

    def add(db: sqlite_utils.Database, normal: str) -> subs_repo.ChannelSubscription:
        return subs_repo.add_channel(
            db, guild_id=1, channel_id=10, query=normal, normal=normal, added_by=5, now=NOW,
            limit=50,
        )  # fmt: skip

    for i in range(50):
        await store.run(add, f"t{i}")
    with pytest.raises(subs_repo.DuplicateSubscription):
        await store.run(add, "t3")
    with pytest.raises(subs_repo.SubscriptionLimitReached) as refused:
        await store.run(add, "more")
    assert refused.value.limit == 50


async def test_failed_work_rolls_back(store: Store) -> None:
    def half_then_fail(db: sqlite_utils.Database) -> None:
        papers_repo.upsert_papers(db, [HF_COPY], NOW)
        raise sqlite3.OperationalError("boom")

    with pytest.raises(sqlite3.OperationalError):
        await store.run(half_then_fail)
    assert await store.run(papers_repo.count_papers) == 0


async def test_feed_lifecycle_and_guild_removal(store: Store) -> None:
    feed, created = await store.run(
        feeds_repo.ensure_feed,
        channel_id=10,
        guild_id=1,
        schedule_time="09:00",
        timezone="UTC",
        sources="hf",
        created_by=5,
        now=NOW,
    )
    assert created and feed.active
    _, created_again = await store.run(
        feeds_repo.ensure_feed,
        channel_id=10,
        guild_id=1,
        schedule_time="10:00",
        timezone="UTC",
        sources="hf",
        created_by=6,
        now=NOW,
    )
    assert not created_again
    paused = await store.run(feeds_repo.update_feed, 10, paused=True, pause_reason="by alice")
    assert paused is not None and paused.paused and not paused.active
    with pytest.raises(ValueError):
        await store.run(feeds_repo.update_feed, 10, bogus=1)
    await store.run(
        subs_repo.add_channel,
        guild_id=1,
        channel_id=10,
        query="llm",
        normal="llm",
        added_by=5,
        now=NOW,
    )
    run = await store.run(feeds_repo.start_run, channel_id=10, window_start=NOW, now=NOW)
    await store.run(
        feeds_repo.finish_run,
        run.id,
        now=NOW,
        listed=41,
        matched=0,
        posted=0,
        reason="0 of 41 listed papers matched",
    )
    last = await store.run(feeds_repo.last_run, 10, finished=True)
    assert last is not None and last.reason == "0 of 41 listed papers matched"
    await store.run(feeds_repo.delete_guild, 1)
    assert await store.run(feeds_repo.get_feed, 10) is None
    assert await store.run(subs_repo.list_channel, 10) == []


async def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "closed.db")
    await store.close()
    with pytest.raises(RuntimeError, match="the store is closed"):
        await store.run(papers_repo.count_papers)


def test_merging_a_copy_with_nothing_new_returns_the_stored_paper_itself() -> None:
    # the re-ingest fast path: no copy is made, and anything new still merges in
    stored = replace(HF_COPY, first_seen=NOW)
    assert stored.merged_with(HF_COPY) is stored
    assert stored.merged_with(replace(HF_COPY, upvotes=43)).upvotes == 43
    assert stored.merged_with(ARXIV_COPY).sources == {"hf", "arxiv"}
    earlier = stored.merged_with(replace(HF_COPY, first_seen=NOW - timedelta(days=1)))
    assert earlier.first_seen == NOW - timedelta(days=1)


async def test_a_digest_records_each_paper_once_and_its_message_on_a_row_it_made(
    store: Store,
) -> None:
    """A digest's rows are written a message at a time; a paper already in the ledger keeps its
    row, and the message then rides on the first row this digest made."""
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def record(db: sqlite_utils.Database, messages: list[PendingMessage]) -> None:
        ledger.create_digest(
            db, destination="dm:42", run_id=None, digest_date="2026-11-26", mode=PostMode.DM,
            header="{}", messages=messages, now=now,
        )  # fmt: skip

    await store.run(record, [PendingMessage(("2611.00002",), "old", "first digest")])
    await store.run(
        record,
        [
            PendingMessage(("2611.00001", "2611.00002", "2611.00003"), "a", "message a"),
            PendingMessage(("2611.00002", "2611.00004"), "b", "message b"),
            PendingMessage(("2611.00002",), "c", "message c"),  # nothing new: no row at all
        ],
    )
    rows = await store.read(
        lambda db: db.execute(
            "SELECT paper_id, nonce, payload FROM deliveries ORDER BY id"
        ).fetchall()
    )
    assert rows == [
        ("2611.00002", "old", "first digest"),  # untouched
        ("2611.00001", "a", "message a"),
        ("2611.00003", "a", None),
        ("2611.00004", "b", "message b"),  # its first paper was in the ledger already
    ]
