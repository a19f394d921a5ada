"""Members' reading lists (saved papers) and mutes ("Not for me" with no subscription to change).

Both belong to one member: every function takes the member's id and touches only their rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.models import Paper
from bot.store.rows import iso, parse_time, rows

DM_CHANNEL = 0  # mutes made from a DM digest apply to the member's DM digests


@dataclass(frozen=True, slots=True)
class SavedPaper:
    """A paper on a reading list, as it was when saved (it outlives the paper's own row)."""

    paper_id: str
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published: datetime | None
    saved_at: datetime

    @property
    def abs_url(self) -> str:
        """The arXiv abstract page."""
        return f"https://arxiv.org/abs/{self.paper_id}"


def _saved(row: dict[str, object]) -> SavedPaper:
    return SavedPaper(
        paper_id=str(row["paper_id"]),
        title=str(row["title"]),
        authors=tuple(json.loads(str(row["authors"]))),
        categories=tuple(json.loads(str(row["categories"]))),
        published=parse_time(row["published"]),  # type: ignore[arg-type]
        saved_at=parse_time(str(row["saved_at"])),  # type: ignore[arg-type]
    )


def save_paper(db: sqlite_utils.Database, user_id: int, paper: Paper, now: datetime) -> bool:
    """Put the paper on the member's reading list; False if it was there already."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO saved_papers"
        " (user_id, paper_id, title, authors, categories, published, saved_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            user_id,
            paper.id,
            paper.title,
            json.dumps(list(paper.authors)),
            json.dumps(list(paper.categories)),
            iso(paper.published),
            iso(now),
        ],
    )
    return cursor.rowcount > 0


def unsave_paper(db: sqlite_utils.Database, user_id: int, paper_id: str) -> bool:
    """Take the paper off the member's reading list; False if it wasn't on it."""
    cursor = db.execute(
        "DELETE FROM saved_papers WHERE user_id = ? AND paper_id = ?", [user_id, paper_id]
    )
    return cursor.rowcount > 0


def saved_page(
    db: sqlite_utils.Database, user_id: int, *, offset: int, limit: int
) -> tuple[list[SavedPaper], int]:
    """One page of the member's reading list, newest first, and how many papers it holds."""
    found = rows(
        db,
        "SELECT * FROM saved_papers WHERE user_id = ?"
        " ORDER BY saved_at DESC, paper_id DESC LIMIT ? OFFSET ?",
        [user_id, limit, offset],
    )
    total = db.execute("SELECT count(*) FROM saved_papers WHERE user_id = ?", [user_id])
    return [_saved(r) for r in found], int(total.fetchone()[0])


def all_saved(db: sqlite_utils.Database, user_id: int) -> list[SavedPaper]:
    """The member's whole reading list, newest first (for exports)."""
    found = rows(
        db,
        "SELECT * FROM saved_papers WHERE user_id = ? ORDER BY saved_at DESC, paper_id DESC",
        [user_id],
    )
    return [_saved(r) for r in found]


def mute_paper(
    db: sqlite_utils.Database, user_id: int, channel_id: int, paper_id: str, now: datetime
) -> bool:
    """Mute papers like this one for the member in the channel; False if already muted."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO muted_papers (user_id, channel_id, paper_id, muted_at)"
        " VALUES (?, ?, ?, ?)",
        [user_id, channel_id, paper_id, iso(now)],
    )
    return cursor.rowcount > 0


def unmute_paper(db: sqlite_utils.Database, user_id: int, channel_id: int, paper_id: str) -> bool:
    """Lift one mute; False if there was none."""
    cursor = db.execute(
        "DELETE FROM muted_papers WHERE user_id = ? AND channel_id = ? AND paper_id = ?",
        [user_id, channel_id, paper_id],
    )
    return cursor.rowcount > 0


def mutes_in(db: sqlite_utils.Database, channel_id: int) -> dict[int, set[str]]:
    """Member -> the papers they muted in this channel (DM_CHANNEL: in DM digests)."""
    out: dict[int, set[str]] = {}
    for user_id, paper_id in db.execute(
        "SELECT user_id, paper_id FROM muted_papers WHERE channel_id = ?", [channel_id]
    ).fetchall():
        out.setdefault(int(user_id), set()).add(str(paper_id))
    return out


def mutes_by_channel(
    db: sqlite_utils.Database, channel_ids: Iterable[int]
) -> dict[int, dict[int, set[str]]]:
    """Channel -> member -> the papers they muted there, for these channels."""
    wanted = set(channel_ids)
    out: dict[int, dict[int, set[str]]] = {}
    for user_id, channel_id, paper_id in db.execute(
        "SELECT user_id, channel_id, paper_id FROM muted_papers WHERE channel_id != ?",
        [DM_CHANNEL],
    ).fetchall():
        if int(channel_id) in wanted:
            out.setdefault(int(channel_id), {}).setdefault(int(user_id), set()).add(str(paper_id))
    return out


def dm_mutes_of(db: sqlite_utils.Database, user_ids: Iterable[int]) -> dict[int, set[str]]:
    """Member -> the papers they muted in their DM digests, for these members."""
    wanted = set(user_ids)
    return {u: ids for u, ids in mutes_in(db, DM_CHANNEL).items() if u in wanted}


def set_personal_query(
    db: sqlite_utils.Database, *, sub_id: int, user_id: int, query: str, normal: str
) -> bool:
    """Rewrite one of the member's own subscriptions; False if it isn't theirs, is gone, or
    would duplicate another of theirs in that server."""
    try:
        cursor = db.execute(
            "UPDATE personal_subscriptions SET query = ?, normal = ? WHERE id = ? AND user_id = ?",
            [query, normal, sub_id, user_id],
        )
    except sqlite3.IntegrityError:  # UNIQUE (guild_id, user_id, normal)
        return False
    return cursor.rowcount > 0
