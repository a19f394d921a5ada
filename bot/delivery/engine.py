"""The exactly-once digest engine for feeds: plan a feed's digest, write the ledger, post it.

The order of work is what makes delivery exactly-once:

1. in ONE transaction: start the run, plan the digest, write a pending row per paper with the
   exact message (and its deterministic nonce) that will carry it;
2. open the header / thread / forum post, recording their ids as soon as they exist
   (`bot/delivery/channels.py`);
3. deliver the pending messages with the loop every destination shares
   (`bot/delivery/exactly_once.py`).

A crash anywhere leaves pending rows; the next run resumes them in the recorded thread before it
plans anything new. DM digests (`bot/delivery/dms.py`) follow the same three steps.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.background import background_work
from bot.config import Settings
from bot.delivery.channels import CHANNEL_GONE, ChannelPosting, StopFeed
from bot.delivery.messages import header_message, paper_messages
from bot.delivery.planner import MAX_LOOKBACK, plan_digest, window_start_for
from bot.delivery.posting import Poster, Unavailable
from bot.delivery.shared_match import FeedMatchCache
from bot.destinations import ChannelKind, Destination, PostMode, RunState
from bot.feed_changes import FeedChanges
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store.database import Clock

log = logging.getLogger(__name__)


def paused_reason(pause_reason: str | None) -> str:
    """Why a paused feed posted nothing, without saying "paused" twice."""
    reason = pause_reason or "paused by a moderator"
    return reason if reason.startswith("paused") else f"paused: {reason}"


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run of a feed did."""

    posted: int
    matched: int
    listed: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class _Begun:
    run_id: int | None
    post: ledger.DigestPost | None
    listed: int
    matched: int
    reason: str | None


class DeliveryEngine:
    """Runs feeds' digests exactly once, up to `delivery_concurrency` feeds at a time."""

    def __init__(
        self,
        store: Store,
        poster: Poster,
        settings: Settings,
        *,
        clock: Clock,
        changes: FeedChanges | None = None,
    ) -> None:
        self.store = store
        self.poster = poster
        self.settings = settings
        self.clock = clock
        # A 403 pause or 404 disable goes through here, so the scheduler drops the feed's job.
        self.changes = changes or FeedChanges(store)
        self.channels = ChannelPosting(store, poster, self.changes, clock=clock)
        # Feeds due together are delivered together (each one alone is held to ~1 message/s by
        # Discord's per-channel limit); the REST pacer (bot/discord/pacing.py), not this bound,
        # keeps the bot under the global limit. The bound keeps the pacer's queue short.
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        # Feeds due at the same time share one match of every feed's subscriptions.
        self.match_cache = FeedMatchCache()
        self._batch_turn = asyncio.Lock()

    async def prepare(self) -> None:
        """Match the recent papers against every feed's subscriptions now, on a read connection,
        so the feeds due next find the shared match ready (called after each ingest: new papers
        arrive well before the digests go out)."""
        now = self.clock()
        # One caller at a time, so feeds starting together build it once (the rest find it
        # ready) and the other read connections stay free for commands.
        async with self._batch_turn:
            await self.store.read(self.match_cache.batch, now, now)  # as far back as feeds look

    async def run_feed(
        self, channel_id: int, *, scheduled_for: datetime | None = None
    ) -> RunReport:
        """Resume any unfinished digest, then plan and post this run's digest."""
        # background work: a command's requests to Discord go before this run's
        with background_work():
            async with self._slots:
                return await self._run_feed(channel_id, scheduled_for)

    async def _run_feed(self, channel_id: int, scheduled_for: datetime | None) -> RunReport:
        feed = await self.store.run(feeds_repo.get_feed, channel_id)
        if feed is None:
            return RunReport(0, 0, 0, "this channel has no feed")
        if feed.disabled:
            return RunReport(0, 0, 0, CHANNEL_GONE)
        if feed.paused:
            return RunReport(0, 0, 0, paused_reason(feed.pause_reason))
        kind = await self.channels.channel_kind(feed)
        if kind is None:
            return RunReport(0, 0, 0, CHANNEL_GONE)
        if (waiting := await self.channels.check_blocked(feed)) is not None:
            return RunReport(0, 0, 0, waiting)
        resumed = 0
        destination = Destination.channel(channel_id)
        await self.store.run(
            ledger.expire_open_digests,
            destination,
            before=self.clock() - MAX_LOOKBACK,
            now=self.clock(),
        )
        try:
            for post in await self.store.run(ledger.open_digests, destination):
                resumed += await self.channels.post(feed, post, resumed=True)
                await self.store.run(self._finish_resumed, post, resumed)
            day = self.clock().astimezone(ZoneInfo(feed.timezone)).date()
            # Build the shared match on a read connection first (the first feed of a slot takes
            # seconds): the ledger transaction then finds it ready and holds the lock briefly.
            await self.prepare()
            begun = await self.store.run(
                self._begin_run, channel_id, day, kind, scheduled_for, self.clock()
            )
            posted = 0
            if begun.post is not None:
                posted = await self.channels.post(feed, begun.post)
        except StopFeed as stop:
            return RunReport(resumed, 0, 0, str(stop))
        except Unavailable as exc:  # header or thread: the digest stays open for the next run
            log.warning("Feed %s: Discord unavailable, will retry: %s", channel_id, exc)
            return RunReport(resumed, 0, 0, f"Discord did not answer, will retry next run ({exc})")
        reason = begun.reason if posted == 0 else None
        if begun.run_id is not None:
            await self.store.run(
                feeds_repo.finish_run,
                begun.run_id,
                now=self.clock(),
                listed=begun.listed,
                matched=begun.matched,
                posted=posted,
                reason=reason,
            )
        return RunReport(posted + resumed, begun.matched, begun.listed, reason)

    def _begin_run(
        self,
        db: sqlite_utils.Database,
        channel_id: int,
        day: date,
        kind: ChannelKind,
        scheduled_for: datetime | None,
        now: datetime,
    ) -> _Begun:
        """Start the run and write the whole digest's pending rows, in one transaction."""
        window = window_start_for(db, channel_id, now)
        run = feeds_repo.start_run(
            db, channel_id=channel_id, window_start=window, now=now, scheduled_for=scheduled_for
        )
        plan = plan_digest(
            db, channel_id, now, cap=self.settings.digest_cap, shared=self.match_cache
        )
        assert plan is not None  # the feed exists: checked by the caller on this same thread
        destination = Destination.channel(channel_id)
        entries = plan.digest.entries
        # Unfinished rows are resumed in their own digest, never re-planned: no entries, no header.
        if not entries:
            return _Begun(run.id, None, plan.listed, plan.digest.matched, plan.reason)
        feed = feeds_repo.get_feed(db, channel_id)
        mode = _mode_for(kind, threads_refused=bool(feed and feed.threads_refused))
        header = header_message(destination, run.id, day, entries, plan.digest.overflow)
        messages = [
            ledger.PendingMessage(spec.paper_ids, spec.nonce, spec.to_json())
            for e in entries
            for spec in paper_messages(destination, e)
        ]
        post = ledger.create_digest(
            db,
            destination=destination,
            run_id=run.id,
            digest_date=day.isoformat(),
            mode=mode,
            header=header.to_json(),
            messages=messages,
            now=now,
        )
        existing = ledger.days_forum_post(db, destination, day.isoformat())
        if mode == PostMode.FORUM and existing is not None:
            # One forum post per day: a later run (/feed post-now after the scheduled digest)
            # adds its papers to that post instead of opening a second one with the same name.
            thread_id, starter_id = existing
            post = ledger.update_digest(
                db, post.id, now=now, thread_id=thread_id, header_message_id=starter_id
            )
        return _Begun(run.id, post, plan.listed, plan.digest.matched, plan.reason)

    def _finish_resumed(
        self, db: sqlite_utils.Database, post: ledger.DigestPost, posted: int
    ) -> None:
        """A crashed run whose digest has now been posted counts as completed."""
        if post.run_id is None:
            return
        run = feeds_repo.last_run(db, post.target.id)
        if run is not None and run.id == post.run_id and run.state == RunState.RUNNING:
            feeds_repo.finish_run(
                db, run.id, now=self.clock(), listed=run.listed, matched=run.matched,
                posted=posted, reason=None,
            )  # fmt: skip


def _mode_for(kind: ChannelKind, *, threads_refused: bool) -> PostMode:
    """How a digest is posted in a channel of this kind (plain where threads were refused)."""
    if kind.mode == PostMode.THREAD and threads_refused:
        return PostMode.PLAIN
    return kind.mode
