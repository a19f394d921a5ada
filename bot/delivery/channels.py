"""Posting a digest into a feed's channel: what differs from a DM is only where messages go.

A digest in a text channel is a header message with a thread started on it (or, where Discord
refused the thread, header and papers straight in the channel); in a forum it is one post a day.
This module opens those places (recording each id in the ledger as soon as it exists), then
hands the papers to the shared exactly-once loop through a `ChannelOutbox`. A 403 pauses the feed
(and tells its creator once), a 404 on the channel disables it; both go through `FeedChanges`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypeVar

from bot.delivery.exactly_once import deliver_pending
from bot.delivery.messages import MessageSpec, nonce_for, thread_name
from bot.delivery.posting import (
    Forbidden,
    NotFound,
    Poster,
    PostError,
    Rejected,
    TargetGone,
    Unavailable,
)
from bot.destinations import ChannelKind, PostMode
from bot.feed_changes import FeedChanges
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store.database import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")

THREAD_CAP_CODE = 160006  # "Maximum number of active threads reached"

FORBIDDEN_REASON = (
    "I'm missing a permission I need to post here (View Channel, Send Messages, Embed Links,"
    " Create Public Threads or Send Messages in Threads) — fix it and run /feed resume"
)
THREAD_REFUSED_NOTE = (
    "Thread creation refused (403): digests are posted as plain messages. Give me"
    " Create Public Threads to get threads back."
)
CHANNEL_GONE = "this feed is disabled: its channel is gone"
THREAD_CAP_NOTE = "this server has reached Discord's limit of active threads"


def timed_out_text(until: datetime) -> str:
    """Why a run posted nothing while the bot is timed out (the feed is not paused)."""
    return (
        f"I'm timed out in this server until <t:{int(until.timestamp())}:f>;"
        " the first run after that posts as usual"
    )


class StopFeed(Exception):
    """The feed was paused or disabled while posting: stop this feed's run (str: why)."""


def feed_notes(feed: feeds_repo.Feed) -> str | None:
    """What `/feed status` notes about how the feed posts, if anything."""
    notes = [n for n in (THREAD_REFUSED_NOTE if feed.threads_refused else None, feed.notes) if n]
    return "\n".join(notes) or None


@dataclass(frozen=True, slots=True)
class ChannelOutbox:
    """A channel digest's messages go to its thread (or forum post), else to the channel."""

    poster: Poster
    guard: _Guard
    target: int
    thread_id: int | None
    after: int | None  # history is searched after this message: the digest's first

    async def send(self, spec: MessageSpec) -> int:
        return await self.guard(self.poster.send(self.target, spec))

    async def find_sent(self, spec: MessageSpec) -> int | None:
        return await self.guard(self.poster.find_sent(self.target, spec, self.after))


class _Guard:
    """Awaits a Discord call for a feed, turning 403 into a pause and 404 into a disable or a
    `TargetGone` (the thread vanished, the channel did not)."""

    def __init__(self, posting: ChannelPosting, feed: feeds_repo.Feed) -> None:
        self.posting = posting
        self.feed = feed

    async def __call__(self, call: Awaitable[T], *, thread_refusal: bool = False) -> T:
        try:
            return await call
        except Forbidden as refusal:
            blocked = await self.posting.poster.blocked(self.feed.channel_id, after_refusal=True)
            if blocked is not None and blocked.until is not None:  # timed out: wait, don't pause
                raise StopFeed(timed_out_text(blocked.until)) from None
            if thread_refusal:
                raise
            reason = refusal.reason or (blocked.reason if blocked else None) or FORBIDDEN_REASON
            await self.posting.pause(self.feed, reason)
            raise StopFeed(reason) from None
        except NotFound:
            if await self.posting.poster.channel_kind(self.feed.channel_id) is None:
                await self.posting.disable(self.feed.channel_id)
                raise StopFeed(CHANNEL_GONE) from None
            raise TargetGone("the digest's thread or message is gone") from None


class ChannelPosting:
    """Posts channel digests recorded in the ledger; counts the papers delivered."""

    def __init__(self, store: Store, poster: Poster, changes: FeedChanges, *, clock: Clock) -> None:
        self.store = store
        self.poster = poster
        self.changes = changes
        self.clock = clock

    async def check_blocked(self, feed: feeds_repo.Feed) -> str | None:
        """Why the feed can't post now, known without trying: timed out (wait) or a missing
        permission Discord would not refuse outright (pause); None when it can try."""
        blocked = await self.poster.blocked(feed.channel_id)
        if blocked is None:
            return None
        if blocked.until is not None:
            return timed_out_text(blocked.until)
        await self.pause(feed, blocked.reason)
        return blocked.reason

    async def channel_kind(self, feed: feeds_repo.Feed) -> ChannelKind | None:
        """The feed channel's kind; None (and the feed disabled) when it is gone."""
        try:
            kind = await self.poster.channel_kind(feed.channel_id)
        except PostError as exc:  # unknown yet: assume a text channel and let posting decide
            log.warning("Could not look up channel %s: %s", feed.channel_id, exc)
            kind = ChannelKind.TEXT
        if kind is None:
            await self.disable(feed.channel_id)
        return kind

    async def post(
        self,
        feed: feeds_repo.Feed,
        post: ledger.DigestPost,
        *,
        resumed: bool = False,
        rerouted: bool = False,
    ) -> int:
        """Open the digest's header/thread/post (if not yet), then deliver its pending papers."""
        guard = _Guard(self, feed)
        try:
            post = await self._open(guard, feed, post, resumed=resumed)
        except Rejected as exc:  # Discord will never take this header: don't block later digests
            log.error("Digest %s for %s can't be opened: %s", post.id, feed.channel_id, exc)
            await self.store.run(ledger.fail_digest, post.id, error=str(exc), now=self.clock())
            return 0
        except Unavailable as exc:  # no answer: the next run tries again, a few times at most
            tries = await self.store.run(ledger.count_open_attempt, post.id, now=self.clock())
            if tries < ledger.MAX_ATTEMPTS:
                raise
            log.error("Gave up opening digest %s after %d tries: %s", post.id, tries, exc)
            await self.store.run(ledger.fail_digest, post.id, error=str(exc), now=self.clock())
            return 0
        except TargetGone as gone:  # e.g. 10008: the header was deleted before its thread began
            if rerouted:
                raise
            log.warning("Digest %s lost its header (%s): posting a new one", post.id, gone)
            # A fresh nonce: Discord would answer the old one with the deleted message.
            old = MessageSpec.from_json(post.header)
            header = replace(old, nonce=nonce_for(old.nonce, "posted again"))
            post = await self._update(
                post, header=header.to_json(), header_message_id=None, thread_id=None
            )
            return await self.post(feed, post, rerouted=True)
        channel_id = feed.channel_id
        in_thread = post.mode in (PostMode.THREAD, PostMode.FORUM)
        target = post.thread_id if in_thread else channel_id
        assert target is not None
        outbox = ChannelOutbox(
            self.poster,
            guard,
            target,
            thread_id=post.thread_id if in_thread else None,
            # In a thread the digest's messages follow its first message (the thread's id).
            after=post.thread_id if in_thread else post.header_message_id,
        )
        progress = await deliver_pending(self.store, self.clock, post, outbox)
        if progress.gone is None:
            return progress.papers
        # 404: nothing was created there. Go on in the channel (a new post for a forum).
        log.warning("Digest %s lost its thread (%s): continuing without it", post.id, progress.gone)
        if rerouted:  # the replacement is gone too: leave it to the next run
            return progress.papers
        if post.mode == PostMode.FORUM:
            post = await self._update(post, thread_id=None, header_message_id=None)
        else:
            post = await self._update(post, mode=PostMode.PLAIN)
        return progress.papers + await self.post(feed, post, rerouted=True)

    async def _open(
        self, guard: _Guard, feed: feeds_repo.Feed, post: ledger.DigestPost, *, resumed: bool
    ) -> ledger.DigestPost:
        channel_id = feed.channel_id
        header = MessageSpec.from_json(post.header)
        name = thread_name(date.fromisoformat(post.digest_date))
        if post.mode == PostMode.FORUM and post.thread_id is None:
            since = datetime.fromisoformat(post.created_at)
            thread_id, message_id = await guard(
                self.poster.start_forum_post(channel_id, name, header, since)
            )
            post = await self._update(post, thread_id=thread_id, header_message_id=message_id)
        if post.mode in (PostMode.THREAD, PostMode.PLAIN) and post.header_message_id is None:
            # A resumed digest's header may have been created with its answer lost.
            found = (
                await guard(self.poster.find_sent(channel_id, header, None)) if resumed else None
            )
            header_id = found or await guard(self.poster.send(channel_id, header))
            post = await self._update(post, header_message_id=header_id)
        if post.mode == PostMode.THREAD and post.thread_id is None:
            assert post.header_message_id is not None
            try:
                thread_id = await guard(
                    self.poster.start_thread(channel_id, post.header_message_id, name),
                    thread_refusal=True,
                )
                post = await self._update(post, thread_id=thread_id)
            except Forbidden as refusal:
                if refusal.code != THREAD_CAP_CODE:  # refused for good: remember it
                    await self.changes.apply(
                        channel_id, feeds_repo.update_feed, channel_id, threads_refused=True
                    )
                else:  # too many active threads in the server: plain this time only
                    log.warning("Feed %s: %s; posting plain", channel_id, THREAD_CAP_NOTE)
                post = await self._update(post, mode=PostMode.PLAIN)
        return post

    async def _update(self, post: ledger.DigestPost, **changes: object) -> ledger.DigestPost:
        return await self.store.run(ledger.update_digest, post.id, now=self.clock(), **changes)

    async def pause(self, feed: feeds_repo.Feed, reason: str) -> None:
        """Pause the feed with the reason; its creator is DMed once, when it becomes paused."""
        newly_paused = await self.changes.apply(
            feed.channel_id, feeds_repo.pause_feed, feed.channel_id, reason=reason
        )
        log.warning("Paused feed %s: %s", feed.channel_id, reason)
        if newly_paused and feed.created_by:
            notice = MessageSpec(
                content=f"Paperboy paused the paper feed in <#{feed.channel_id}>: {reason}.",
                nonce=nonce_for("pause-notice", feed.channel_id, self.clock().isoformat()),
            )
            try:
                await self.poster.send_dm(feed.created_by, notice)
            except PostError as exc:  # best effort: /feed status shows the reason anyway
                log.info("Could not tell %s about the paused feed: %s", feed.created_by, exc)

    async def disable(self, channel_id: int) -> None:
        """The channel is gone (404): stop scheduling its feed."""
        await self.changes.apply(channel_id, feeds_repo.update_feed, channel_id, disabled=True)
        log.warning("Disabled feed %s: channel not found (404)", channel_id)
