"""Where papers go and the states of getting them there, as types: a `Destination` (a channel or a
member's DMs) and the enums the ledger and the engine decide by. Nothing here decides anything by
comparing text shown to people; the store keeps these values as their string forms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DestinationKind(StrEnum):
    """What receives a digest."""

    CHANNEL = "channel"
    DM = "dm"


class PostMode(StrEnum):
    """How a digest's messages are addressed."""

    THREAD = "thread"  # header in the channel, papers in a thread started on it
    PLAIN = "plain"  # header and papers straight in the channel (no thread possible or allowed)
    FORUM = "forum"  # one forum post a day, papers as its messages
    DM = "dm"  # DMs to one member, papers batched up to 10 embeds per message


class ChannelKind(StrEnum):
    """What a feed's channel is, as far as posting a digest there is concerned."""

    TEXT = "text"  # type 0
    ANNOUNCEMENT = "announcement"  # type 5: its threads are announcement threads (type 10)
    FORUM = "forum"  # type 15
    MEDIA = "media"  # type 16: posts like a forum's
    THREAD = "thread"  # types 10, 11, 12: no thread can start inside one
    VOICE = "voice"  # types 2 and 13: the text chat of a voice or stage channel

    @property
    def mode(self) -> PostMode:
        """How a digest is posted here (before any refusal changes it)."""
        if self in (ChannelKind.FORUM, ChannelKind.MEDIA):
            return PostMode.FORUM
        if self in (ChannelKind.THREAD, ChannelKind.VOICE):
            return PostMode.PLAIN
        return PostMode.THREAD

    def describe_digest(self) -> str:
        """The form a digest takes here, in words for a reply."""
        mode = self.mode
        if mode == PostMode.FORUM:
            return "one post a day in this forum, one message per paper"
        if mode == PostMode.PLAIN:
            return "a header message and one message per paper, right here (no thread)"
        return "a header message with a thread holding one message per paper"


class DeliveryState(StrEnum):
    """A paper's delivery to a destination: pending until sent, or failed for good."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class DigestState(StrEnum):
    """A digest stays open while any of its deliveries is pending."""

    OPEN = "open"
    DONE = "done"


class RunState(StrEnum):
    """A feed's (or a member's DM) run: running until it records how it ended."""

    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Destination:
    """A channel or a member's DMs; `key` is how the deliveries ledger names it."""

    kind: DestinationKind
    id: int

    @classmethod
    def channel(cls, channel_id: int) -> Destination:
        """A channel's (or thread's, or forum's) digest."""
        return cls(DestinationKind.CHANNEL, channel_id)

    @classmethod
    def dm(cls, user_id: int) -> Destination:
        """A member's DM digest."""
        return cls(DestinationKind.DM, user_id)

    @classmethod
    def parse(cls, key: str) -> Destination:
        """The destination a ledger key names (`channel:123`, `dm:456`)."""
        kind, _, ident = key.partition(":")
        return cls(DestinationKind(kind), int(ident))

    @property
    def key(self) -> str:
        """The ledger key: stable, and what existing rows already hold."""
        return f"{self.kind}:{self.id}"

    def __str__(self) -> str:
        return self.key
