"""Helpers for the delivery and scheduler tests: a settable clock, a feed, papers, a poster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.delivery.messages import MessageSpec
from bot.delivery.posting import carries
from bot.models import Paper
from bot.store import Store
from bot.store import feeds as feeds_repo
from bot.store import subscriptions as subs_repo

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday, 09:00 in Berlin


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def paper(
    pid: str, title: str, *, sources: tuple[str, ...] = ("hf",), upvotes: int = 0, **kw
) -> Paper:
    return Paper(
        id=pid,
        title=title,
        abstract=f"We propose {title}. It works well.",
        authors=("Ada Lovelace", "Alan Turing"),
        sources=frozenset(sources),
        upvotes=upvotes,
        **kw,
    )


async def make_feed(
    store: Store,
    channel_id: int,
    *,
    created_by: int = 7,
    tz: str = "Europe/Berlin",
    schedule: str = "09:00",
    days: str = "daily",
    guild_id: int = 1,
    created: datetime = NOW,
) -> None:
    await store.run(
        feeds_repo.ensure_feed,
        channel_id=channel_id,
        guild_id=guild_id,
        schedule_time=schedule,
        timezone=tz,
        sources="hf, arxiv",
        created_by=created_by,
        now=created,
    )
    # a feed that `subscribe` created first takes these settings now
    await store.run(
        feeds_repo.update_feed, channel_id, schedule_time=schedule, timezone=tz, days=days
    )


async def subscribe(
    store: Store,
    channel_id: int,
    query: str,
    *,
    user: int | None = None,
    guild_id: int = 1,
    dm: bool = False,
) -> None:
    if not dm and await store.run(feeds_repo.get_feed, channel_id) is None:
        # subscriptions belong to their channel's feed (a foreign key); the tests that care
        # about the feed's settings call make_feed, before or after
        await make_feed(store, channel_id, guild_id=guild_id)
    if user is None:
        await store.run(
            subs_repo.add_channel,
            guild_id=guild_id,
            channel_id=channel_id,
            query=query,
            normal=query,
            added_by=7,
            now=NOW,
        )
    else:
        await store.run(
            subs_repo.add_personal,
            guild_id=guild_id,
            user_id=user,
            channel_id=None if dm else channel_id,
            query=query,
            normal=query,
            dm=dm,
            now=NOW,
        )


@dataclass
class Sent:
    channel_id: int
    spec: MessageSpec
    message_id: int


@dataclass
class RecordingPoster:
    """A `Poster` that records what would reach Discord and can fail on demand."""

    kinds: dict[int, str | None] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    threads: dict[int, tuple[int, str]] = field(default_factory=dict)  # thread id -> (parent, name)
    dms: list[tuple[int, MessageSpec]] = field(default_factory=list)
    fail_sends: list[Exception | None] = field(default_factory=list)  # consumed per send
    # Consumed per send after the message was created: Discord has it, the answer is lost.
    lose_sends: list[Exception | None] = field(default_factory=list)
    lose_dms: list[Exception | None] = field(default_factory=list)
    dm_ids: list[int] = field(default_factory=list)  # the id of each DM in `dms`
    lookups: list[tuple[int, str]] = field(default_factory=list)  # find_sent(target, nonce) calls
    fail_threads: Exception | None = None
    fail_dms: dict[int, Exception] = field(default_factory=dict)
    by_nonce: dict[str, int] = field(default_factory=dict)
    next_id: int = 1000

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def channel_kind(self, channel_id: int) -> str | None:
        return self.kinds.get(channel_id, "text")

    async def send(self, channel_id: int, spec: MessageSpec) -> int:
        if self.fail_sends:
            error = self.fail_sends.pop(0)
            if error is not None:
                raise error
        if spec.nonce in self.by_nonce:  # Discord's enforce_nonce
            return self.by_nonce[spec.nonce]
        message_id = self._id()
        self.by_nonce[spec.nonce] = message_id
        self.sent.append(Sent(channel_id, spec, message_id))
        if self.lose_sends and (lost := self.lose_sends.pop(0)) is not None:
            raise lost
        return message_id

    async def find_sent(
        self, target_id: int, spec: MessageSpec, after_message_id: int | None
    ) -> int | None:
        self.lookups.append((target_id, spec.nonce))
        for s in self.sent:  # by content, as real history (which has no nonces) allows
            later = after_message_id is None or s.message_id > after_message_id
            if s.channel_id == target_id and later and carries(spec, s.spec.content, s.spec.embeds):
                return s.message_id
        return None

    async def find_sent_dm(self, user_id: int, spec: MessageSpec) -> int | None:
        self.lookups.append((user_id, spec.nonce))
        for (uid, sent), message_id in zip(self.dms, self.dm_ids, strict=True):
            if uid == user_id and carries(spec, sent.content, sent.embeds):
                return message_id
        return None

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        if self.fail_threads is not None:
            raise self.fail_threads
        self.threads[message_id] = (channel_id, name)
        return message_id

    async def start_forum_post(self, channel_id, name, spec, since):
        thread_id = self._id()
        self.threads[thread_id] = (channel_id, name)
        self.sent.append(Sent(thread_id, spec, thread_id))
        return thread_id, thread_id

    async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
        if user_id in self.fail_dms:
            raise self.fail_dms[user_id]
        self.dms.append((user_id, spec))
        self.dm_ids.append(self._id())
        if self.lose_dms and (lost := self.lose_dms.pop(0)) is not None:
            raise lost
        return self.dm_ids[-1]

    def in_channel(self, channel_id: int) -> list[Sent]:
        return [s for s in self.sent if s.channel_id == channel_id]
