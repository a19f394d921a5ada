"""Personal and channel subscriptions: add (refusing duplicates and going past a limit the caller
sets), list, remove. Refusals are typed; the words people read are `bot/subscribing.py`'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

import sqlite_utils

from bot.store.rows import iso, rows


class SubscriptionRefused(ValueError):
    """A subscription that can't be added; the subclass says why."""


class DuplicateSubscription(SubscriptionRefused):
    """The same query (by normal form) is already subscribed there."""

    def __init__(self, normal: str) -> None:
        super().__init__(f"duplicate subscription: {normal}")
        self.normal = normal


class SubscriptionLimitReached(SubscriptionRefused):
    """There are already `limit` subscriptions there."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"subscription limit reached: {limit}")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class PersonalSubscription:
    """A member's own subscription; matches go to `channel_id`'s digest, or by DM when `dm`."""

    id: int
    guild_id: int
    user_id: int
    channel_id: int | None
    query: str
    normal: str
    dm: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class ChannelSubscription:
    """A subscription a moderator set for a whole channel."""

    id: int
    guild_id: int
    channel_id: int
    query: str
    normal: str
    added_by: int
    created_at: str


def _personal(row: dict[str, Any]) -> PersonalSubscription:
    return PersonalSubscription(**{**row, "dm": bool(row["dm"])})


def add_personal(
    db: sqlite_utils.Database,
    *,
    guild_id: int,
    user_id: int,
    channel_id: int | None,
    query: str,
    normal: str,
    dm: bool,
    now: datetime,
    limit: int | None = None,
) -> PersonalSubscription:
    """Store a personal subscription, refusing duplicates and more than `limit` in the
    server (no limit when None)."""
    existing = list_personal(db, guild_id=guild_id, user_id=user_id)
    if any(s.normal == normal for s in existing):
        raise DuplicateSubscription(normal)
    if limit is not None and len(existing) >= limit:
        raise SubscriptionLimitReached(limit)
    cursor = db.execute(
        "INSERT INTO personal_subscriptions "
        "(guild_id, user_id, channel_id, query, normal, dm, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [guild_id, user_id, None if dm else channel_id, query, normal, int(dm), iso(now)],
    )
    return get_personal(db, int(cursor.lastrowid or 0))  # type: ignore[return-value]


def get_personal(db: sqlite_utils.Database, sub_id: int) -> PersonalSubscription | None:
    """One personal subscription by id."""
    found = rows(db, "SELECT * FROM personal_subscriptions WHERE id = ?", [sub_id])
    return _personal(found[0]) if found else None


def list_personal(
    db: sqlite_utils.Database, *, guild_id: int, user_id: int
) -> list[PersonalSubscription]:
    """A member's subscriptions in one server, oldest first."""
    found = rows(
        db,
        "SELECT * FROM personal_subscriptions WHERE guild_id = ? AND user_id = ? ORDER BY id",
        [guild_id, user_id],
    )
    return [_personal(r) for r in found]


def personal_for_channel(db: sqlite_utils.Database, channel_id: int) -> list[PersonalSubscription]:
    """Personal subscriptions whose matches go into this channel's digest."""
    found = rows(
        db,
        "SELECT * FROM personal_subscriptions WHERE channel_id = ? AND dm = 0 ORDER BY id",
        [channel_id],
    )
    return [_personal(r) for r in found]


def dm_subscriptions(db: sqlite_utils.Database) -> list[PersonalSubscription]:
    """Every personal subscription delivered by DM."""
    found = rows(db, "SELECT * FROM personal_subscriptions WHERE dm = 1 ORDER BY user_id, id")
    return [_personal(r) for r in found]


def dm_user_ids(db: sqlite_utils.Database) -> list[int]:
    """The members with at least one subscription delivered by DM, ascending."""
    found = db.execute("SELECT DISTINCT user_id FROM personal_subscriptions WHERE dm = 1")
    return sorted(int(r[0]) for r in found.fetchall())


def dm_subscriptions_of_users(
    db: sqlite_utils.Database, user_ids: Sequence[int]
) -> list[PersonalSubscription]:
    """The `dm:true` subscriptions of these members (one query, not one per member)."""
    wanted = set(user_ids)
    return [s for s in dm_subscriptions(db) if s.user_id in wanted]


def dm_subscriptions_of(db: sqlite_utils.Database, user_id: int) -> list[PersonalSubscription]:
    """One user's subscriptions delivered by DM, from every server, oldest first."""
    found = rows(
        db,
        "SELECT * FROM personal_subscriptions WHERE user_id = ? AND dm = 1 ORDER BY id",
        [user_id],
    )
    return [_personal(r) for r in found]


def remove_personal(db: sqlite_utils.Database, *, sub_id: int, user_id: int) -> bool:
    """Delete one of the member's own subscriptions; False if it isn't theirs or doesn't exist."""
    cursor = db.execute(
        "DELETE FROM personal_subscriptions WHERE id = ? AND user_id = ?", [sub_id, user_id]
    )
    return cursor.rowcount > 0


def add_channel(
    db: sqlite_utils.Database,
    *,
    guild_id: int,
    channel_id: int,
    query: str,
    normal: str,
    added_by: int,
    now: datetime,
    limit: int | None = None,
) -> ChannelSubscription:
    """Store a channel subscription, refusing duplicates and more than `limit` in the
    channel (no limit when None)."""
    existing = list_channel(db, channel_id)
    if any(s.normal == normal for s in existing):
        raise DuplicateSubscription(normal)
    if limit is not None and len(existing) >= limit:
        raise SubscriptionLimitReached(limit)
    cursor = db.execute(
        "INSERT INTO channel_subscriptions"
        " (guild_id, channel_id, query, normal, added_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [guild_id, channel_id, query, normal, added_by, iso(now)],
    )
    found = rows(db, "SELECT * FROM channel_subscriptions WHERE id = ?", [cursor.lastrowid])
    return ChannelSubscription(**found[0])


def list_channel(db: sqlite_utils.Database, channel_id: int) -> list[ChannelSubscription]:
    """A channel's subscriptions, oldest first."""
    found = rows(
        db, "SELECT * FROM channel_subscriptions WHERE channel_id = ? ORDER BY id", [channel_id]
    )
    return [ChannelSubscription(**r) for r in found]


def remove_channel(db: sqlite_utils.Database, *, sub_id: int, channel_id: int) -> bool:
    """Delete one of this channel's subscriptions; False if it isn't this channel's."""
    cursor = db.execute(
        "DELETE FROM channel_subscriptions WHERE id = ? AND channel_id = ?", [sub_id, channel_id]
    )
    return cursor.rowcount > 0


class FeedSubscription(NamedTuple):
    """A subscription that feeds a channel's digest: the channel's own, or a member's there.
    A tuple made straight from the row: a cold start reads 100,000 of them."""

    channel_id: int
    kind: Literal["channel", "personal"]
    subscription_id: int
    user_id: int | None
    query: str
    normal: str


def feed_subscriptions(
    db: sqlite_utils.Database, channel_id: int | None = None
) -> list[FeedSubscription]:
    """Every subscription feeding a channel digest (or one channel's): per channel, its own
    subscriptions then the personal ones made in it (not `dm:true`), oldest first."""
    # two spellings rather than `? IS NULL OR channel_id = ?`, which would not use the index
    one = "channel_id = :channel" if channel_id is not None else "channel_id IS NOT NULL"
    cursor = db.execute(
        "SELECT channel_id, 'channel' AS kind, id, NULL, query, normal FROM channel_subscriptions"
        f" WHERE {one}"
        " UNION ALL"
        " SELECT channel_id, 'personal', id, user_id, query, normal FROM personal_subscriptions"
        f" WHERE {one} AND dm = 0"
        # 'channel' sorts before 'personal': the channel's own subscriptions come first
        " ORDER BY channel_id, kind, id",
        {"channel": channel_id},
    )
    return list(map(FeedSubscription._make, cursor))
