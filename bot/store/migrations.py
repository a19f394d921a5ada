"""Versioned schema migrations, applied in order at start-up (sqlite-utils `Migrations`).

Never edit a migration that has shipped: add a new one below it.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.store.papers import FTS_INSERT, fts_values, index_values, row_to_paper

MIGRATIONS = Migrations("paperboy")


@MIGRATIONS(name="0001_papers")
def papers(db: sqlite_utils.Database) -> None:
    """Papers, keyed on the arXiv id without version, and their full-text index."""
    db.execute(
        """
        CREATE TABLE papers (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL,
            authors TEXT NOT NULL DEFAULT '[]',       -- JSON list of names
            categories TEXT NOT NULL DEFAULT '[]',    -- JSON list, primary first
            published TEXT,                           -- ISO-8601 UTC, first arXiv version
            hf_date TEXT,                             -- YYYY-MM-DD listed on HF Daily Papers
            code_url TEXT,
            project_url TEXT,
            upvotes INTEGER,
            ai_summary TEXT,
            ai_keywords TEXT NOT NULL DEFAULT '[]',   -- JSON list
            thumbnail TEXT,
            sources TEXT NOT NULL DEFAULT '[]',       -- JSON list: hf, arxiv
            first_seen TEXT NOT NULL,                 -- ISO-8601 UTC, set once
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX papers_first_seen ON papers(first_seen)")
    db.execute("CREATE INDEX papers_published ON papers(published)")
    # rowid-keyed (contentful) FTS table maintained by the paper writer in the same transaction
    db.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5("
        "title, abstract, authors, keywords, tokenize = 'unicode61 remove_diacritics 2')"
    )


@MIGRATIONS(name="0002_subscriptions_and_feeds")
def subscriptions_and_feeds(db: sqlite_utils.Database) -> None:
    """Personal and channel subscriptions, and channel feeds with their schedules."""
    db.execute(
        """
        CREATE TABLE feeds (
            channel_id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            schedule_time TEXT NOT NULL,              -- HH:MM in the feed's timezone
            timezone TEXT NOT NULL,                   -- IANA name
            days TEXT NOT NULL DEFAULT 'daily',       -- daily | weekdays
            sources TEXT NOT NULL DEFAULT 'hf, arxiv',
            paused INTEGER NOT NULL DEFAULT 0,
            pause_reason TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,      -- channel gone (404)
            created_by INTEGER,
            created_at TEXT NOT NULL,
            notes TEXT                                -- e.g. thread creation refused, fell back
        )
        """
    )
    db.execute("CREATE INDEX feeds_guild ON feeds(guild_id)")
    db.execute(
        """
        CREATE TABLE personal_subscriptions (
            id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            channel_id INTEGER,                       -- where matches are posted (NULL when dm)
            query TEXT NOT NULL,                      -- as typed
            normal TEXT NOT NULL,                     -- normal form: duplicates compare on it
            dm INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            UNIQUE (guild_id, user_id, normal)
        )
        """
    )
    db.execute("CREATE INDEX personal_subscriptions_channel ON personal_subscriptions(channel_id)")
    db.execute(
        """
        CREATE TABLE channel_subscriptions (
            id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            query TEXT NOT NULL,
            normal TEXT NOT NULL,
            added_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (channel_id, normal)
        )
        """
    )


@MIGRATIONS(name="0003_runs_and_deliveries")
def runs_and_deliveries(db: sqlite_utils.Database) -> None:
    """Feed runs, per-paper deliveries (the exactly-once ledger) and source health."""
    db.execute(
        """
        CREATE TABLE feed_runs (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL,
            scheduled_for TEXT,                       -- the schedule slot this run serves (UTC)
            started_at TEXT NOT NULL,
            finished_at TEXT,
            window_start TEXT NOT NULL,               -- papers first seen since then
            listed INTEGER NOT NULL DEFAULT 0,
            matched INTEGER NOT NULL DEFAULT 0,
            posted INTEGER NOT NULL DEFAULT 0,
            reason TEXT,                              -- why nothing was posted, if so
            state TEXT NOT NULL DEFAULT 'running'     -- running | done | failed
        )
        """
    )
    db.execute("CREATE INDEX feed_runs_channel ON feed_runs(channel_id, started_at)")
    db.execute(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            destination TEXT NOT NULL,                -- 'channel:<id>' or 'dm:<user id>'
            paper_id TEXT NOT NULL,
            run_id INTEGER,
            state TEXT NOT NULL DEFAULT 'pending',    -- pending | sent | failed
            nonce TEXT NOT NULL,
            message_id INTEGER,
            thread_id INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (destination, paper_id)
        )
        """
    )
    db.execute("CREATE INDEX deliveries_state ON deliveries(state)")
    db.execute(
        """
        CREATE TABLE source_status (
            source TEXT PRIMARY KEY,                  -- hf | arxiv
            last_ok_at TEXT,
            failing_since TEXT,
            last_error TEXT,
            last_count INTEGER
        )
        """
    )
    db.execute(
        """
        CREATE TABLE dm_status (
            user_id INTEGER PRIMARY KEY,
            closed_at TEXT,                           -- DMs refused (403) at this time
            told_user INTEGER NOT NULL DEFAULT 0
        )
        """
    )


@MIGRATIONS(name="0004_digest_posts")
def digest_posts(db: sqlite_utils.Database) -> None:
    """Digest headers/threads (so a half-finished digest resumes in its thread) and the exact
    message each delivery will send (so a retry after a crash re-sends the same message)."""
    db.execute(
        """
        CREATE TABLE digest_posts (
            id INTEGER PRIMARY KEY,
            destination TEXT NOT NULL,                -- 'channel:<id>' or 'dm:<user id>'
            run_id INTEGER,                           -- feed_runs.id (NULL for DM digests)
            digest_date TEXT NOT NULL,                -- YYYY-MM-DD in the feed's timezone
            mode TEXT NOT NULL,                       -- thread | plain | forum | dm
            header TEXT NOT NULL DEFAULT '{}',        -- JSON message spec of the header
            header_message_id INTEGER,
            thread_id INTEGER,
            state TEXT NOT NULL DEFAULT 'open',       -- open | done
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX digest_posts_open ON digest_posts(destination, state)")
    db.execute("ALTER TABLE deliveries ADD COLUMN digest_post_id INTEGER")
    db.execute("ALTER TABLE deliveries ADD COLUMN payload TEXT")  # JSON message spec


@MIGRATIONS(name="0006_dm_runs")
def dm_runs(db: sqlite_utils.Database) -> None:
    """Runs of a member's daily DM digest: where its paper window starts and whether it ended."""
    db.execute(
        """
        CREATE TABLE dm_runs (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            window_start TEXT NOT NULL,               -- papers first seen since then
            matched INTEGER NOT NULL DEFAULT 0,
            posted INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'running'     -- running | done
        )
        """
    )
    db.execute("CREATE INDEX dm_runs_user ON dm_runs(user_id, id)")


@MIGRATIONS(name="0007_papers_listed_at")
def papers_listed_at(db: sqlite_utils.Database) -> None:
    """When a source last started listing each paper: what digests use to decide what is new.

    `first_seen` never moves, but a paper arXiv announced days before Hugging Face lists it is
    new to a feed that takes only `hf` on the day Hugging Face lists it. NULL: no source has
    listed it (stored from a /paper lookup), so it is no digest's news.
    """
    db.execute("ALTER TABLE papers ADD COLUMN listed_at TEXT")
    db.execute("UPDATE papers SET listed_at = first_seen WHERE sources != '[]'")
    db.execute("CREATE INDEX papers_listed_at ON papers(listed_at)")


@MIGRATIONS(name="0008_failed_deliveries_resume_in_place")
def failed_deliveries_resume_in_place(db: sqlite_utils.Database) -> None:
    """Failed-but-retryable deliveries go back to pending in their own (reopened) digest.

    They used to be retried in a new digest (new header and thread), which posted a paper twice
    when the failed attempt had in fact reached Discord. Now a retry resumes in the original
    thread and first checks its history; rows given up (attempts >= 5) stay failed.
    """
    db.execute(
        "UPDATE deliveries SET state = 'pending'"
        " WHERE state = 'failed' AND attempts < 5 AND digest_post_id IS NOT NULL"
    )
    db.execute(
        "UPDATE digest_posts SET state = 'open' WHERE state = 'done' AND id IN"
        " (SELECT digest_post_id FROM deliveries WHERE state = 'pending')"
    )


@MIGRATIONS(name="0009_feeds_threads_refused")
def feeds_threads_refused(db: sqlite_utils.Database) -> None:
    """A real column for "Discord refused to start a thread here: post plain digests", and a
    count of tries at opening a digest (its header, thread or forum post).

    The flag used to be a sentence in `notes`, and the engine compared that sentence to decide
    how to post. Existing feeds with that note get the flag; the note is now rendered from it.
    """
    db.execute("ALTER TABLE digest_posts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    # A member's DM channel, kept so daily DMs don't open it again every day (Discord warns that
    # opening many DM channels gets a bot limited).
    db.execute("ALTER TABLE dm_status ADD COLUMN channel_id INTEGER")
    db.execute("ALTER TABLE feeds ADD COLUMN threads_refused INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "UPDATE feeds SET threads_refused = 1, notes = NULL"
        " WHERE notes LIKE 'Thread creation refused (403)%'"
    )


@MIGRATIONS(name="0010_fts_holds_folded_tokens")
def fts_holds_folded_tokens(db: sqlite_utils.Database) -> None:
    """Rebuild `papers_fts` from the folded tokens the matcher sees (NFKC + case folding).

    The index held raw text, which SQLite's tokenizer splits and folds its own way: `İstanbul`
    or a decomposed accent matched a subscription but not /search. From now on every write
    indexes `papers.fts_values` (the table's columns and tokenizer are unchanged); this
    re-indexes the papers stored before, in one pass over the table.
    """
    db.execute("DELETE FROM papers_fts")
    cursor = db.conn.execute("SELECT rowid AS rowid_, * FROM papers")
    names = [d[0] for d in cursor.description]

    def values() -> Iterator[tuple[object, ...]]:
        for row in cursor:
            data = dict(zip(names, row, strict=True))
            yield (data["rowid_"], *fts_values(row_to_paper(data)))

    db.conn.executemany(
        "INSERT INTO papers_fts (rowid, title, abstract, authors, keywords) VALUES (?, ?, ?, ?, ?)",
        values(),
    )


# child table -> the column that names its channel's feed
_FEED_CHILDREN = {
    "channel_subscriptions": "channel_id",
    "personal_subscriptions": "channel_id",  # NULL for DM subscriptions: no feed needed
    "feed_runs": "channel_id",
}


@MIGRATIONS(name="0011_feed_foreign_keys")
def feed_foreign_keys(db: sqlite_utils.Database) -> None:
    """Subscriptions and runs belong to their channel's feed: deleting the feed deletes them.

    Rows whose feed was already deleted are dropped first. SQLite cannot add a constraint to a
    table, so each table is rebuilt from its own CREATE statement plus the foreign key (columns
    added by later ALTERs come along) and its indexes are recreated.
    """
    for table, column in _FEED_CHILDREN.items():
        db.execute(
            f"DELETE FROM {table} WHERE {column} IS NOT NULL"
            f" AND {column} NOT IN (SELECT channel_id FROM feeds)"
        )
        create = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
        ).fetchone()[0]
        indexes = [
            row[0]
            for row in db.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                " AND sql IS NOT NULL",
                [table],
            ).fetchall()
        ]
        body = create[create.index("(") : create.rindex(")")]
        db.execute(
            f"CREATE TABLE {table}_new {body}\n,"
            f" FOREIGN KEY ({column}) REFERENCES feeds(channel_id) ON DELETE CASCADE)"
        )
        db.execute(f"INSERT INTO {table}_new SELECT * FROM {table}")
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
        for index in indexes:
            db.execute(index)


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
