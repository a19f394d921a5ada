"""Schema hardening against real SQLite files: feeds own their subscriptions and runs (foreign
keys that cascade, orphans cleaned by the migration) and the FTS index is rebuilt folded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from bot.models import Paper
from bot.query import parse
from bot.search import search_papers
from bot.store import Store
from bot.store.migrations import MIGRATIONS
from bot.store.papers import paper_to_row

NOW = datetime(2026, 11, 26, tzinfo=UTC)
WHEN = NOW.isoformat()


def _feed(db: sqlite_utils.Database, channel_id: int) -> None:
    db.execute(
        "INSERT INTO feeds (channel_id, guild_id, schedule_time, timezone, created_at)"
        " VALUES (?, 1, '09:00', 'UTC', ?)",
        [channel_id, WHEN],
    )


def _children(db: sqlite_utils.Database, channel_id: int | None, user_id: int) -> None:
    """A personal subscription; with a channel, also a channel subscription and a run there."""
    if channel_id is not None:
        db.execute(
            "INSERT INTO channel_subscriptions (guild_id, channel_id, query, normal, added_by,"
            " created_at) VALUES (1, ?, 'q', 'q', 1, ?)",
            [channel_id, WHEN],
        )
    db.execute(
        "INSERT INTO personal_subscriptions (guild_id, user_id, channel_id, query, normal, dm,"
        " created_at) VALUES (1, ?, ?, 'q', 'q', ?, ?)",
        [user_id, channel_id, int(channel_id is None), WHEN],
    )
    if channel_id is not None:
        db.execute(
            "INSERT INTO feed_runs (channel_id, started_at, window_start) VALUES (?, ?, ?)",
            [channel_id, WHEN, WHEN],
        )


def _count(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_migration_drops_orphans_and_keeps_everything_else(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="0011_feed_foreign_keys")
    _feed(db, 10)
    _children(db, 10, user_id=1)  # a live feed's rows
    _children(db, 20, user_id=2)  # feed 20 was deleted, its rows were left behind
    _children(db, None, user_id=3)  # a DM subscription belongs to no feed
    MIGRATIONS.apply(db)
    assert db.execute("SELECT channel_id FROM channel_subscriptions").fetchall() == [(10,)]
    assert db.execute("SELECT user_id FROM personal_subscriptions ORDER BY user_id").fetchall() == [
        (1,),
        (3,),
    ]
    assert db.execute("SELECT channel_id FROM feed_runs").fetchall() == [(10,)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r[1] for r in db.execute("PRAGMA index_list(feed_runs)")] == ["feed_runs_channel"]


async def test_deleting_a_feed_deletes_its_subscriptions_and_runs(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "p.db", clock=lambda: NOW)
    try:

        def seed(db: sqlite_utils.Database) -> None:
            _feed(db, 10)
            _feed(db, 11)
            _children(db, 10, user_id=1)
            _children(db, 11, user_id=2)
            _children(db, None, user_id=3)
            db.execute("DELETE FROM feeds WHERE channel_id = 10")

        await store.run(seed)

        def left(db: sqlite_utils.Database) -> tuple[int, int, int]:
            return (
                _count(db, "channel_subscriptions"),
                _count(db, "personal_subscriptions"),
                _count(db, "feed_runs"),
            )

        assert await store.run(left) == (1, 2, 1)  # feed 11's rows and the DM subscription
    finally:
        await store.close()


def test_the_fts_rebuild_indexes_papers_stored_before_it_folded(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="0010_fts_holds_folded_tokens")
    paper = Paper("2401.00001", "A history of İstanbul", "Roads of the Straße.", authors=("Ada",))
    db.execute(
        "INSERT INTO papers (id, title, abstract, authors, categories, ai_keywords, sources,"
        " first_seen, updated_at) VALUES (:id, :title, :abstract, :authors, :categories,"
        " :ai_keywords, :sources, :first_seen, :updated_at)",
        {k: v for k, v in paper_to_row(paper, NOW).items() if k not in _UNUSED},
    )
    # what the old writer indexed: raw text, which unicode61 splits and folds its own way
    db.execute(
        "INSERT INTO papers_fts (rowid, title, abstract, authors, keywords)"
        " SELECT rowid, title, abstract, 'Ada', '' FROM papers"
    )
    query = parse("istanbul strasse")
    assert search_papers(db, query).hits == ()
    MIGRATIONS.apply(db)
    assert [h.paper.id for h in search_papers(db, query).hits] == ["2401.00001"]
    assert _count(db, "papers_fts") == 1


_UNUSED = {
    "published",
    "hf_date",
    "code_url",
    "project_url",
    "upvotes",
    "ai_summary",
    "thumbnail",
}


def test_the_contentless_rebuild_indexes_papers_stored_before_it(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="0020_fts_contentless")
    paper = Paper(
        "2401.00001", "A history of İstanbul", "Roads.", authors=("Ada",), categories=("cs.RO",)
    )
    upsert_papers_before_contentless(db, paper)
    MIGRATIONS.apply(db)
    create = db.execute("SELECT sql FROM sqlite_master WHERE name = 'papers_fts'").fetchone()[0]
    assert "content = ''" in create  # no second copy of the text
    for text in ["istanbul", "cat:cs.RO", "author:ada"]:
        assert [h.paper.id for h in search_papers(db, parse(text)).hits] == ["2401.00001"], text


def upsert_papers_before_contentless(db: sqlite_utils.Database, paper: Paper) -> None:
    """What the writer stored before the index was contentless: the row, and its text."""
    db.execute(
        "INSERT INTO papers (id, title, abstract, authors, categories, ai_keywords, sources,"
        " first_seen, updated_at) VALUES (:id, :title, :abstract, :authors, :categories,"
        " :ai_keywords, :sources, :first_seen, :updated_at)",
        {k: v for k, v in paper_to_row(paper, NOW).items() if k not in _UNUSED},
    )
    db.execute(
        "INSERT INTO papers_fts (rowid, title, abstract, authors, keywords)"
        " SELECT rowid, title, abstract, 'ada', '' FROM papers"
    )
