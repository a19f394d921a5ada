"""Adding and listing subscriptions the way the slash commands do, refusals as `UserError`s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlite_utils

from bot.dry_run import DryRun, dry_run
from bot.errors import UserError
from bot.feed_sources import DEFAULT_SOURCES
from bot.query import MAX_QUERY_LENGTH, Query, QueryError, parse
from bot.store import feeds as feeds_repo
from bot.store import subscriptions as subs_repo
from bot.store.feeds import Feed
from bot.store.subscriptions import (
    ChannelSubscription,
    DuplicateSubscription,
    PersonalSubscription,
    SubscriptionLimitReached,
)
from bot.text import neutralise_mentions, truncate

MAX_PERSONAL_PER_GUILD = 25  # a member's own subscriptions in one server
MAX_PER_CHANNEL = 50  # a channel's own subscriptions
NOT_YOURS = "That isn't one of your subscriptions here; pick one from the list."
NOT_YOUR_DM = "That isn't one of your DM subscriptions; pick one from the list."
NOT_THIS_CHANNELS = "That isn't one of this channel's subscriptions; pick one from the list."
_Sub = TypeVar("_Sub", PersonalSubscription, ChannelSubscription)

CANNOT_CREATE_FEED = (
    "You can't post in this channel, so I can't start its digest for you: "
    "ask a moderator to set one up (/feed subscribe), or use /subscribe with dm:true."
)


@dataclass(frozen=True, slots=True)
class FeedDefaults:
    """The settings a channel's feed is created with."""

    schedule_time: str
    timezone: str
    sources: str = DEFAULT_SOURCES


def ensure_channel_feed(
    db: sqlite_utils.Database,
    *,
    channel_id: int,
    guild_id: int,
    user_id: int,
    defaults: FeedDefaults,
    now: datetime,
) -> tuple[feeds_repo.Feed, bool]:
    """The channel's feed, created with `defaults` (and `user_id` as its owner) if missing."""
    return feeds_repo.ensure_feed(
        db,
        channel_id=channel_id,
        guild_id=guild_id,
        schedule_time=defaults.schedule_time,
        timezone=defaults.timezone,
        sources=defaults.sources,
        created_by=user_id,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A subscription just added and whether its channel's feed was created for it; its dry run
    is read afterwards on a read connection (`dry_run_of`), outside the write transaction."""

    normal: str
    subscription_id: int
    feed_created: bool
    query: Query
    at: datetime


def dry_run_of(db: sqlite_utils.Database, done: Subscribed) -> DryRun:
    """What the new subscription would have matched over the recent papers (read-only)."""
    return dry_run(db, done.query, done.at)


def parse_query(text: str) -> Query:
    """The query a user typed, or a `UserError` saying what to fix."""
    if len(text) > MAX_QUERY_LENGTH:
        raise UserError(
            f"That query is {len(text)} characters long; the limit is {MAX_QUERY_LENGTH}."
        )
    try:
        return parse(text)
    except QueryError as exc:
        reason = str(exc).rstrip(".")  # one sentence, ended once
        raise UserError(safe_text(f"That query doesn't work: {reason}.")) from exc


def safe_text(text: str, limit: int = 1800) -> str:
    """User-typed text made safe to echo: no mentions, one line, within a message."""
    return truncate(" ".join(neutralise_mentions(text).split()), limit)


def subscribe_personal(
    db: sqlite_utils.Database,
    *,
    guild_id: int,
    user_id: int,
    channel_id: int,
    query: Query,
    text: str,
    dm: bool,
    defaults: FeedDefaults,
    now: datetime,
    may_create_feed: bool = True,
) -> Subscribed:
    """Add a member's subscription (creating the channel's feed unless `dm`).

    A member who can't post in the channel can't start a feed there (`may_create_feed` False),
    but may still join a feed a moderator set up.
    """
    created = False
    if not dm:
        if not may_create_feed and feeds_repo.get_feed(db, channel_id) is None:
            raise UserError(CANNOT_CREATE_FEED)
        _, created = ensure_channel_feed(
            db,
            channel_id=channel_id,
            guild_id=guild_id,
            user_id=user_id,
            defaults=defaults,
            now=now,
        )
    try:
        sub = subs_repo.add_personal(
            db,
            guild_id=guild_id,
            user_id=user_id,
            channel_id=channel_id,
            query=text,
            normal=query.normal,
            dm=dm,
            now=now,
            limit=MAX_PERSONAL_PER_GUILD,
        )
    except DuplicateSubscription as exc:
        # Raising rolls back the transaction, so a feed created just now is not kept either.
        raise UserError(
            f"You already have a subscription to `{exc.normal}` in this server."
        ) from exc
    except SubscriptionLimitReached as exc:
        raise UserError(
            f"You have reached the limit of {exc.limit} subscriptions in this server; "
            "remove one with /unsubscribe first."
        ) from exc
    return Subscribed(query.normal, sub.id, created, query, now)


def subscribe_channel(
    db: sqlite_utils.Database,
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    query: Query,
    text: str,
    defaults: FeedDefaults,
    now: datetime,
) -> Subscribed:
    """Add a subscription for the whole channel (creating its feed if needed)."""
    _, created = ensure_channel_feed(
        db, channel_id=channel_id, guild_id=guild_id, user_id=user_id, defaults=defaults, now=now
    )
    try:
        sub = subs_repo.add_channel(
            db,
            guild_id=guild_id,
            channel_id=channel_id,
            query=text,
            normal=query.normal,
            added_by=user_id,
            now=now,
            limit=MAX_PER_CHANNEL,
        )
    except DuplicateSubscription as exc:
        raise UserError(f"This channel is already subscribed to `{exc.normal}`.") from exc
    except SubscriptionLimitReached as exc:
        raise UserError(
            f"This channel has reached the limit of {exc.limit} subscriptions; "
            "remove one with /feed unsubscribe first."
        ) from exc
    return Subscribed(query.normal, sub.id, created, query, now)


def parse_subscription_id(value: str) -> int | None:
    """The id an autocomplete choice carries, or None when the member typed text instead."""
    value = value.strip()
    return int(value) if value.isdigit() else None


def typed_normal(value: str) -> str:
    """The normal form of a subscription typed (not picked), e.g. `Diffusion` or a whole label
    such as `diffusion · #papers`, so a member who presses enter too early still gets it."""
    text = value.strip().rsplit(" · ", 1)[0] if " · " in value else value.strip()
    try:
        return parse(text).normal
    except QueryError:
        return text


def _pick(subs: Sequence[_Sub], value: str, refusal: str) -> _Sub:
    """The subscription among `subs` that `value` names: an id picked from autocomplete first,
    else the query typed (digits such as `2024` may be a query, not someone else's id)."""
    sub_id = parse_subscription_id(value)
    found = [s for s in subs if s.id == sub_id] if sub_id is not None else []
    if not found:
        normal = typed_normal(value)
        found = [s for s in subs if s.normal == normal]
    if not found:
        raise UserError(refusal)
    return found[0]


def unsubscribe_personal(
    db: sqlite_utils.Database, *, guild_id: int, user_id: int, value: str
) -> PersonalSubscription:
    """Remove one of the member's own subscriptions in this server; refuse anyone else's."""
    mine = subs_repo.list_personal(db, guild_id=guild_id, user_id=user_id)
    sub = _pick(mine, value, NOT_YOURS)
    subs_repo.remove_personal(db, sub_id=sub.id, user_id=user_id)
    return sub


def unsubscribe_dm(db: sqlite_utils.Database, *, user_id: int, value: str) -> PersonalSubscription:
    """Remove one of the user's DM subscriptions, from whichever server it was made in (the
    /unsubscribe of a DM with the bot, so leaving a server never leaves anyone stuck with it)."""
    mine = subs_repo.dm_subscriptions_of(db, user_id)
    sub = _pick(mine, value, NOT_YOUR_DM)
    if parse_subscription_id(value) != sub.id:  # typed, not picked: it must name just one
        servers = sum(1 for s in mine if s.normal == sub.normal)
        if servers > 1:
            raise UserError(
                f"You get `{safe_text(sub.normal, 200)}` by DM from {servers} servers; "
                "pick the one to remove from the list."
            )
    subs_repo.remove_personal(db, sub_id=sub.id, user_id=user_id)
    return sub


def unsubscribe_channel(
    db: sqlite_utils.Database, *, channel_id: int, value: str
) -> ChannelSubscription:
    """Remove one of this channel's subscriptions; refuse another channel's."""
    sub = _pick(subs_repo.list_channel(db, channel_id), value, NOT_THIS_CHANNELS)
    subs_repo.remove_channel(db, sub_id=sub.id, channel_id=channel_id)
    return sub


@dataclass(frozen=True, slots=True)
class SubscriptionOverview:
    """What /subscriptions shows: mine in this server, and this channel's feed."""

    mine: tuple[PersonalSubscription, ...]
    feed: Feed | None
    channel_subs: tuple[ChannelSubscription, ...]
    personal_here: int  # other members' subscriptions delivered in this channel's digest
    others_here: int  # how many other members those belong to


def overview(
    db: sqlite_utils.Database, *, guild_id: int, user_id: int, channel_id: int
) -> SubscriptionOverview:
    """Everything /subscriptions lists."""
    # The member's own subscriptions are listed above; count only everyone else's here.
    others = [s for s in subs_repo.personal_for_channel(db, channel_id) if s.user_id != user_id]
    return SubscriptionOverview(
        mine=tuple(subs_repo.list_personal(db, guild_id=guild_id, user_id=user_id)),
        feed=feeds_repo.get_feed(db, channel_id),
        channel_subs=tuple(subs_repo.list_channel(db, channel_id)),
        personal_here=len(others),
        others_here=len({s.user_id for s in others}),
    )


def choice_matches(label: str, typed: str) -> bool:
    """Whether an autocomplete label fits what was typed (every typed word appears in it)."""
    words = typed.lower().split()
    low = label.lower()
    return all(w in low for w in words)
