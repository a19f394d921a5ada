"""What a feed's next digest holds: the papers new since its last run that match its
subscriptions and were never delivered to it, ranked and capped, or why there are none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.delivery.digest import Digest
from bot.delivery.lookback import (
    FIRST_RUN_LOOKBACK,
    MAX_LOOKBACK,
    WEEKLY_FIRST_LOOKBACK,
    WEEKLY_MAX_LOOKBACK,
)
from bot.delivery.shared_match import FeedMatchCache, build_batch
from bot.destinations import Destination
from bot.feed_settings import weekly_day
from bot.feed_sources import FeedSources, parse_sources
from bot.store import feeds as feeds_repo
from bot.store.deliveries import delivered_among
from bot.store.feeds import Feed
from bot.store.source_status import SOURCE_NAMES, all_statuses


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """A feed's digest as it would be posted now."""

    channel_id: int
    window_start: datetime
    window_end: datetime
    listed: int  # papers from the feed's sources in the window
    digest: Digest
    reason: str | None  # why nothing would be posted, if so


def window_start_for(
    db: sqlite_utils.Database, channel_id: int, now: datetime, feed: Feed | None = None
) -> datetime:
    """Where the feed's next digest starts: its last completed run, within the lookback limits
    (3 days; 8 for a weekly feed). `feed`: the channel's feed, if the caller has read it."""
    if feed is None:
        feed = feeds_repo.get_feed(db, channel_id)
    weekly = feed is not None and weekly_day(feed.days) is not None
    first, limit = (
        (WEEKLY_FIRST_LOOKBACK, WEEKLY_MAX_LOOKBACK)
        if weekly
        else (FIRST_RUN_LOOKBACK, MAX_LOOKBACK)
    )
    last = feeds_repo.last_run(db, channel_id, finished=True)
    start = last.started_at if last else now - first
    return max(start, now - limit)


def explain_empty(
    db: sqlite_utils.Database, sources: FeedSources, now: datetime, tz: ZoneInfo
) -> str:
    """Why no paper arrived from the feed's sources."""
    statuses = all_statuses(db)
    wanted = [s for s, on in (("hf", sources.hf), ("arxiv", sources.arxiv)) if on]
    for source in wanted:
        status = statuses.get(source)
        if status and status.failing_since:
            since = status.failing_since.astimezone(tz)
            when = (
                f"{since:%H:%M}"
                if now - status.failing_since < timedelta(days=1)
                else (f"{since:%d %b %H:%M}")
            )
            return f"{SOURCE_NAMES[source]} unreachable since {when}"
    weekday = now.astimezone(ZoneInfo("America/New_York")).strftime("%A")
    # Nothing is announced Friday and Saturday evenings, so no new listing arrives on the
    # following Saturday and Sunday (Eastern).
    if wanted == ["arxiv"] and weekday in ("Saturday", "Sunday"):
        return f"no arXiv announcement on {weekday}s"
    return "no new papers from this feed's sources since the last digest"


def plan_digest(
    db: sqlite_utils.Database,
    channel_id: int,
    now: datetime,
    *,
    cap: int,
    shared: FeedMatchCache | None = None,
) -> DigestPlan | None:
    """The digest the feed would post now (None if the channel has no feed).

    With `shared`, the feed's matches are cut from the match every feed shares; without, only
    this channel's subscriptions are matched (a one-off look such as `/feed status`).
    """
    feed = feeds_repo.get_feed(db, channel_id)
    if feed is None:
        return None
    sources = parse_sources(feed.sources)
    start = window_start_for(db, channel_id, now, feed)
    batch = (
        shared.batch(db, start, now, channel_id) if shared else build_batch(db, start, channel_id)
    )
    old = batch.seen_before((start, now), start)
    delivered = delivered_among(db, Destination.channel(channel_id), start, old)
    share = batch.share(channel_id, sources, (start, now), delivered, cap=cap)
    digest = share.digest
    reason: str | None = None
    if not batch.subscribed(channel_id):
        reason = "this channel has no subscriptions yet (/feed subscribe or /subscribe)"
    elif not share.listed:
        reason = explain_empty(db, sources, now, ZoneInfo(feed.timezone))
    elif not share.matched:
        reason = f"0 of {share.listed} listed papers matched"
    elif not digest.entries:
        reason = f"all {share.matched} matching papers were already posted here"
    return DigestPlan(
        channel_id=channel_id,
        window_start=start,
        window_end=now,
        listed=share.listed,
        digest=digest,
        reason=reason,
    )
