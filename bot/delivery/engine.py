"""The exactly-once digest engine: plan a feed's digest, write the ledger, post it, survive faults.

Discord is reached only through the small `Poster` interface (implemented with discord.py in
`bot/discord/poster.py`), so the ledger logic is tested with a recording fake as well as end to
end. The order of work is what makes delivery exactly-once:

1. in ONE transaction: start the run, plan the digest, write a pending row per paper with the
   exact message (and its deterministic nonce) that will carry it;
2. post the header / thread, recording their ids as soon as they exist;
3. post each pending message with its nonce and mark it sent right after.

A crash anywhere leaves pending rows; the next run resumes them in the recorded thread. An
attempt whose outcome is unknown (5xx, timeout, cut connection: Discord may have created the
message) also leaves its row pending in that digest, and the digest open. Before re-sending such
a row the engine looks for it in the thread's history, because Discord's nonce dedupe is per
channel and lasts minutes only. After `MAX_ATTEMPTS` unknown outcomes a row is given up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.config import Settings
from bot.delivery.messages import MessageSpec, header_message, nonce_for, paper_message, thread_name
from bot.delivery.planner import destination_for_channel, plan_digest, window_start_for
from bot.delivery.posting import Forbidden, NotFound, Poster, PostError, Unavailable
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store.database import Clock
from bot.store.rows import rows

log = logging.getLogger(__name__)
T = TypeVar("T")

FORBIDDEN_REASON = (
    "I'm missing a permission I need to post here (View Channel, Send Messages, Embed Links,"
    " Create Public Threads or Send Messages in Threads) — fix it and run /feed resume"
)
THREAD_REFUSED_NOTE = (
    "Thread creation refused (403): digests are posted as plain messages. Give me"
    " Create Public Threads to get threads back."
)


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


class _Stop(Exception):
    """The feed was paused or disabled while posting: stop this feed's run."""


class _TargetGone(Unavailable):
    """The digest's thread (or forum post) answered 404 while its channel still exists."""


class DeliveryEngine:
    """Runs feeds' digests and DM digests exactly once, a few feeds at a time."""

    def __init__(
        self,
        store: Store,
        poster: Poster,
        settings: Settings,
        *,
        clock: Clock,
        on_feed_changed: Callable[[int], None] = lambda channel_id: None,
        max_concurrent_feeds: int = 4,
    ) -> None:
        self.store = store
        self.poster = poster
        self.settings = settings
        self.clock = clock
        # Called after a fault pauses or disables a feed so the scheduler drops its job.
        self.on_feed_changed = on_feed_changed
        # A few feeds at once keeps the bot far below Discord's global 50 requests/s.
        self._slots = asyncio.Semaphore(max_concurrent_feeds)

    # Feeds

    async def run_feed(
        self, channel_id: int, *, scheduled_for: datetime | None = None
    ) -> RunReport:
        """Resume any unfinished digest, then plan and post this run's digest."""
        async with self._slots:
            return await self._run_feed(channel_id, scheduled_for)

    async def _run_feed(self, channel_id: int, scheduled_for: datetime | None) -> RunReport:
        feed = await self.store.run(feeds_repo.get_feed, channel_id)
        if feed is None:
            return RunReport(0, 0, 0, "this channel has no feed")
        if feed.disabled:
            return RunReport(0, 0, 0, "this feed is disabled: its channel is gone")
        if feed.paused:
            return RunReport(0, 0, 0, paused_reason(feed.pause_reason))
        destination = destination_for_channel(channel_id)
        kind = await self._channel_kind(feed)
        if kind is None:
            return RunReport(0, 0, 0, "this feed is disabled: its channel is gone")
        resumed = 0
        try:
            for post in await self.store.run(ledger.open_digests, destination):
                resumed += await self._post_channel_digest(feed, post, kind, resumed=True)
                await self.store.run(self._finish_resumed, post, resumed)
            day = self.clock().astimezone(ZoneInfo(feed.timezone)).date()
            begun = await self.store.run(
                self._begin_run, channel_id, day, kind, scheduled_for, self.clock()
            )
            posted = 0
            if begun.post is not None:
                posted = await self._post_channel_digest(feed, begun.post, kind)
        except _Stop as stop:
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

    async def _channel_kind(self, feed: feeds_repo.Feed) -> str | None:
        try:
            kind = await self.poster.channel_kind(feed.channel_id)
        except PostError as exc:  # unknown yet: assume a text channel and let posting decide
            log.warning("Could not look up channel %s: %s", feed.channel_id, exc)
            kind = "text"
        if kind is None:
            await self._disable(feed.channel_id)
        return kind

    def _begin_run(
        self,
        db: sqlite_utils.Database,
        channel_id: int,
        day: date,
        kind: str,
        scheduled_for: datetime | None,
        now: datetime,
    ) -> _Begun:
        """Start the run and write the whole digest's pending rows, in one transaction."""
        window = window_start_for(db, channel_id, now)
        run = feeds_repo.start_run(
            db, channel_id=channel_id, window_start=window, now=now, scheduled_for=scheduled_for
        )
        plan = plan_digest(db, channel_id, now, cap=self.settings.digest_cap)
        assert plan is not None  # the feed exists: checked by the caller on this same thread
        destination = destination_for_channel(channel_id)
        entries = plan.digest.entries
        # Unfinished rows are resumed in their own digest, never re-planned: no entries, no header.
        if not entries:
            return _Begun(run.id, None, plan.listed, plan.digest.matched, plan.reason)
        feed = feeds_repo.get_feed(db, channel_id)
        plain = bool(feed and feed.notes == THREAD_REFUSED_NOTE)
        mode = "forum" if kind == "forum" else "plain" if plain else "thread"
        header = header_message(destination, run.id, day, entries, plan.digest.overflow)
        messages = [
            ledger.PendingMessage((e.paper.id,), spec.nonce, spec.to_json())
            for e in entries
            for spec in [paper_message(destination, e)]
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
        if mode == "forum" and (existing := _days_forum_post(db, destination, day)) is not None:
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
        run = feeds_repo.last_run(db, int(post.destination.split(":")[1]))
        if run is not None and run.id == post.run_id and run.state == "running":
            feeds_repo.finish_run(
                db, run.id, now=self.clock(), listed=run.listed, matched=run.matched,
                posted=posted, reason=None,
            )  # fmt: skip

    async def _post_channel_digest(
        self,
        feed: feeds_repo.Feed,
        post: ledger.DigestPost,
        kind: str,
        *,
        resumed: bool = False,
        rerouted: bool = False,
    ) -> int:
        """Post a digest's header/thread (if not yet) and its pending messages; count delivered."""
        channel_id = feed.channel_id
        header = MessageSpec.from_json(post.header)
        name = thread_name(date.fromisoformat(post.digest_date))
        if post.mode == "forum" and post.thread_id is None:
            since = datetime.fromisoformat(post.created_at)
            thread_id, message_id = await self._guard(
                feed, self.poster.start_forum_post(channel_id, name, header, since)
            )
            post = await self._update(post, thread_id=thread_id, header_message_id=message_id)
        if post.mode in ("thread", "plain") and post.header_message_id is None:
            # A resumed digest's header may have been created with its answer lost.
            found = None
            if resumed:
                found = await self._guard(feed, self.poster.find_sent(channel_id, header, None))
            header_id = found or await self._guard(feed, self.poster.send(channel_id, header))
            post = await self._update(post, header_message_id=header_id)
        if post.mode == "thread" and post.thread_id is None:
            assert post.header_message_id is not None
            try:
                thread_id = await self._guard(
                    feed, self.poster.start_thread(channel_id, post.header_message_id, name),
                    thread_refusal=True,
                )  # fmt: skip
                post = await self._update(post, thread_id=thread_id)
            except Forbidden:
                await self.store.run(feeds_repo.update_feed, channel_id, notes=THREAD_REFUSED_NOTE)
                post = await self._update(post, mode="plain")
        posted, gone = await self._post_pending(feed, post)
        if gone is None:
            return posted
        # 404: nothing was created there. Go on in the channel (a new post for a forum).
        log.warning("Digest %s lost its thread (%s): continuing without it", post.id, gone)
        if rerouted:  # the replacement is gone too: leave it to the next run
            return posted
        if post.mode == "forum":
            post = await self._update(post, thread_id=None, header_message_id=None)
        else:
            post = await self._update(post, mode="plain")
        return posted + await self._post_channel_digest(feed, post, kind, rerouted=True)

    async def _post_pending(
        self, feed: feeds_repo.Feed, post: ledger.DigestPost
    ) -> tuple[int, _TargetGone | None]:
        """Post the digest's pending messages in order, closing it when none are left: how many
        were delivered, and the 404 that stopped it if its thread is gone."""
        channel_id = feed.channel_id
        target = post.thread_id if post.mode in ("thread", "forum") else channel_id
        assert target is not None
        # In a thread the digest's messages follow its first message (the thread's id).
        after = post.thread_id if target != channel_id else post.header_message_id
        posted = 0
        for nonce, group in _by_message(await self.store.run(ledger.pending_for_digest, post.id)):
            spec = _spec(group[0], nonce)
            ids = [d.id for d in group]
            attempts = max(d.attempts for d in group)
            try:
                message_id = None
                if attempts:  # the last attempt's outcome is unknown: did it get through?
                    message_id = await self._guard(feed, self.poster.find_sent(target, spec, after))
                if message_id is None:
                    message_id = await self._guard(feed, self.poster.send(target, spec))
                else:
                    log.info("Delivery %s was already in %s as %s", ids, target, message_id)
            except _TargetGone as gone:
                return posted, gone
            except Unavailable as exc:
                if attempts + 1 < ledger.MAX_ATTEMPTS:
                    log.warning("Delivery to %s failed, will retry: %s", post.destination, exc)
                    await self.store.run(
                        ledger.record_attempt, ids, error=str(exc), now=self.clock()
                    )
                    break  # keep the planned order; the next run resumes here, same thread
                log.error(
                    "Gave up delivering %s to %s after %d attempts: %s",
                    [d.paper_id for d in group], post.destination, attempts + 1, exc,
                )  # fmt: skip
                await self.store.run(
                    ledger.mark_failed, ids, error=str(exc), now=self.clock(), give_up=True
                )
                continue
            await self.store.run(
                ledger.mark_sent, ids, message_id=message_id,
                thread_id=post.thread_id if target != channel_id else None, now=self.clock(),
            )  # fmt: skip
            posted += len(group)
        await self.store.run(ledger.close_if_delivered, post.id, now=self.clock())
        return posted, None

    async def _guard(
        self, feed: feeds_repo.Feed, call: Awaitable[T], *, thread_refusal: bool = False
    ) -> T:
        """Await a Discord call, turning 403/404 into a paused/disabled feed (and a stop)."""
        try:
            return await call
        except Forbidden:
            if thread_refusal:
                raise
            await self._pause_for_403(feed)
            raise _Stop(FORBIDDEN_REASON) from None
        except NotFound:
            if await self.poster.channel_kind(feed.channel_id) is None:
                await self._disable(feed.channel_id)
                raise _Stop("this feed is disabled: its channel is gone") from None
            raise _TargetGone("the digest's thread or message is gone") from None

    async def _update(self, post: ledger.DigestPost, **changes: object) -> ledger.DigestPost:
        return await self.store.run(ledger.update_digest, post.id, now=self.clock(), **changes)

    async def _pause_for_403(self, feed: feeds_repo.Feed) -> None:
        def pause(db: sqlite_utils.Database) -> bool:
            current = feeds_repo.get_feed(db, feed.channel_id)
            if current is None or current.paused:
                return False  # already paused: the owner was told then
            feeds_repo.update_feed(db, feed.channel_id, paused=True, pause_reason=FORBIDDEN_REASON)
            return True

        newly_paused = await self.store.run(pause)
        self.on_feed_changed(feed.channel_id)
        log.warning("Paused feed %s: %s", feed.channel_id, FORBIDDEN_REASON)
        if newly_paused and feed.created_by:
            notice = MessageSpec(
                content=f"Paperboy paused the paper feed in <#{feed.channel_id}>:"
                f" {FORBIDDEN_REASON}.",
                nonce=nonce_for("pause-notice", feed.channel_id, self.clock().isoformat()),
            )
            try:
                await self.poster.send_dm(feed.created_by, notice)
            except PostError as exc:  # best effort: /feed status shows the reason anyway
                log.info("Could not tell %s about the paused feed: %s", feed.created_by, exc)

    async def _disable(self, channel_id: int) -> None:
        await self.store.run(feeds_repo.update_feed, channel_id, disabled=True)
        self.on_feed_changed(channel_id)
        log.warning("Disabled feed %s: channel not found (404)", channel_id)


def _days_forum_post(
    db: sqlite_utils.Database, destination: str, day: date
) -> tuple[int, int | None] | None:
    """(thread id, starter message id) of the forum post already made there that day, if any."""
    found = rows(
        db,
        "SELECT thread_id, header_message_id FROM digest_posts WHERE destination = ?"
        " AND digest_date = ? AND mode = 'forum' AND thread_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1",
        [destination, day.isoformat()],
    )
    return (found[0]["thread_id"], found[0]["header_message_id"]) if found else None


def _by_message(deliveries: list[ledger.Delivery]) -> list[tuple[str, list[ledger.Delivery]]]:
    """Pending rows grouped by the message that carries them, in planned order."""
    groups: dict[str, list[ledger.Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault(delivery.nonce, []).append(delivery)
    return list(groups.items())


def _spec(delivery: ledger.Delivery, nonce: str) -> MessageSpec:
    if delivery.payload:
        return MessageSpec.from_json(delivery.payload)
    raise ValueError(f"delivery {delivery.id} has no stored message (nonce {nonce})")
