"""One match of every feed's subscriptions against the recent papers, shared by every feed planned
until a paper or a subscription changes.

Planning feed by feed re-read, re-tokenised and re-indexed the same days of papers for each feed
(about a second a feed: a thousand feeds at 09:00 took a quarter of an hour of database thread).
Now the first feed planned after a change builds a `FeedBatch` — the papers listed within the
longest lookback, every feed's subscriptions in one matcher, the matches bucketed by channel —
and every other feed cuts its window and its channel's share from it.

A batch is used only while `change_stamp` (counters that triggers bump on every write to papers
or subscriptions, from any connection or process, e.g. a cron `paperboy ingest`) is unchanged,
so a plan from the batch is the plan a fresh match would give.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from bot.delivery.digest import Subscriber
from bot.feed_sources import FeedSources
from bot.matching import Result, SubscriptionMatcher
from bot.models import Paper
from bot.query import Match, Query, QueryError, parse
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from bot.store.change_counts import change_stamp

# The longest window any feed plans (a weekly feed's; see planner.WEEKLY_MAX_LOOKBACK).
BATCH_LOOKBACK = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class QueryHits:
    """The batch papers one query matched (indices into `FeedBatch.papers`, ascending) and why."""

    indices: list[int]
    matches: list[Match]


@dataclass(slots=True)
class FeedBatch:
    """The recent papers (oldest listed first), what each distinct query matched among them, and
    each channel's subscribers by query."""

    stamp: tuple[int, ...]
    start: datetime  # papers listed from here on are in the batch
    papers: list[Paper]
    listed_at: list[datetime]  # parallel to `papers`, ascending
    hits: dict[str, QueryHits]  # query normal form -> its matches
    # channel -> (normal form, its subscribers there) in the order of each query's first
    # subscriber in the channel: channel subscriptions first, then personal ones, oldest first
    channels: dict[int, list[tuple[str, list[Subscriber]]]]
    # per sources setting: the listed times of the papers it accepts (built when first asked)
    _accepted: dict[FeedSources, list[datetime]] = field(default_factory=dict)

    @property
    def subscribed(self) -> set[int]:
        """Channels with at least one subscription."""
        return set(self.channels)

    def listed_count(self, sources: FeedSources, start: datetime, end: datetime) -> int:
        """How many papers these sources accept were listed in [start, end]."""
        times = self._accepted.get(sources)
        if times is None:
            times = self._accepted[sources] = [
                at for p, at in zip(self.papers, self.listed_at, strict=True) if sources.accepts(p)
            ]
        return bisect_right(times, end) - bisect_left(times, start)

    def feed_share(
        self, channel_id: int, sources: FeedSources, start: datetime, end: datetime
    ) -> tuple[list[Paper], Result[Subscriber]]:
        """The channel's matched papers listed in [start, end] (in listing order) and their
        matches: each paper's list grouped by query, in the order of the query's first
        subscriber in the channel, then by subscriber, as the channel's own matcher gives it."""
        lo, hi = bisect_left(self.listed_at, start), bisect_right(self.listed_at, end)
        accepted: dict[int, bool] = {}
        found: dict[int, list[tuple[Subscriber, Match]]] = {}
        for normal, subscribers in self.channels.get(channel_id, ()):
            hits = self.hits.get(normal)
            if hits is None:
                continue
            at, stop = bisect_left(hits.indices, lo), bisect_left(hits.indices, hi)
            for index, why in zip(hits.indices[at:stop], hits.matches[at:stop], strict=True):
                ok = accepted.get(index)
                if ok is None:
                    ok = accepted[index] = sources.accepts(self.papers[index])
                if ok:
                    found.setdefault(index, []).extend([(sub, why) for sub in subscribers])
        papers = [self.papers[i] for i in sorted(found)]
        return papers, {self.papers[i].id: found[i] for i in sorted(found)}


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
    grouped = SubscriptionMatcher(queries.items()).match_grouped(papers) if queries else {}
    index_of = {p.id: i for i, p in enumerate(papers)}
    hits: dict[str, QueryHits] = {}
    for paper_id, groups in grouped.items():  # papers in batch order: each list stays ascending
        index = index_of[paper_id]
        for group in groups:
            found = hits.get(group.keys[0])
            if found is None:
                found = hits[group.keys[0]] = QueryHits([], [])
            found.indices.append(index)
            found.matches.append(group.match)
    return FeedBatch(
        stamp,
        start,
        papers,
        [at for _, at in listed],
        hits,
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
