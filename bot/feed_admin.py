"""Changing a channel's feed from /feed commands (schedule, sources, pause); its status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.errors import UserError
from bot.feed_settings import parse_days, parse_time, parse_timezone
from bot.feed_sources import FeedSources, SourcesError, canonical_category, parse_sources
from bot.store import feeds as feeds_repo
from bot.store import subscriptions as subs_repo
from bot.store.feeds import Feed, FeedRun
from bot.store.subscriptions import ChannelSubscription, PersonalSubscription
from bot.subscribing import FeedDefaults, ensure_channel_feed

NO_FEED = "This channel has no feed yet: start one with /feed subscribe or /subscribe."


def set_schedule(
    db: sqlite_utils.Database,
    *,
    channel_id: int,
    guild_id: int,
    user_id: int,
    time_text: str,
    timezone_text: str,
    days: str,
    weekday: str | None = None,
    defaults: FeedDefaults,
    now: datetime,
) -> Feed:
    """Validate and store the feed's time, timezone, days and weekday (creating the feed if
    needed); nothing is written when any of them is refused."""
    changes = {
        "schedule_time": parse_time(time_text),
        "timezone": parse_timezone(timezone_text),
        "days": parse_days(days, weekday),
    }
    ensure_channel_feed(
        db, channel_id=channel_id, guild_id=guild_id, user_id=user_id, defaults=defaults, now=now
    )
    feed = feeds_repo.update_feed(db, channel_id, **changes)
    assert feed is not None
    return feed


def set_sources(
    db: sqlite_utils.Database,
    *,
    channel_id: int,
    guild_id: int,
    user_id: int,
    text: str,
    defaults: FeedDefaults,
    now: datetime,
) -> Feed:
    """Validate and store the feed's source list in its canonical spelling."""
    try:
        sources = parse_sources(text)
    except SourcesError as exc:
        raise UserError(str(exc)) from exc
    ensure_channel_feed(
        db, channel_id=channel_id, guild_id=guild_id, user_id=user_id, defaults=defaults, now=now
    )
    feed = feeds_repo.update_feed(db, channel_id, sources=sources.normal)
    assert feed is not None
    return feed


def unfetched_note(sources: FeedSources, fetched: Sequence[str]) -> str:
    """A warning when a feed asks for arXiv categories this bot doesn't fetch (they'd never
    bring a paper), or "" when every category asked for is fetched."""
    have = {canonical_category(c) for c in fetched}
    missing = sorted(c for c in sources.arxiv_categories if c not in have)
    if not missing:
        return ""
    return (
        f"Note: this bot only fetches arXiv {', '.join(sorted(have))}, "
        f"so {', '.join(missing)} will bring no arXiv papers."
    )


def set_paused(
    db: sqlite_utils.Database, *, channel_id: int, paused: bool, reason: str | None
) -> Feed:
    """Pause (with a reason shown in /feed status) or resume the channel's feed."""
    feed = feeds_repo.get_feed(db, channel_id)
    if feed is None:
        raise UserError(NO_FEED)
    if feed.paused == paused:
        state = "already paused" if paused else "not paused"
        raise UserError(f"This channel's feed is {state}.")
    updated = feeds_repo.update_feed(
        db, channel_id, paused=paused, pause_reason=reason if paused else None
    )
    assert updated is not None
    return updated


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """Everything /feed status shows."""

    feed: Feed
    last_run: FeedRun | None
    channel_subs: tuple[ChannelSubscription, ...]
    personal_subs: tuple[PersonalSubscription, ...]


def feed_status(db: sqlite_utils.Database, channel_id: int) -> FeedStatus:
    """The channel's feed, its latest run and its subscriptions; `UserError` if there's no feed."""
    feed = feeds_repo.get_feed(db, channel_id)
    if feed is None:
        raise UserError(NO_FEED)
    return FeedStatus(
        feed=feed,
        last_run=feeds_repo.last_run(db, channel_id),
        channel_subs=tuple(subs_repo.list_channel(db, channel_id)),
        personal_subs=tuple(subs_repo.personal_for_channel(db, channel_id)),
    )


def require_feed(db: sqlite_utils.Database, channel_id: int) -> Feed:
    """The channel's feed, or a `UserError` telling how to start one."""
    feed = feeds_repo.get_feed(db, channel_id)
    if feed is None:
        raise UserError(NO_FEED)
    return feed
