"""Folded full-text tokens and foreign keys between feeds and what hangs off them (0010-0011)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

from bot.store.migrations import schema as _earlier  # noqa: F401  (registered before these)
from bot.store.migrations.registry import MIGRATIONS
from bot.store.papers import fts_values, row_to_paper


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
