"""How far back a digest looks for papers, and so how far back the feeds' shared match must."""

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


def batch_lookback(db: sqlite_utils.Database) -> timedelta:
    """The longest window any feed plans: 8 days if some feed is weekly, else 3.

    A shared match holds every paper of that window (as documents while it is built, as bits
    after): where no feed is weekly, a week of papers would cost memory for nothing.
    """
    weekly = any(weekly_day(feed.days) is not None for feed in feeds_repo.list_feeds(db))
    return WEEKLY_MAX_LOOKBACK if weekly else MAX_LOOKBACK
