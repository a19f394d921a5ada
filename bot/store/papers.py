"""Paper rows: merge-on-upsert, lookups, and the full-text index kept in step with every write.

Every function takes the `sqlite_utils.Database` first and runs on the store's thread
(`await store.run(upsert_papers, papers, now)`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlite_utils

from bot.models import Paper
from bot.query.text import PART_RE, TOKEN_RE, compound_key, index_text, joined_key
from bot.store.rows import iso, rows
from bot.text import fold


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Which of the written papers were new and which merged into an existing row."""

    new: tuple[str, ...]
    updated: tuple[str, ...]


def paper_to_row(paper: Paper, now: datetime) -> dict[str, Any]:
    """The `papers` row for a paper."""
    return {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": json.dumps(list(paper.authors)),
        "categories": json.dumps(list(paper.categories)),
        "published": iso(paper.published),
        "hf_date": iso(paper.hf_date),
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "upvotes": paper.upvotes,
        "ai_summary": paper.ai_summary,
        "ai_keywords": json.dumps(list(paper.ai_keywords)),
        "thumbnail": paper.thumbnail,
        "sources": json.dumps(sorted(paper.sources)),
        "first_seen": iso(paper.first_seen or now),
        "updated_at": iso(now),
    }


def row_to_paper(row: dict[str, Any]) -> Paper:
    """The paper stored in a `papers` row."""
    return Paper(
        id=row["id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(json.loads(row["authors"])),  # nearly always unique: not cached
        categories=_json_list(row["categories"]),
        published=datetime.fromisoformat(row["published"]) if row["published"] else None,
        hf_date=date.fromisoformat(row["hf_date"]) if row["hf_date"] else None,
        code_url=row["code_url"],
        project_url=row["project_url"],
        upvotes=row["upvotes"],
        ai_summary=row["ai_summary"],
        ai_keywords=_json_list(row["ai_keywords"]),
        thumbnail=row["thumbnail"],
        sources=frozenset(_json_list(row["sources"])),
        first_seen=datetime.fromisoformat(row["first_seen"]),
    )


@lru_cache(maxsize=4_096)
def _json_list(text: str) -> tuple[str, ...]:
    # categories, sources and empty lists repeat across papers: parse each spelling once
    return tuple(json.loads(text))


def fts_values(paper: Paper) -> tuple[str, str, str, str]:
    """The paper's `papers_fts` columns (title, abstract, authors, keywords), as the matcher
    tokenises them (see `bot.query.text.index_text`)."""
    return (
        index_text((paper.title,)),
        index_text((paper.abstract,)),
        index_text(paper.authors),
        index_text(paper.ai_keywords),
    )


def category_text(paper: Paper) -> str:
    """The `papers_fts.categories` column: the categories' folded parts, then each compound
    category's match key as one token (`cs cl csǂcl`), so `cat:cs.CL` is one exact term."""
    tokens = TOKEN_RE.findall(fold(" , ".join(paper.categories)))
    parts = [p for t in tokens for p in PART_RE.findall(t)]
    joined = [joined_key(compound_key(t)) for t in tokens if not t.isalnum()]
    return " ".join(parts + joined)


def index_values(paper: Paper) -> tuple[str, str, str, str, str]:
    """Every `papers_fts` column (migration fts_contentless): `fts_values`, `category_text`."""
    return (*fts_values(paper), category_text(paper))


# The full-text table is contentless (migration fts_contentless): a row is removed by repeating
# the values it was indexed with, recomputed from the stored paper (the same pure function).
FTS_INSERT = (
    "INSERT INTO papers_fts (rowid, title, abstract, authors, keywords, categories)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
FTS_DELETE = (
    "INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors, keywords, categories)"
    " VALUES ('delete', ?, ?, ?, ?, ?, ?)"
)


def get_papers(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, Paper]:
    """The stored papers among `ids`, keyed by id."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Paper] = {}
    for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in rows(db, f"SELECT * FROM papers WHERE id IN ({marks})", chunk):
            found[row["id"]] = row_to_paper(row)
    return found


def get_paper(db: sqlite_utils.Database, paper_id: str) -> Paper | None:
    """One stored paper, or None."""
    return get_papers(db, [paper_id]).get(paper_id)


def upsert_papers(
    db: sqlite_utils.Database, papers: Iterable[Paper], now: datetime
) -> UpsertResult:
    """Insert new papers and merge the rest into their rows, keeping every known field.

    `first_seen` is set once, on first insert, and never moves. `listed_at`, what digests use to
    decide what is new, is set when a source lists the paper for the first time: a paper listed
    again by the same source on a later day is not new again, but one Hugging Face lists after
    arXiv announced it is new to a feed that takes only `hf` (the deliveries ledger keeps a feed
    that already had it from getting it twice).
    """
    incoming: dict[str, Paper] = {}
    for paper in papers:  # the same paper twice in one batch (HF + arXiv) merges first
        seen = incoming.get(paper.id)
        incoming[paper.id] = seen.merged_with(paper) if seen else paper
    existing = get_papers(db, incoming)
    new: list[str] = []
    updated: list[str] = []
    reindex: dict[str, tuple[Paper | None, Paper]] = {}  # id -> (what was indexed, what is now)
    writes: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # rows by the columns they set
    for paper_id, paper in incoming.items():
        old = existing.get(paper_id)
        if old is None:
            merged = paper if paper.first_seen else replace(paper, first_seen=now)
            newly_listed = bool(merged.sources)
            new.append(paper_id)
        else:
            merged = old.merged_with(paper)
            if merged.first_seen != old.first_seen:
                merged = replace(merged, first_seen=old.first_seen)
            if merged == old:
                continue  # a re-ingest of an unchanged paper writes nothing
            newly_listed = not merged.sources <= old.sources
            updated.append(paper_id)
        row = paper_to_row(merged, now)
        if newly_listed:  # a new row: listed when first seen; an old one: now
            row["listed_at"] = iso(merged.first_seen if old is None else now)
        writes.setdefault(tuple(row), []).append(row)
        reindex[paper_id] = (old, merged)
    for columns, batch in writes.items():
        marks = ", ".join(f":{c}" for c in columns)
        changes = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("id", "first_seen"))
        db.conn.executemany(
            f"INSERT INTO papers ({', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {changes}",
            batch,
        )
    _reindex(db, reindex)
    return UpsertResult(new=tuple(new), updated=tuple(updated))


def _reindex(db: sqlite_utils.Database, changed: dict[str, tuple[Paper | None, Paper]]) -> None:
    """Bring `papers_fts` in step with the written papers, touching only those whose indexed
    text changed (an upvote or a new source leaves the index alone)."""
    deletes: list[tuple[object, ...]] = []
    inserts: list[tuple[object, ...]] = []
    rowids = _rowids(db, changed)
    for paper_id, (old, merged) in changed.items():
        values = index_values(merged)
        before = index_values(old) if old is not None else None
        if values == before:
            continue
        if before is not None:
            deletes.append((rowids[paper_id], *before))
        inserts.append((rowids[paper_id], *values))
    db.conn.executemany(FTS_DELETE, deletes)
    db.conn.executemany(FTS_INSERT, inserts)


def _rowids(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, int]:
    wanted = list(ids)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(db.execute(f"SELECT id, rowid FROM papers WHERE id IN ({marks})", chunk))
    return found


def papers_listed_between(db: sqlite_utils.Database, start: datetime, end: datetime) -> list[Paper]:
    """Papers new to digests in [start, end): a source listed them for the first time then
    (`listed_at`, not `first_seen`: see `upsert_papers`). Papers no source has listed, stored by
    a /paper lookup, are never included."""
    found = rows(
        db,
        "SELECT * FROM papers WHERE listed_at >= ? AND listed_at < ? ORDER BY listed_at, id",
        [iso(start), iso(end)],
    )
    return [row_to_paper(r) for r in found]


def papers_listed_with_times(
    db: sqlite_utils.Database, start: datetime, end: datetime
) -> list[tuple[Paper, datetime]]:
    """`papers_listed_between`, each with its `listed_at` (to cut narrower windows from)."""
    found = rows(
        db,
        "SELECT * FROM papers WHERE listed_at >= ? AND listed_at < ? ORDER BY listed_at, id",
        [iso(start), iso(end)],
    )
    return [(row_to_paper(r), datetime.fromisoformat(r["listed_at"])) for r in found]


def count_papers(db: sqlite_utils.Database) -> int:
    """How many papers are stored."""
    return int(db.execute("SELECT count(*) FROM papers").fetchone()[0])


def papers_for_day(db: sqlite_utils.Database, day: date) -> list[Paper]:
    """Papers listed on `day`: on Hugging Face that day, or first seen or published that day."""
    found = rows(
        db,
        "SELECT * FROM papers WHERE hf_date = :d OR substr(first_seen, 1, 10) = :d"
        " OR substr(published, 1, 10) = :d ORDER BY id",
        {"d": day.isoformat()},
    )
    return [row_to_paper(r) for r in found]


def latest_day(db: sqlite_utils.Database) -> date | None:
    """The most recent day any stored paper was listed or first seen."""
    row = db.execute(
        "SELECT max(coalesce(hf_date, substr(first_seen, 1, 10))) FROM papers"
    ).fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def recent_papers(db: sqlite_utils.Database, since: datetime) -> list[Paper]:
    """Papers a source listed, or arXiv published, since then (what a dry run tries)."""
    found = rows(
        db,
        # listed_at, not first_seen: a paper stored by a /paper look-up today is not recent news
        "SELECT * FROM papers WHERE listed_at >= :since OR published >= :since",
        {"since": iso(since)},
    )
    return [row_to_paper(r) for r in found]
