"""One matching for a whole run of DM digests: every member's `dm:true` subscriptions against the
papers listed in the last days, done once and shared by each member's plan.

Planning members one by one re-read and re-tokenised the same papers for every member, and
scanned every DM subscription to find each member's own: quadratic in members. A run now reads
the papers and the subscriptions once, matches them in one pass (`bot/matching.py`), and hands
each member only their share; a member's window (since their last DM) is cut from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from bot.delivery.digest import Subscriber
from bot.delivery.planner import MAX_LOOKBACK
from bot.likes import match_with_likes
from bot.matching import Result
from bot.models import Paper
from bot.query import Query, QueryError, parse
from bot.store import papers as papers_repo
from bot.store import reading_list
from bot.store import subscriptions as subs_repo


@dataclass(frozen=True, slots=True)
class DmBatch:
    """The papers of the last days (with when each was listed) and each member's matches."""

    papers: list[tuple[Paper, datetime]]
    matches: dict[int, Result[Subscriber]]  # member -> paper id -> (subscription, why)

    def for_member(self, user_id: int, start: datetime) -> tuple[list[Paper], Result[Subscriber]]:
        """The papers listed since `start`, and the member's matches among them."""
        listed = [paper for paper, at in self.papers if at >= start]
        ids = {p.id for p in listed}
        mine = self.matches.get(user_id, {})
        return listed, {pid: hits for pid, hits in mine.items() if pid in ids}


def plan_dm_batch(db: sqlite_utils.Database, user_ids: Sequence[int], now: datetime) -> DmBatch:
    """Match these members' DM subscriptions against the papers of the last `MAX_LOOKBACK`."""
    parsed: list[tuple[Subscriber, Query]] = []
    owner: dict[int, int] = {}
    for sub in subs_repo.dm_subscriptions_of_users(db, user_ids):
        try:
            parsed.append((Subscriber("personal", sub.id, None, sub.normal), parse(sub.query)))
        except QueryError:  # stored before a language change: skip it rather than fail the run
            continue
        owner[sub.id] = sub.user_id
    papers = papers_repo.papers_listed_with_times(
        db, now - MAX_LOOKBACK, now + timedelta(microseconds=1)
    )
    listed = [p for p, _ in papers]
    mutes = reading_list.dm_mutes_of(db, owner.values())
    found = match_with_likes(db, listed, parsed, mutes, owner=lambda s: owner[s.subscription_id])
    matches: dict[int, Result[Subscriber]] = {}
    for paper_id, hits in found.items():
        for key, why in hits:
            matches.setdefault(owner[key.subscription_id], {}).setdefault(paper_id, []).append(
                (key, why)
            )
    return DmBatch(papers, matches)
