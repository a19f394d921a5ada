"""Later features: command syncs, upvote history, DM schedules, change counters, the
contentless index, like: vocabulary, reading lists and mutes, recent deliveries (0014-0023)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

from bot.store.migrations import integrity as _earlier  # noqa: F401  (registered before these)
from bot.store.migrations.registry import MIGRATIONS
from bot.store.papers import FTS_INSERT, index_values, row_to_paper


@MIGRATIONS(name="0014_command_syncs")
def command_syncs(db: sqlite_utils.Database) -> None:
    """What was last published as slash commands, per application and target (all servers, or
    the dev server), as a hash of the payload: a start syncs only when the command tree changed.
    """
    db.execute(
        """
        CREATE TABLE command_syncs (
            application_id INTEGER NOT NULL,
            guild_id INTEGER NOT NULL,      -- 0: the global commands; else the dev server's
            tree_hash TEXT NOT NULL,        -- sha256 of the canonical JSON payload
            synced_at TEXT NOT NULL,
            PRIMARY KEY (application_id, guild_id)
        )
        """
    )


@MIGRATIONS(name="0017_upvote_history")
def upvote_history(db: sqlite_utils.Database) -> None:
    """Hugging Face upvote counts as polls saw them, one row per change (for /trending).

    A paper's first row is what Paperboy first saw; its gain is `papers.upvotes` minus that.
    Papers stored before this migration start their history at their current count.
    """
    db.execute(
        """
        CREATE TABLE upvote_history (
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            seen_at TEXT NOT NULL,                    -- ISO-8601 UTC, the poll that saw it
            upvotes INTEGER NOT NULL,
            PRIMARY KEY (paper_id, seen_at)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        "INSERT INTO upvote_history (paper_id, seen_at, upvotes)"
        " SELECT id, updated_at, upvotes FROM papers WHERE upvotes IS NOT NULL"
    )


@MIGRATIONS(name="0018_dm_schedules")
def dm_schedules(db: sqlite_utils.Database) -> None:
    """A member's own DM digest time (/dm schedule) and pause (/dm pause).

    Members without a row get the default schedule. Weekly feeds need no column: their
    `feeds.days` reads `weekly:<day>` (see bot/feed_settings.py).
    """
    db.execute(
        """
        CREATE TABLE dm_schedules (
            user_id INTEGER PRIMARY KEY,
            schedule_time TEXT NOT NULL,              -- HH:MM in `timezone`
            timezone TEXT NOT NULL,                   -- IANA name
            days TEXT NOT NULL DEFAULT 'daily',       -- daily | weekdays
            paused INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        )
        """
    )


@MIGRATIONS(name="0019_change_counts")
def change_counts(db: sqlite_utils.Database) -> None:
    """Counters bumped by triggers on every write to papers and subscriptions (see
    `bot/store/change_counts.py`). A later migration that rebuilds one of these tables must
    create its triggers again."""
    db.execute("CREATE TABLE change_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    watched = {
        "papers": ("papers",),
        "subscriptions": ("channel_subscriptions", "personal_subscriptions"),
    }
    for name, tables in watched.items():
        db.execute("INSERT INTO change_counts (name, n) VALUES (?, 0)", [name])
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                db.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_counted AFTER {event} ON {table}"
                    f" BEGIN UPDATE change_counts SET n = n + 1 WHERE name = '{name}'; END"
                )


@MIGRATIONS(name="0020_fts_contentless")
def fts_contentless(db: sqlite_utils.Database) -> None:
    """Rebuild `papers_fts` as a contentless index (`content=''`) with a `categories` column.

    The old table kept a second copy of every title and abstract (1.7x the database); search
    reads text from `papers` and makes snippets in Python, so the index needs only its tokens.
    `categories` lets `cat:` queries use the index instead of scanning every paper. Diacritics
    are kept (the text is already folded as the matcher folds it), so a plain word's full-text
    match is exactly the matcher's match and counts need no re-check.
    """
    db.execute("DROP TABLE IF EXISTS papers_fts")
    db.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5("
        "title, abstract, authors, keywords, categories, content = '',"
        " tokenize = 'unicode61 remove_diacritics 0')"
    )
    cursor = db.conn.execute("SELECT rowid AS rowid_, * FROM papers ORDER BY rowid")
    names = [d[0] for d in cursor.description]

    def values() -> Iterator[tuple[object, ...]]:
        for row in cursor:
            data = dict(zip(names, row, strict=True))
            yield (data["rowid_"], *index_values(row_to_paper(data)))

    db.conn.executemany(FTS_INSERT, values())


@MIGRATIONS(name="0021_papers_fts_vocab")
def papers_fts_vocab(db: sqlite_utils.Database) -> None:
    """The full-text index's vocabulary as a table: how many papers hold each term, which the
    `like:` similarity uses as document frequencies (SQLite keeps it in step with every write).
    """
    db.execute("CREATE VIRTUAL TABLE papers_fts_vocab USING fts5vocab(papers_fts, row)")


@MIGRATIONS(name="0022_reading_lists_and_mutes")
def reading_lists_and_mutes(db: sqlite_utils.Database) -> None:
    """Members' saved papers (Save, /saved) and muted papers (Not for me).

    A saved paper keeps its own copy of what /saved and the exports show, and no foreign key:
    it outlives the paper's row and any feed. A mute needs the paper's text to find similar
    papers, so it goes with the paper (ON DELETE CASCADE). Mutes change what the feeds' shared
    match holds, so their writes are counted too (`change_counts`, 'mutes').
    """
    db.execute(
        """
        CREATE TABLE saved_papers (
            user_id INTEGER NOT NULL,
            paper_id TEXT NOT NULL,
            title TEXT NOT NULL,
            authors TEXT NOT NULL DEFAULT '[]',       -- JSON list of names
            categories TEXT NOT NULL DEFAULT '[]',    -- JSON list, primary first
            published TEXT,                           -- ISO-8601 UTC
            saved_at TEXT NOT NULL,
            PRIMARY KEY (user_id, paper_id)
        )
        """
    )
    db.execute("CREATE INDEX saved_papers_newest ON saved_papers(user_id, saved_at)")
    db.execute(
        """
        CREATE TABLE muted_papers (
            user_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,              -- 0: the member's DM digests
            paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
            muted_at TEXT NOT NULL,
            PRIMARY KEY (user_id, channel_id, paper_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("INSERT INTO change_counts (name, n) VALUES ('mutes', 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER muted_papers_{event.lower()}_counted AFTER {event} ON muted_papers"
            " BEGIN UPDATE change_counts SET n = n + 1 WHERE name = 'mutes'; END"
        )


@MIGRATIONS(name="0023_deliveries_by_time")
def deliveries_by_time(db: sqlite_utils.Database) -> None:
    """Each destination's deliveries by time: planning reads a feed's recent deliveries, not
    its whole history (a year of digests is ~9,000 rows a feed, read for every plan)."""
    db.execute("CREATE INDEX deliveries_recent ON deliveries(destination, created_at)")
