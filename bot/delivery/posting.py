"""What delivery needs from Discord: the `Poster` interface, how posting fails, and how to
recognise a message we already posted. Discord-free: `bot/discord/poster.py` implements it with
discord.py, and tests with a recording fake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.delivery.messages import MessageSpec
from bot.destinations import ChannelKind


@dataclass(frozen=True, slots=True)
class Blocked:
    """The bot can't post in a channel right now. With `until` it passes by itself (the bot is
    timed out in that server): wait, don't pause. Without it a person must act: pause."""

    reason: str
    until: datetime | None = None


class PostError(Exception):
    """Posting to Discord failed; the subclass says what that means for the delivery.

    Every Discord outcome is classified once, in the poster: delivered (no error), `Unavailable`
    (transient: check, then retry), `Rejected` (this message can never go), `Forbidden` (the feed
    needs a person), `NotFound` (gone), `Unreachable` (nobody there takes messages now).
    """


class Forbidden(PostError):
    """The feed can't post there until a person acts: 403 (a permission, a locked thread), or a
    forum's demands (40067 tag required) and limits (160006 too many active threads). `reason`,
    when set, is what `/feed status` shows; `code` is Discord's JSON error code."""

    def __init__(self, message: str, *, code: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason


class NotFound(PostError):
    """404: the channel (or thread) no longer exists."""


class Unavailable(PostError):
    """Outcome unknown (429/5xx after discord.py's retries, timeout, lost connection): retry."""


class Rejected(PostError):
    """Discord refused this payload for good (400 and other 4xx): retrying can't help."""


class Unreachable(PostError):
    """The destination takes no messages now (a member's closed DMs): skip the rest of it."""


class DmClosed(Unreachable):
    """The user does not accept DMs from the bot (403, code 50007)."""


class TargetGone(PostError):
    """The digest's thread or forum post answered 404 while its channel still exists."""


class DmChannelBook(Protocol):
    """Where the poster keeps members' DM channel ids between DMs (and restarts)."""

    async def get(self, user_id: int) -> int | None: ...

    async def remember(self, user_id: int, channel_id: int) -> None: ...


class Poster(Protocol):
    """What the engine needs from Discord; each method raises a `PostError` subclass on failure."""

    async def channel_kind(self, channel_id: int) -> ChannelKind | None:
        """What the channel is, or None when it no longer exists."""
        ...

    async def blocked(self, channel_id: int, *, after_refusal: bool = False) -> Blocked | None:
        """Why posting there can't work now, if known without trying (from the cache; after a
        refusal, asked of Discord): the bot timed out, or missing Embed Links."""
        ...

    async def send(self, channel_id: int, spec: MessageSpec) -> int:
        """Post a message (with its nonce and exact allowed mentions); returns its id."""
        ...

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        """Open a public thread on a message (or return the one it already has); its id."""
        ...

    async def start_forum_post(
        self, channel_id: int, name: str, spec: MessageSpec, since: datetime
    ) -> tuple[int, int]:
        """Create (or find, if created since `since`) a forum post: (thread id, message id)."""
        ...

    async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
        """DM a user; returns the message id."""
        ...

    async def find_sent(
        self, target_id: int, spec: MessageSpec, after_message_id: int | None
    ) -> int | None:
        """The id of a message of ours carrying `spec` in the target's recent history, if any."""
        ...

    async def find_sent_dm(self, user_id: int, spec: MessageSpec) -> int | None:
        """The id of a DM of ours carrying `spec` in the user's recent DM history, if any."""
        ...


def message_key(content: str, embeds: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """What identifies a message we posted: its embeds' URLs (titles if none), else its text."""
    if embeds:
        return tuple(str(e.get("url") or e.get("title") or "") for e in embeds)
    return (content.strip(),)


def carries(spec: MessageSpec, content: str, embeds: Sequence[Mapping[str, Any]]) -> bool:
    """True if a message with this content and these embeds is the one `spec` describes."""
    # Not the nonce: Discord does not return it in message history.
    return message_key(content, embeds) == message_key(spec.content, spec.embeds)
