"""The first schema: papers and their index, feeds and subscriptions, runs, the delivery
ledger and digest posts (0001-0009)."""

from __future__ import annotations

import sqlite_utils

from bot.store.migrations.registry import MIGRATIONS


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
