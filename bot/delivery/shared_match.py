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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from heapq import nsmallest
from itertools import chain, compress, islice
from math import inf
from sys import intern
from typing import NamedTuple

import sqlite_utils

from bot.bitsets import BitCounter, bit_indices
from bot.delivery.digest import (
    WHY_QUERIES,
    Digest,
    Reason,
    Subscriber,
    describe_terms,
    digest_of_counted,
    tie_order,
)
from bot.delivery.lookback import MAX_LOOKBACK, WEEKLY_MAX_LOOKBACK, weekly_channels
from bot.feed_sources import FeedSources
from bot.likes import like_ids, score_batch
from bot.long_lived import collector_paused, settle
from bot.matching import QueryBits, SubscriptionMatcher
from bot.models import Paper
from bot.query import Query, QueryError, parse
from bot.similarity import Likes
from bot.store import papers as papers_repo
from bot.store import reading_list
from bot.store import subscriptions as subs_repo
from bot.store.change_counts import COUNTERS, change_stamp
from bot.summarize import tldr


class Subscribed(NamedTuple):
    """One query subscribed in one destination: its normal form, its subscribers there (in
    subscription order) and the members they mention. Tuples of strings and ints only, so the
    garbage collector stops scanning the 100,000 of them a shared match holds."""

    normal: str
    subscribers: tuple[Subscriber, ...]
    mentions: tuple[int, ...]  # the personal subscribers' members


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
    # channel -> its queries in the order of each one's first subscriber in the channel:
    # channel subscriptions first, then personal ones, oldest first
    channels: dict[int, tuple[Subscribed, ...]]
    # how similar the papers are to the `like:` papers and to the muted ones (bot/likes.py)
    likes: Likes = field(default_factory=Likes)
    # channel -> member -> the papers they muted there ("Not for me" with nothing to change)
    mutes: dict[int, dict[int, set[str]]] = field(default_factory=dict)
    # the destinations it was built for (None: every feed)
    scope: frozenset[int] | None = None
    _ids: list[str] = field(default_factory=list)  # parallel to `papers`
    _index: dict[str, int] = field(default_factory=dict)
    _seen_at: list[float] = field(default_factory=list)  # first_seen timestamps, see seen_before
    _relisted: list[int] = field(default_factory=list)  # papers seen before they were listed
    _masks: dict[str, int] = field(default_factory=dict)  # normal form -> every paper it matched
    _accepted: dict[FeedSources, int] = field(default_factory=dict)  # sources -> papers
    _muted: dict[tuple[int, int], int] = field(default_factory=dict)  # (channel, member) -> papers
    _tldrs: dict[str, str] = field(default_factory=dict)  # paper id -> its TL;DR
    _ties: list[int] = field(default_factory=list)  # see _tie_places

    def __post_init__(self) -> None:
        self._ids = [p.id for p in self.papers]
        self._index = {paper_id: i for i, paper_id in enumerate(self._ids)}
        self._masks = {normal: bits.mask for normal, bits in self.bits.items()}

    def seen_before(self, window: tuple[datetime, datetime], since: datetime) -> list[str]:
        """The ids of the papers listed in `window` (both ends included) that were first seen
        before `since`: old papers listed again (see `delivered_among`)."""
        if len(self._seen_at) != len(self.papers):
            # A paper is first listed when first seen, so only one listed again (seen before
            # it was listed) can have been seen before a window it is listed in: a thousand
            # feeds then check a handful of papers each, not the whole batch.
            self._seen_at = [
                p.first_seen.timestamp() if p.first_seen else -inf for p in self.papers
            ]
            self._relisted = [
                i
                for i, (seen, listed) in enumerate(zip(self._seen_at, self.listed_at, strict=True))
                if seen < listed.timestamp()
            ]
        lo = bisect_left(self.listed_at, window[0])
        hi = bisect_right(self.listed_at, window[1])
        relisted = self._relisted[bisect_left(self._relisted, lo) : bisect_left(self._relisted, hi)]
        cutoff = since.timestamp()
        return [self._ids[i] for i in relisted if self._seen_at[i] < cutoff]

    def covers(self, channel_id: int) -> bool:
        """Whether the batch matched the channel's subscriptions (if it has any)."""
        return self.scope is None or channel_id in self.scope

    def subscribed(self, channel_id: int) -> bool:
        """Whether the channel has any subscription."""
        return channel_id in self.channels

    def share(
        self,
        channel_id: int,
        sources: FeedSources | None,
        window: tuple[datetime, datetime],
        delivered: set[str],
        *,
        cap: int,
        mentions: bool = True,
    ) -> FeedShare:
        """The channel's digest of the papers from `sources` (None: every source) listed in
        `window` (both ends included) that match its subscriptions and are not in `delivered`.

        `mentions=False` leaves every entry's mentions empty (a DM mentions no one).

        Counting and ranking are bitset algebra over the channel's queries; only the papers shown
        are explained, as `reason_of` explains the channel's own matcher's result (queries in the
        order of their first subscriber in the channel), one AND per query and paper.
        """
        lo = bisect_left(self.listed_at, window[0])
        hi = bisect_right(self.listed_at, window[1])
        feed = (((1 << hi) - 1) ^ ((1 << lo) - 1)) & self._accepted_by(sources)
        done = 0
        for paper_id in delivered:
            index = self._index.get(paper_id)
            if index is not None:
                done |= 1 << index
        mine = self.channels.get(channel_id, ())
        muting = channel_id in self.mutes  # members muted papers here: count them one by one
        counter, matched = BitCounter(), 0
        # each query that matched papers of the feed, in the channel's order, and those papers
        hit: list[Subscribed] = []
        masks: list[int] = []
        get = self._masks.get
        for subscribed in mine:
            papers = get(subscribed.normal, 0) & feed
            if not papers:
                continue
            hit.append(subscribed)
            masks.append(papers)
            # Counts include papers posted before: only the fresh ones are ranked (top() below)
            if not muting:
                matched |= papers
                counter.add(papers, len(subscribed.subscribers))
                continue
            # a member who muted papers like these is neither counted nor mentioned for them
            plain = 0
            for sub in subscribed.subscribers:
                muted = self._muted_mask(channel_id, sub)
                if muted:
                    if mine_ := papers & ~muted:
                        matched |= mine_
                        counter.add(mine_)
                else:
                    plain += 1
            if plain:
                matched |= papers
                counter.add(papers, plain)
        fresh = matched & ~done
        # only the papers that can make the first `cap` are counted one by one
        above, tied, threshold = counter.top(fresh, cap)
        counted = [(self.papers[i], counter.count(i)) for i in bit_indices(above)]
        tied_papers = bit_indices(tied)
        room = cap - len(counted)
        if len(tied_papers) > room:
            # of the papers tied at the cut, those that show are the first in tie order: a
            # member with ten subscriptions often ties hundreds of papers at one match each
            tied_papers = nsmallest(room, tied_papers, key=self._tie_places().__getitem__)
        counted += [(self.papers[i], threshold) for i in tied_papers]

        def reasons_of(shown: Sequence[Paper]) -> list[Reason]:
            # a thousand feeds explain ~25 papers each, every one matched by ~25 of the feed's
            # queries: this is most of their planning, so it works on sets of papers, not pairs
            similar = bool(self.likes.scores)  # `like:` terms are said with their scores
            bits = self.bits
            members = [subscribed.mentions for subscribed in hit]
            # members who muted papers here, each with every paper like one they muted
            muters = [
                (member, mask)
                for member in self.mutes.get(channel_id, ())
                if (mask := self._member_muted(channel_id, member))
            ]
            members_only = [_members_only(subscribed) for subscribed in hit] if muters else []
            reasons = []
            for paper in shown:
                bit = 1 << self._index[paper.id]
                # the queries matching the paper, in the order the channel's matcher gives; an
                # AND with a one-bit int reads only the low words of a mask
                matching: list[int | bool] = list(map(bit.__and__, masks))
                gone = {member for member, mask in muters if mask & bit} if muters else _NOBODY
                if gone:  # a query all of whose subscribers muted the paper doesn't explain it
                    matching = [
                        flag and not (only is not None and only <= gone)
                        for flag, only in zip(matching, members_only, strict=True)
                    ]
                # its why: the terms holding it of its first few queries, as reason_of() says
                first = list(islice(compress(hit, matching), WHY_QUERIES))
                found = [
                    term
                    for subscribed in first
                    for term, where in bits[subscribed.normal].terms()
                    if where & bit
                ]
                if similar and any(term.field == "like" for term in found):
                    found = self.likes.explain_terms(paper.id, found)
                more = len(matching) - matching.count(0) - len(first)
                users: tuple[int, ...] = ()
                if mentions:
                    mentioned = set(chain.from_iterable(compress(members, matching)))
                    if gone:
                        mentioned -= gone
                    users = tuple(sorted(mentioned))
                reasons.append(Reason(describe_terms(found, more), users))
            return reasons

        digest = digest_of_counted(
            counted, reasons_of, cap=cap, total=fresh.bit_count(), summary=self._summary
        )
        return FeedShare(feed.bit_count(), matched.bit_count(), digest)

    def _tie_places(self) -> list[int]:
        """Each paper's place in the order digests show equally matched papers (made once)."""
        if len(self._ties) != len(self.papers):
            self._ties = tie_order(self.papers)
        return self._ties

    def _summary(self, paper: Paper) -> str:
        """The paper's TL;DR, made once for every feed that shows it."""
        found = self._tldrs.get(paper.id)
        if found is None:
            found = self._tldrs[paper.id] = tldr(paper)
        return found

    def _muted_mask(self, channel_id: int, sub: Subscriber) -> int:
        """The papers a personal subscriber's member muted in the channel, or papers like them."""
        if sub.kind != "personal" or sub.user_id is None:
            return 0
        return self._member_muted(channel_id, sub.user_id)

    def _member_muted(self, channel_id: int, member: int) -> int:
        """The papers the member muted in the channel, or papers like them."""
        muted = self.mutes.get(channel_id, {}).get(member)
        if not muted:
            return 0
        key = (channel_id, member)
        mask = self._muted.get(key)
        if mask is None:
            mask = self._muted[key] = sum(
                1 << i for i, p in enumerate(self.papers) if self.likes.is_similar(p.id, muted)
            )
        return mask

    def _accepted_by(self, sources: FeedSources | None) -> int:
        if sources is None:  # a member's DM digest takes papers from every source
            return (1 << len(self.papers)) - 1
        mask = self._accepted.get(sources)
        if mask is None:
            mask = self._accepted[sources] = sum(
                1 << i for i, p in enumerate(self.papers) if sources.accepts(p)
            )
        return mask


_NOBODY: frozenset[int] = frozenset()


def _members_only(subscribed: Subscribed) -> frozenset[int] | None:
    """The members whose personal subscriptions these all are (None: the channel's own, which
    no mute silences, is among them)."""
    if len(subscribed.mentions) != len(subscribed.subscribers):
        return None
    return frozenset(subscribed.mentions)


@dataclass(frozen=True, slots=True)
class CompiledFeeds:
    """What a batch needs from the subscriptions — each parsed, grouped by channel, and every
    distinct query in one matcher — kept while no subscription changes (papers change daily,
    subscriptions rarely: a new batch then only matches)."""

    stamp: int  # the subscriptions counter these were read at
    by_text: dict[str, Query]  # query text -> parsed (a text subscribed many times parses once)
    channels: dict[int, tuple[Subscribed, ...]]  # as in FeedBatch.channels
    queries: dict[str, Query]  # normal form -> query
    matcher: SubscriptionMatcher[str]  # keyed by normal form
    like_ids: frozenset[str]  # the papers the queries' `like:` terms name

    def restricted_to(self, destinations: Collection[int]) -> CompiledFeeds:
        """Only these destinations' subscriptions, in a matcher of their own queries."""
        channels = {d: self.channels[d] for d in destinations if d in self.channels}
        normals = {subscribed.normal for queries in channels.values() for subscribed in queries}
        queries = {n: q for n, q in self.queries.items() if n in normals}
        return CompiledFeeds(
            self.stamp,
            self.by_text,
            channels,
            queries,
            SubscriptionMatcher(queries.items()),
            frozenset(like_ids(queries.values())),
        )


def compile_feeds(
    db: sqlite_utils.Database,
    channel_id: int | None = None,
    previous: CompiledFeeds | None = None,
) -> CompiledFeeds:
    """Read and parse every feed's (or one channel's) subscriptions; texts `previous` already
    parsed are not parsed again."""
    stamp = change_stamp(db)[COUNTERS.index("subscriptions")]  # first: a later write is seen
    found = [
        (
            sub.channel_id,
            # shared strings: 100k subscriptions would each hold their own copy of these
            Subscriber(sub.kind, sub.subscription_id, sub.user_id, intern(sub.normal)),
            sub.query,
        )
        for sub in subs_repo.feed_subscriptions(db, channel_id)
    ]
    return compile_subscribers(stamp, found, previous)


def compile_subscribers(
    stamp: int,
    subscriptions: Iterable[tuple[int, Subscriber, str]],
    previous: CompiledFeeds | None = None,
) -> CompiledFeeds:
    """Compile (destination, subscriber, query text) rows — a feed's channel or a member's DMs
    as the destination — in their order; texts `previous` already parsed are not parsed again."""
    known = previous.by_text if previous else {}
    by_text: dict[str, Query] = {}
    queries: dict[str, Query] = {}
    destinations: dict[int, dict[str, list[Subscriber]]] = {}
    for destination, subscriber, text in subscriptions:
        query = by_text.get(text)
        if query is None:
            query = known.get(text)
            if query is None:
                try:
                    query = parse(text)
                except QueryError:  # stored before a language change: skip it, don't break
                    continue
            by_text[text] = query
            queries.setdefault(query.normal, query)
        by_query = destinations.get(destination)
        if by_query is None:
            by_query = destinations[destination] = {}
        subscribers = by_query.get(query.normal)
        if subscribers is None:
            by_query[query.normal] = [subscriber]
        else:
            subscribers.append(subscriber)
    mentions: dict[tuple[int, ...], tuple[int, ...]] = {}  # equal ones shared

    def subscribed(normal: str, subscribers: list[Subscriber]) -> Subscribed:
        users = tuple([s.user_id for s in subscribers if s.user_id and s.kind == "personal"])
        return Subscribed(normal, tuple(subscribers), mentions.setdefault(users, users))

    return CompiledFeeds(
        stamp,
        by_text,
        {
            key: tuple(subscribed(normal, subs) for normal, subs in by_query.items())
            for key, by_query in destinations.items()
        },
        queries,
        # one matcher keyed by normal form: a query subscribed in many places is matched once
        SubscriptionMatcher(queries.items()),
        frozenset(like_ids(queries.values())),  # read once, not at every batch
    )


class FeedMatchCache:
    """Holds the current batches, rebuilding one when papers or subscriptions changed (and the
    compiled subscriptions only when subscriptions changed).

    Daily windows (at most `MAX_LOOKBACK`) share one batch of every feed's subscriptions over
    3 days. A longer window (a weekly feed's) is cut from a second batch over 8 days holding
    only the weekly feeds' subscriptions: a week of papers against every subscription cost
    ~90 MB more at 100,000 subscriptions, for the few feeds that need it.
    """

    def __init__(self) -> None:
        self._short: FeedBatch | None = None
        self._long: FeedBatch | None = None
        self._compiled: CompiledFeeds | None = None
        self.builds = 0  # how many batches were built (benchmarks and tests read it)
        self.compiles = 0  # how many times the subscriptions were compiled

    def batch(
        self,
        db: sqlite_utils.Database,
        window_start: datetime,
        now: datetime,
        channel_id: int | None = None,
    ) -> FeedBatch:
        """A batch with the papers listed from `window_start` on (and, for a long window,
        `channel_id`'s subscriptions), as the database is now."""
        stamp = change_stamp(db)
        if window_start >= now - MAX_LOOKBACK:
            short = self._short
            if short is None or short.stamp != stamp or window_start < short.start:
                with collector_paused():  # see bot/long_lived.py
                    compiled = self.compiled(db, stamp)
                    short = self._short = build_batch(db, now - MAX_LOOKBACK, compiled=compiled)
                    settle(len(compiled.queries))
                self.builds += 1
            return short
        long = self._long
        if (
            long is None
            or long.stamp != stamp
            or window_start < long.start
            or (channel_id is not None and not long.covers(channel_id))
        ):
            wanted = weekly_channels(db) | ({channel_id} if channel_id is not None else set())
            with collector_paused():
                compiled = self.compiled(db, stamp).restricted_to(wanted)
                start = min(window_start, now - WEEKLY_MAX_LOOKBACK)
                long = self._long = build_batch(
                    db, start, compiled=compiled, scope=frozenset(wanted)
                )
                settle(len(compiled.queries))
            self.builds += 1
        return long

    def compiled(self, db: sqlite_utils.Database, stamp: tuple[int, ...]) -> CompiledFeeds:
        """Every feed's subscriptions compiled, as of `stamp`."""
        current = self._compiled
        if current is None or current.stamp != stamp[COUNTERS.index("subscriptions")]:
            current = self._compiled = compile_feeds(db, previous=current)
            self.compiles += 1
        return current


def build_batch(
    db: sqlite_utils.Database,
    start: datetime,
    channel_id: int | None = None,
    *,
    compiled: CompiledFeeds | None = None,
    mutes: dict[int, dict[int, set[str]]] | None = None,
    scope: frozenset[int] | None = None,
) -> FeedBatch:
    """Match the feeds' subscriptions (every feed's, or one channel's; or those `compiled`)
    against the papers listed since `start`, once. `mutes`: destination -> member -> muted
    papers (default: the feeds' members' mutes); `scope`: the destinations `compiled` was
    restricted to, if it was."""
    stamp = change_stamp(db)  # read first: a write after it makes the batch stale, never wrong
    if compiled is None:
        compiled = compile_feeds(db, channel_id)
    # No upper bound: a plan cuts its own window's end, so the batch stays right as time passes.
    listed = papers_repo.papers_listed_with_times(
        db, start, datetime.max.replace(tzinfo=start.tzinfo)
    )
    papers = [p for p, _ in listed]
    queries = compiled.queries
    if mutes is None:  # a channel's members' mutes (DM digests pass their own)
        mutes = reading_list.mutes_by_channel(db, compiled.channels)
    muted = {pid for members in mutes.values() for ids in members.values() for pid in ids}
    # `like:` terms and mutes are scored once for the batch (nothing to do without either)
    likes = score_batch(db, papers, (), compiled.like_ids | muted) if queries else Likes()
    # tokenised one by one as the matcher indexes them: a week's documents are never all held
    docs = (likes.document(compiled.matcher.document(p)) for p in papers)
    found = compiled.matcher.match_bitsets(docs) if queries else []
    return FeedBatch(
        stamp,
        start,
        papers,
        [at for _, at in listed],
        {bits.keys[0]: bits for bits in found},
        compiled.channels,
        likes,
        mutes,
        scope,
    )
