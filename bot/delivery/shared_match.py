"""One match of every feed's subscriptions against the recent papers, shared by every feed planned
until a paper or a subscription changes.

Planning feed by feed re-read, re-tokenised and re-indexed the same days of papers for each feed
(about a second a feed: a thousand feeds at 09:00 took a quarter of an hour of database thread).
Now the first feed planned after a change builds a `FeedBatch` — the papers listed within the
longest lookback, every distinct query of every feed in one matcher, each query's matches kept
as bitsets — and every feed counts, ranks and explains its own share with bitset algebra.

A batch is used only while `change_stamp` (counters that triggers bump on every write to papers
or subscriptions, from any connection or process, e.g. a cron `paperboy ingest`) is unchanged,
so a plan from the batch is the plan a fresh match would give.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from bot.bitsets import BitCounter, bit_indices
from bot.delivery.digest import Digest, Subscriber, digest_of_counted
from bot.feed_sources import FeedSources
from bot.matching import QueryBits, SubscriptionMatcher
from bot.models import Paper
from bot.query import Match, Query, QueryError, parse
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from bot.store.change_counts import change_stamp

# The longest window any feed plans (a weekly feed's; see planner.WEEKLY_MAX_LOOKBACK).
BATCH_LOOKBACK = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class FeedShare:
    """A feed's part of the batch: what it would post now, and the counts its status shows."""

    listed: int  # papers from the feed's sources listed in its window
    matched: int  # of those, the papers its subscriptions match (posted before or not)
    digest: Digest  # those not posted before, ranked and capped


@dataclass(slots=True)
class FeedBatch:
    """The recent papers (oldest listed first), what each distinct query matched among them as
    bitsets (bit i = `papers[i]`), and each channel's subscribers by query."""

    stamp: tuple[int, ...]
    start: datetime  # papers listed from here on are in the batch
    papers: list[Paper]
    listed_at: list[datetime]  # parallel to `papers`, ascending
    bits: dict[str, QueryBits[str]]  # query normal form -> its matches
    # channel -> (normal form, its subscribers there) in the order of each query's first
    # subscriber in the channel: channel subscriptions first, then personal ones, oldest first
    channels: dict[int, list[tuple[str, list[Subscriber]]]]
    _index: dict[str, int] = field(default_factory=dict)
    _masks: dict[str, int] = field(default_factory=dict)  # normal form -> every paper it matched
    _accepted: dict[FeedSources, int] = field(default_factory=dict)  # sources -> papers

    def __post_init__(self) -> None:
        self._index = {p.id: i for i, p in enumerate(self.papers)}
        self._masks = {normal: bits.mask for normal, bits in self.bits.items()}

    def subscribed(self, channel_id: int) -> bool:
        """Whether the channel has any subscription."""
        return channel_id in self.channels

    def share(
        self,
        channel_id: int,
        sources: FeedSources,
        window: tuple[datetime, datetime],
        delivered: set[str],
        *,
        cap: int,
    ) -> FeedShare:
        """The channel's digest of the papers from `sources` listed in `window` (both ends
        included) that match its subscriptions and are not in `delivered`.

        Counting and ranking are bitset algebra over the channel's queries; only the papers shown
        are explained, in the order the channel's own matcher gives (grouped by query, in the
        order of its first subscriber in the channel, then by subscriber).
        """
        lo = bisect_left(self.listed_at, window[0])
        hi = bisect_right(self.listed_at, window[1])
        feed = (((1 << hi) - 1) ^ ((1 << lo) - 1)) & self._accepted_by(sources)
        done = 0
        for paper_id in delivered:
            index = self._index.get(paper_id)
            if index is not None:
                done |= 1 << index
        mine = self.channels.get(channel_id, [])
        counter, matched = BitCounter(), 0
        for normal, subscribers in mine:
            papers = self._masks.get(normal, 0) & feed
            if papers:
                matched |= papers
                counter.add(papers & ~done, len(subscribers))
        fresh = matched & ~done
        # only the papers that can make the first `cap` are counted one by one
        above, tied, threshold = counter.top(fresh, cap)
        counted = [(self.papers[i], counter.count(i)) for i in bit_indices(above)]
        counted += [(self.papers[i], threshold) for i in bit_indices(tied)]

        def hits_of(paper: Paper) -> list[tuple[Subscriber, Match]]:
            index, found = self._index[paper.id], []
            for normal, subscribers in mine:
                if self._masks.get(normal, 0) >> index & 1:
                    why = self.bits[normal].why(index)
                    found += [(sub, why) for sub in subscribers if why is not None]
            return found

        digest = digest_of_counted(counted, hits_of, cap=cap, total=fresh.bit_count())
        return FeedShare(feed.bit_count(), matched.bit_count(), digest)

    def _accepted_by(self, sources: FeedSources) -> int:
        mask = self._accepted.get(sources)
        if mask is None:
            mask = self._accepted[sources] = sum(
                1 << i for i, p in enumerate(self.papers) if sources.accepts(p)
            )
        return mask


class FeedMatchCache:
    """Holds the current `FeedBatch`, rebuilding it when papers or subscriptions changed."""

    def __init__(self) -> None:
        self._batch: FeedBatch | None = None
        self.builds = 0  # how many batches were built (benchmarks and tests read it)

    def batch(self, db: sqlite_utils.Database, window_start: datetime, now: datetime) -> FeedBatch:
        """A batch that covers papers listed from `window_start` on, as the database is now."""
        current = self._batch
        if current is None or current.stamp != change_stamp(db) or window_start < current.start:
            current = self._batch = build_batch(db, min(window_start, now - BATCH_LOOKBACK))
            self.builds += 1
        return current


def build_batch(
    db: sqlite_utils.Database, start: datetime, channel_id: int | None = None
) -> FeedBatch:
    """Match the feeds' subscriptions (every feed's, or one channel's) against the papers listed
    since `start`, once."""
    stamp = change_stamp(db)  # read first: a write after it makes the batch stale, never wrong
    # No upper bound: a plan cuts its own window's end, so the batch stays right as time passes.
    listed = papers_repo.papers_listed_with_times(
        db, start, datetime.max.replace(tzinfo=start.tzinfo)
    )
    papers = [p for p, _ in listed]
    queries: dict[str, Query] = {}
    channels: dict[int, dict[str, list[Subscriber]]] = {}
    for channel, sub, query in feed_subscribers(db, channel_id):
        queries.setdefault(query.normal, query)
        channels.setdefault(channel, {}).setdefault(query.normal, []).append(sub)
    # one matcher keyed by normal form: a query subscribed in many channels is matched once
    found = SubscriptionMatcher(queries.items()).match_bitsets(papers)[1] if queries else []
    return FeedBatch(
        stamp,
        start,
        papers,
        [at for _, at in listed],
        {bits.keys[0]: bits for bits in found},
        {channel: list(by_query.items()) for channel, by_query in channels.items()},
    )


def feed_subscribers(
    db: sqlite_utils.Database, channel_id: int | None = None
) -> list[tuple[int, Subscriber, Query]]:
    """Every feed channel's (or one channel's) own subscriptions, then the personal ones made in
    it, parsed."""
    parsed: list[tuple[int, Subscriber, Query]] = []
    for sub in subs_repo.feed_subscriptions(db, channel_id):
        try:
            query = parse(sub.query)
        except QueryError:  # stored before a language change: skip it rather than break feeds
            continue
        subscriber = Subscriber(sub.kind, sub.subscription_id, sub.user_id, sub.normal)
        parsed.append((sub.channel_id, subscriber, query))
    return parsed
