"""One matching for a whole run of DM digests: every member's `dm:true` subscriptions against the
papers listed in the last days, done once and shared by each member's plan.

Planning members one by one re-read and re-tokenised the same papers for every member, and
scanned every DM subscription to find each member's own: quadratic in members. A run now reads
the papers and the subscriptions once and matches them in one pass into the same bitset batch
the feeds use (`bot/delivery/shared_match.py`), each member standing where a feed's channel
does: a member's digest is counted, ranked and capped with bitset algebra, and only the papers
it shows are explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from sys import intern

import sqlite_utils

from bot.delivery.digest import Digest, Subscriber
from bot.delivery.planner import MAX_LOOKBACK
from bot.delivery.shared_match import CompiledFeeds, FeedBatch, build_batch, compile_subscribers
from bot.store import reading_list
from bot.store import subscriptions as subs_repo
from bot.store.change_counts import COUNTERS, change_stamp


@dataclass(frozen=True, slots=True)
class DmBatch:
    """The papers of the last days matched against some members' DM subscriptions."""

    stamp: tuple[int, ...]  # change counters before anything was read (bot/store/change_counts)
    batch: FeedBatch  # destinations are member ids
    compiled: CompiledFeeds  # kept so the next run parses only texts it has not seen
    members: frozenset[int]  # whose subscriptions it matched

    def serves(self, user_ids: Sequence[int], stamp: tuple[int, ...], now: datetime) -> bool:
        """Whether these members' digests, planned `now`, can be cut from this batch."""
        return (
            stamp == self.stamp
            and self.batch.start <= now - MAX_LOOKBACK
            and self.members.issuperset(user_ids)
        )

    def digest_for(
        self, user_id: int, window: tuple[datetime, datetime], delivered: set[str], *, cap: int
    ) -> Digest:
        """The member's digest of the papers listed in `window` (both ends included) that their
        DM subscriptions match, without those in `delivered`."""
        # a DM mentions no one: the member is the only reader
        return self.batch.share(user_id, None, window, delivered, cap=cap, mentions=False).digest


def plan_dm_batch(
    db: sqlite_utils.Database,
    user_ids: Sequence[int],
    now: datetime,
    previous: DmBatch | None = None,
) -> DmBatch:
    """Match these members' DM subscriptions against the papers of the last `MAX_LOOKBACK`
    (query texts `previous` parsed are not parsed again)."""
    stamp = change_stamp(db)  # first: a write after it makes the batch stale, never wrong
    subscriptions = [
        (s.user_id, Subscriber("personal", s.id, s.user_id, intern(s.normal)), s.query)
        for s in subs_repo.dm_subscriptions_of_users(db, user_ids)
    ]
    compiled = compile_subscribers(
        stamp[COUNTERS.index("subscriptions")],
        subscriptions,
        previous.compiled if previous else None,
    )
    mutes = {u: {u: ids} for u, ids in reading_list.dm_mutes_of(db, compiled.channels).items()}
    batch = build_batch(db, now - MAX_LOOKBACK, compiled=compiled, mutes=mutes)
    return DmBatch(stamp, batch, compiled, frozenset(user_ids))
