"""The exactly-once ledger: digest posts (header, thread) and per-paper deliveries that move
pending → sent | failed. Rows are written before anything is posted, so a crash loses nothing
and a retry re-sends exactly the same message (same nonce), in the same digest (same thread).

Every send is counted in `attempts` *before* it is made (`begin_attempt`, its own committed
transaction), so a row with attempts > 0 that is still pending may have reached Discord — after a
crash, a lost answer or a failed `mark_sent` alike — and is looked for before being re-sent.
`failed` is final (given up, rejected, or the user can't be reached). Also here: the DM status of
members (closed DMs) that decides whether their DMs are tried.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlite_utils

from bot.destinations import DeliveryState, Destination, DigestState, PostMode
from bot.store.rows import iso, parse_time, rows

MAX_ATTEMPTS = 5
DM_CLOSED_RETRY = timedelta(days=7)  # closed DMs are tried again after a week, not every day


@dataclass(frozen=True, slots=True)
class Delivery:
    """One paper going to one destination."""

    id: int
    destination: str
    paper_id: str
    run_id: int | None
    state: DeliveryState
    nonce: str
    message_id: int | None
    thread_id: int | None
    attempts: int
    last_error: str | None
    digest_post_id: int | None
    payload: str | None  # JSON MessageSpec


@dataclass(frozen=True, slots=True)
class DigestPost:
    """One digest being (or having been) posted to a destination."""

    id: int
    destination: str
    run_id: int | None
    digest_date: str
    mode: PostMode
    header: str  # JSON MessageSpec
    header_message_id: int | None
    thread_id: int | None
    state: DigestState
    created_at: str
    attempts: int = 0  # tries at opening it (header, thread or forum post) that got no answer

    @property
    def target(self) -> Destination:
        """The destination this digest goes to."""
        return Destination.parse(self.destination)


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A message to create pending rows for: the papers it delivers, its nonce and payload."""

    paper_ids: tuple[str, ...]
    nonce: str
    payload: str


_DELIVERY_COLUMNS = (
    "id, destination, paper_id, run_id, state, nonce, message_id, thread_id, attempts,"
    " last_error, digest_post_id, payload"
)


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(**{**row, "state": DeliveryState(row["state"])})


def _post(row: dict[str, Any]) -> DigestPost:
    values = {k: v for k, v in row.items() if k != "updated_at"}
    return DigestPost(
        **{**values, "mode": PostMode(row["mode"]), "state": DigestState(row["state"])}
    )


def _key(destination: Destination | str) -> str:
    return destination.key if isinstance(destination, Destination) else destination


def create_digest(
    db: sqlite_utils.Database,
    *,
    destination: Destination | str,
    run_id: int | None,
    digest_date: str,
    mode: PostMode,
    header: str,
    messages: Sequence[PendingMessage],
    now: datetime,
) -> DigestPost:
    """Record a digest and a pending row per paper (papers already in the ledger are skipped)."""
    key, at = _key(destination), iso(now)
    post_id = db.execute(
        "INSERT INTO digest_posts (destination, run_id, digest_date, mode, header, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [key, run_id, digest_date, mode.value, header, at, at],
    ).lastrowid
    for message in messages:
        # One statement per message, not per paper: a thousand DM digests write ~25,000 rows.
        # The message is stored once, on its first row: a DM carries five papers, and five
        # copies of its embeds made recording a thousand members' digests take seconds.
        # (No RETURNING: SQLite before 3.35, as some distributions' Pythons link, lacks it.)
        ids = message.paper_ids
        if not ids:
            continue
        values = ", ".join(["(?, ?, ?, 'pending', ?, ?, ?, ?, ?)"] * len(ids))
        params: list[object] = []
        for n, paper_id in enumerate(ids):
            payload = None if n else message.payload
            params += [key, paper_id, run_id, message.nonce, payload, post_id, at, at]
        made = db.execute(
            "INSERT INTO deliveries (destination, paper_id, run_id, state, nonce, payload,"
            f" digest_post_id, created_at, updated_at) VALUES {values}"
            " ON CONFLICT(destination, paper_id) DO NOTHING",
            params,
        ).rowcount
        if 0 < made < len(ids):
            # some papers were in the ledger already: if the first was, the message goes on
            # the first row this digest made
            ours = {
                str(r[0])
                for r in db.execute(
                    "SELECT paper_id FROM deliveries WHERE destination = ?"
                    " AND paper_id IN (SELECT value FROM json_each(?)) AND digest_post_id = ?",
                    [key, json.dumps(list(ids)), post_id],
                ).fetchall()
            }
            if ids[0] not in ours:
                first = next(paper_id for paper_id in ids if paper_id in ours)
                db.execute(
                    "UPDATE deliveries SET payload = ? WHERE destination = ? AND paper_id = ?",
                    [message.payload, key, first],
                )
    return get_digest(db, post_id)


def get_digest(db: sqlite_utils.Database, post_id: int | None) -> DigestPost:
    """A digest post by id."""
    return _post(rows(db, "SELECT * FROM digest_posts WHERE id = ?", [post_id])[0])


def open_digests(db: sqlite_utils.Database, destination: Destination | str) -> list[DigestPost]:
    """Digests to this destination that were not finished (oldest first)."""
    found = rows(
        db,
        "SELECT * FROM digest_posts WHERE destination = ? AND state = 'open' ORDER BY id",
        [_key(destination)],
    )
    return [_post(r) for r in found]


def open_dm_digests(db: sqlite_utils.Database) -> list[DigestPost]:
    """Unfinished DM digests, for every user."""
    found = rows(
        db,
        "SELECT * FROM digest_posts WHERE destination LIKE 'dm:%' AND state = 'open' ORDER BY id",
    )
    return [_post(r) for r in found]


def count_open_attempt(db: sqlite_utils.Database, post_id: int, *, now: datetime) -> int:
    """Opening the digest got no answer: count it; how many tries there have been."""
    db.execute(
        "UPDATE digest_posts SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
        [iso(now), post_id],
    )
    return get_digest(db, post_id).attempts


def expire_open_digests(
    db: sqlite_utils.Database, destination: Destination | str, *, before: datetime, now: datetime
) -> int:
    """Close digests to the destination still open since before `before`, failing their pending
    rows: an old digest must never block the next one. How many were closed."""
    found = rows(
        db,
        "SELECT id FROM digest_posts WHERE destination = ? AND state = 'open' AND created_at < ?",
        [_key(destination), iso(before)],
    )
    for row in found:
        fail_digest(db, row["id"], error="expired: still undelivered after 3 days", now=now)
    return len(found)


def update_digest(
    db: sqlite_utils.Database, post_id: int, *, now: datetime, **changes: Any
) -> DigestPost:
    """Record the header (message and id), thread, mode or state of a digest post."""
    allowed = {"mode", "header", "header_message_id", "thread_id", "state"}
    if set(changes) - allowed:
        raise ValueError(f"unknown digest fields: {sorted(set(changes) - allowed)}")
    assignments = ", ".join(f"{name} = ?" for name in changes)
    values = [v.value if isinstance(v, StrEnum) else v for v in changes.values()]
    db.execute(
        f"UPDATE digest_posts SET {assignments}, updated_at = ? WHERE id = ?",
        [*values, iso(now), post_id],
    )
    return get_digest(db, post_id)


def pending_for_digest(db: sqlite_utils.Database, post_id: int) -> list[Delivery]:
    """The digest's deliveries still to post, in the order they were planned."""
    found = rows(
        db,
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE digest_post_id = ?"
        " AND state = 'pending' ORDER BY id",
        [post_id],
    )
    return [_delivery(r) for r in found]


def close_if_delivered(db: sqlite_utils.Database, post_id: int, *, now: datetime) -> bool:
    """Mark the digest done unless some of its rows are still pending; True if it is done."""
    db.execute(
        "UPDATE digest_posts SET state = 'done', updated_at = ? WHERE id = ? AND NOT EXISTS"
        " (SELECT 1 FROM deliveries WHERE digest_post_id = ? AND state = 'pending')",
        [iso(now), post_id, post_id],
    )
    return get_digest(db, post_id).state == "done"


def fail_digest(db: sqlite_utils.Database, post_id: int, *, error: str, now: datetime) -> None:
    """Discord will never take this digest (its header or thread was rejected): every pending
    row fails with the reason and the digest closes, so it never blocks the next one."""
    db.execute(
        "UPDATE deliveries SET state = 'failed', last_error = ?, updated_at = ?,"
        " attempts = max(attempts, 1) WHERE digest_post_id = ? AND state = 'pending'",
        [error[:500], iso(now), post_id],
    )
    db.execute(
        "UPDATE digest_posts SET state = 'done', updated_at = ? WHERE id = ?", [iso(now), post_id]
    )


def mark_sent(
    db: sqlite_utils.Database,
    ids: Sequence[int],
    *,
    message_id: int,
    thread_id: int | None,
    now: datetime,
) -> None:
    """These deliveries were posted as `message_id` (in `thread_id`, if any)."""
    for delivery_id in ids:
        db.execute(
            "UPDATE deliveries SET state = 'sent', message_id = ?, thread_id = ?,"
            " attempts = max(attempts, 1), last_error = NULL, updated_at = ? WHERE id = ?",
            [message_id, thread_id, iso(now), delivery_id],
        )


def begin_attempt(db: sqlite_utils.Database, ids: Sequence[int], *, now: datetime) -> None:
    """A send is about to be made: count it first, so that from now on a restart looks for the
    message before sending it again."""
    for delivery_id in ids:
        db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, updated_at = ?"
            " WHERE id = ? AND state = 'pending'",
            [iso(now), delivery_id],
        )


def record_unknown_outcome(
    db: sqlite_utils.Database, ids: Sequence[int], *, error: str, now: datetime
) -> None:
    """The attempt ended without an answer (it may have landed): the rows stay pending."""
    for delivery_id in ids:
        db.execute(
            "UPDATE deliveries SET last_error = ?, updated_at = ?"
            " WHERE id = ? AND state = 'pending'",
            [error[:500], iso(now), delivery_id],
        )


def mark_failed(
    db: sqlite_utils.Database,
    ids: Sequence[int],
    *,
    error: str,
    now: datetime,
    give_up: bool = False,
) -> None:
    """Posting failed for good (given up, rejected, or the user can't be reached): never retried.
    Attempts were counted when they began; a row never attempted counts as one."""
    for delivery_id in ids:
        db.execute(
            "UPDATE deliveries SET state = 'failed', last_error = ?, updated_at = ?,"
            " attempts = CASE WHEN ? THEN max(attempts, ?) ELSE max(attempts, 1) END"
            " WHERE id = ?",
            [error[:500], iso(now), give_up, MAX_ATTEMPTS, delivery_id],
        )


def deliveries_to(db: sqlite_utils.Database, destination: Destination | str) -> list[Delivery]:
    """Every delivery to a destination (any state), oldest first."""
    found = rows(
        db,
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE destination = ? ORDER BY id",
        [_key(destination)],
    )
    return [_delivery(r) for r in found]


def delivered_paper_ids(db: sqlite_utils.Database, destination: Destination | str) -> set[str]:
    """Papers that already have a delivery (in any state) to this destination."""
    found = rows(db, "SELECT paper_id FROM deliveries WHERE destination = ?", [_key(destination)])
    return {r["paper_id"] for r in found}


def delivered_among(
    db: sqlite_utils.Database,
    destination: Destination | str,
    since: datetime,
    seen_before: Collection[str],
) -> set[str]:
    """The papers already delivered (in any state) to this destination, among those made
    since `since` and those of `seen_before`.

    A caller asking about papers listed since `since` passes the ones first seen before it
    (an old paper listed again): a paper is delivered after it is first seen, so no older
    delivery can be of a newer paper. The cost follows the window, not the destination's
    history.
    """
    key = _key(destination)
    found = {
        str(r[0])
        for r in db.execute(
            "SELECT paper_id FROM deliveries WHERE destination = ? AND created_at >= ?",
            [key, iso(since)],
        ).fetchall()
    }
    if seen_before:
        found.update(
            str(r[0])
            for r in db.execute(
                "SELECT paper_id FROM deliveries WHERE destination = ?"
                " AND paper_id IN (SELECT value FROM json_each(?))",
                [key, json.dumps(list(seen_before))],
            ).fetchall()
        )
    return found


def days_forum_post(
    db: sqlite_utils.Database, destination: Destination | str, digest_date: str
) -> tuple[int, int | None] | None:
    """(thread id, starter message id) of the forum post already made there that day, if any."""
    found = rows(
        db,
        "SELECT thread_id, header_message_id FROM digest_posts WHERE destination = ?"
        " AND digest_date = ? AND mode = 'forum' AND thread_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
        [_key(destination), digest_date],
    )
    return (found[0]["thread_id"], found[0]["header_message_id"]) if found else None


def record_dm_closed(db: sqlite_utils.Database, user_id: int, now: datetime) -> None:
    """The user's DMs refused a message: remember it so the next command can tell them."""
    db.execute(
        "INSERT INTO dm_status (user_id, closed_at, told_user) VALUES (?, ?, 0)"
        " ON CONFLICT(user_id) DO UPDATE SET closed_at = excluded.closed_at,"
        " told_user = CASE WHEN dm_status.closed_at IS NULL THEN 0 ELSE dm_status.told_user END",
        [user_id, iso(now)],
    )


def record_dm_open(db: sqlite_utils.Database, user_id: int) -> None:
    """A DM to the user went through: their DMs are open (again)."""
    db.execute("UPDATE dm_status SET closed_at = NULL, told_user = 0 WHERE user_id = ?", [user_id])


def dm_closed_recently(db: sqlite_utils.Database, user_id: int, now: datetime) -> bool:
    """True if a DM to the member was refused less than `DM_CLOSED_RETRY` ago."""
    found = rows(db, "SELECT closed_at FROM dm_status WHERE user_id = ?", [user_id])
    closed = parse_time(found[0]["closed_at"]) if found else None
    return closed is not None and now - closed < DM_CLOSED_RETRY


def dm_notice_pending(db: sqlite_utils.Database, user_id: int) -> bool:
    """True if a DM to the user was refused and they haven't been told (reads only)."""
    found = rows(
        db,
        "SELECT 1 FROM dm_status WHERE user_id = ? AND closed_at IS NOT NULL AND told_user = 0",
        [user_id],
    )
    return bool(found)


def take_dm_notice(db: sqlite_utils.Database, user_id: int) -> bool:
    """True (once) if a DM to the user was refused and they haven't been told; marks them told."""
    cursor = db.execute(
        "UPDATE dm_status SET told_user = 1"
        " WHERE user_id = ? AND closed_at IS NOT NULL AND told_user = 0",
        [user_id],
    )
    return cursor.rowcount > 0


def dm_channel_of(db: sqlite_utils.Database, user_id: int) -> int | None:
    """The member's DM channel id, if the bot opened it before."""
    found = rows(db, "SELECT channel_id FROM dm_status WHERE user_id = ?", [user_id])
    return found[0]["channel_id"] if found else None


def remember_dm_channel(db: sqlite_utils.Database, user_id: int, channel_id: int) -> None:
    """Keep the member's DM channel id for the next DMs."""
    db.execute(
        "INSERT INTO dm_status (user_id, told_user, channel_id) VALUES (?, 0, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET channel_id = excluded.channel_id",
        [user_id, channel_id],
    )
