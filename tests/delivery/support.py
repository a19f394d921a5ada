"""The delivery and scheduler tests' stand-in for Discord: a `Poster` that records what it would
send and fails on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.delivery.messages import MessageSpec
from bot.delivery.posting import Blocked, carries
from bot.destinations import ChannelKind


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
    blocks: dict[int, Blocked] = field(default_factory=dict)  # what `blocked` answers, per channel
    block_checks: list[tuple[int, bool]] = field(default_factory=list)

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def channel_kind(self, channel_id: int) -> ChannelKind | None:
        kind = self.kinds.get(channel_id, "text")
        return None if kind is None else ChannelKind(kind)

    async def blocked(self, channel_id: int, *, after_refusal: bool = False) -> Blocked | None:
        self.block_checks.append((channel_id, after_refusal))
        return self.blocks.get(channel_id)

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
