"""What similarity needs from the database: document frequencies (from the full-text index's
vocabulary, kept in step with every paper write by SQLite itself) and the stored papers that
share a paper's heaviest terms (full-text search narrows /search's `like:` candidates)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import sqlite_utils

from bot.models import Paper
from bot.store.papers import row_to_paper
from bot.store.rows import iso, rows

_CHUNK = 500  # terms per look-up: well inside SQLite's limit on bound parameters
# bm25 column weights for papers_fts(title, abstract, authors, keywords), as /search uses
_WEIGHTS = "10.0, 1.0, 2.0, 4.0"


def document_frequencies(
    db: sqlite_utils.Database, terms: Collection[str]
) -> tuple[Mapping[str, int], int]:
    """How many stored papers contain each term (absent: none), and how many papers there are."""
    wanted = sorted(terms)
    df: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for term, count in db.execute(
            f"SELECT term, doc FROM papers_fts_vocab WHERE term IN ({marks})", chunk
        ).fetchall():
            df[term] = int(count)
    # max(rowid) is one index step, count(*) a scan: deleted papers barely move an IDF
    total = db.execute("SELECT coalesce(max(rowid), 0) FROM papers").fetchone()[0]
    return df, int(total)


def terms_expression(terms: Collection[str]) -> str:
    """An FTS5 expression for papers holding any of `terms` in title, abstract or keywords."""
    quoted = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
    return "{title abstract keywords} : (" + quoted + ")" if terms else ""


def fts_candidates(
    db: sqlite_utils.Database,
    expression: str,
    *,
    limit: int,
    since: datetime | None = None,
) -> list[Paper]:
    """Up to `limit` stored papers matching the FTS5 `expression`, best first (an empty
    expression: the newest papers), only those published or listed since `since` if given."""
    window = "(papers.published >= :since OR papers.listed_at >= :since)" if since else ""
    params = {"fts": expression, "since": iso(since), "limit": limit}
    if expression:
        sql = (
            f"SELECT papers.*, bm25(papers_fts, {_WEIGHTS}) AS score FROM papers_fts"
            " JOIN papers ON papers.rowid = papers_fts.rowid"
            f" WHERE papers_fts MATCH :fts{' AND ' + window if window else ''}"
            " ORDER BY score LIMIT :limit"
        )
    else:
        sql = (
            f"SELECT papers.* FROM papers{' WHERE ' + window if window else ''}"
            " ORDER BY coalesce(papers.published, papers.first_seen) DESC LIMIT :limit"
        )
    return [row_to_paper(r) for r in rows(db, sql, params)]
