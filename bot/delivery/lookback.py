"""How far back a digest looks for papers, and which feeds look back further than a day's."""

from __future__ import annotations

from datetime import timedelta

import sqlite_utils

from bot.feed_settings import weekly_day
from bot.store import feeds as feeds_repo

FIRST_RUN_LOOKBACK = timedelta(hours=24)  # a new feed's first digest already has the latest day
MAX_LOOKBACK = timedelta(days=3)
# A weekly digest covers the week since the previous one: a new weekly feed starts with the last
# 7 days, and a late or made-up run still reaches back to the slot before.
WEEKLY_FIRST_LOOKBACK = timedelta(days=7)
WEEKLY_MAX_LOOKBACK = timedelta(days=8)


def weekly_channels(db: sqlite_utils.Database) -> set[int]:
    """The channels whose feed is weekly (their windows reach back past `MAX_LOOKBACK`)."""
    return {f.channel_id for f in feeds_repo.list_feeds(db) if weekly_day(f.days) is not None}
