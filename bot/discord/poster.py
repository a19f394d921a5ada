"""The engine's `Poster` over discord.py: it only translates calls and errors; the ledger logic
lives in `bot/delivery/`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Literal, TypeVar

import aiohttp
import discord

from bot.delivery.messages import MessageSpec
from bot.delivery.posting import (
    Blocked,
    DmChannelBook,
    DmClosed,
    Forbidden,
    NotFound,
    PostError,
    Rejected,
    Unavailable,
    carries,
)
from bot.destinations import ChannelKind
from bot.discord.channels import (
    EMBED_LINKS_REASON,
    forum_tag,
    kind_of,
    lacks_embed_links,
    timed_out_until,
)
from bot.discord.paper_buttons import paper_view
from bot.store import utcnow
from bot.store.database import Clock

log = logging.getLogger(__name__)
T = TypeVar("T")

THREAD_ALREADY_EXISTS = 160004  # "A thread has already been created for this message"
CANNOT_DM_USER = 50007
AUTO_ARCHIVE_MINUTES: Literal[1440] = 1440
HISTORY_LIMIT = 50  # a digest is at most `digest_cap` messages; the bot reads its recent ones


def allowed_mentions_for(spec: MessageSpec) -> discord.AllowedMentions:
    """Ping exactly the spec's users: never @everyone, roles, or anyone named in paper text."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        replied_user=False,
        users=[discord.Object(uid) for uid in spec.mention_user_ids],
    )


def embeds_of(spec: MessageSpec) -> list[discord.Embed]:
    """The spec's embeds as discord.py objects."""
    return [discord.Embed.from_dict(dict(e)) for e in spec.embeds]


def buttons_of(spec: MessageSpec) -> dict[str, Any]:
    """The Save / Similar / Not for me rows for the papers the spec delivers (none: no view)."""
    view = paper_view(spec.paper_ids)
    return {"view": view} if view is not None else {}


# Refusals that no retry or other message can fix: the feed waits for a person (paused), with
# Discord's words and what to do. Codes from Discord's "JSON Error Codes" table.
FEED_REFUSALS = {
    40067: "this forum requires a tag on every post and has none I can use ({text})"
    " — add a tag and run /feed resume",
    50083: "this thread is archived and locked, so I can't post in it ({text})"
    " — unlock it and run /feed resume",
    160005: "this thread is locked, so I can't post in it ({text})"
    " — unlock it and run /feed resume",
    160006: "this server has reached Discord's limit of active threads ({text})"
    " — archive some threads and run /feed resume",
}


async def _translate(call: Awaitable[T], seconds: float) -> T:
    """Await a discord.py call, classifying every failure once: see `bot.delivery.posting`."""
    try:
        return await asyncio.wait_for(call, seconds)
    except discord.Forbidden as exc:
        reason = FEED_REFUSALS.get(exc.code, "").format(text=exc.text) or None
        message = f"403 {exc.text or 'Forbidden'} (code {exc.code})"
        raise Forbidden(message, code=exc.code, reason=reason) from exc
    except discord.NotFound as exc:
        raise NotFound(f"404 {exc.text or 'Not Found'} (code {exc.code})") from exc
    except discord.HTTPException as exc:
        message = f"{exc.status} {exc.text or 'rejected'} (code {exc.code})"
        if exc.code in FEED_REFUSALS:
            reason = FEED_REFUSALS[exc.code].format(text=exc.text)
            raise Forbidden(message, code=exc.code, reason=reason) from exc
        if 400 <= exc.status < 500 and exc.status != 429:  # the payload itself is refused
            raise Rejected(message) from exc
        # 429/5xx left over after discord.py's own retries: the request may have landed
        raise Unavailable(f"{exc.status} {exc.text or 'HTTP error'}") from exc
    except TimeoutError as exc:  # asyncio.TimeoutError is TimeoutError since Python 3.11
        raise Unavailable(f"no answer from Discord within {seconds:g} s") from exc
    except aiohttp.ClientError as exc:  # the connection dropped: the request may have landed
        raise Unavailable(f"connection error: {exc!r}") from exc


def _embed_dicts(message: discord.Message) -> list[dict[str, Any]]:
    return [dict(e.to_dict()) for e in message.embeds]


class DiscordPoster:
    """`Poster` for a connected discord.py client."""

    def __init__(
        self,
        client: discord.Client,
        *,
        request_timeout: float,
        clock: Clock = utcnow,
        dm_channels: DmChannelBook | None = None,
    ) -> None:
        # discord.py sets no per-request timeout: without one a never-answered request would
        # stall a feed (PAPERBOY_DISCORD_REQUEST_TIMEOUT).
        self.client = client
        self.request_timeout = request_timeout
        self.clock = clock
        # When the bot's timeout ends, per server, as last read from Discord: the cached member
        # may be stale (no members intent), so a refusal asks the API and remembers the answer.
        self._timeouts: dict[int, datetime | None] = {}
        self.dm_channels = dm_channels
        # Channels that answered 404: the cache may be stale (a CHANNEL_DELETE missed while
        # offline), so the next `channel_kind` asks the API instead of trusting it.
        self._maybe_gone: set[int] = set()

    async def channel_kind(self, channel_id: int) -> ChannelKind | None:
        """What the channel is, or None when it is gone."""
        channel = None if channel_id in self._maybe_gone else self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await _translate(
                    self.client.fetch_channel(channel_id), self.request_timeout
                )
            except NotFound:
                return None
            self._maybe_gone.discard(channel_id)
        return kind_of(channel)

    async def blocked(self, channel_id: int, *, after_refusal: bool = False) -> Blocked | None:
        """A timeout (wait) or a missing Embed Links (pause), as far as Discord lets us know."""
        channel = self.client.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        if not isinstance(guild, discord.Guild):
            return None  # not cached: posting will tell
        now = self.clock()
        if after_refusal and self.client.user is not None:
            try:
                member = await _translate(
                    guild.fetch_member(self.client.user.id), self.request_timeout
                )
            except PostError as exc:
                log.info("Could not read my membership in %s: %s", guild.id, exc)
            else:
                self._timeouts[guild.id] = timed_out_until(member, now)
        until = self._timeouts.get(guild.id) or timed_out_until(guild.me, now)
        if until is not None and until > now:
            return Blocked("timed out", until=until)
        if not after_refusal and lacks_embed_links(channel):
            return Blocked(EMBED_LINKS_REASON)
        return None

    async def _call(self, channel_id: int, call: Awaitable[T]) -> T:
        try:
            return await _translate(call, self.request_timeout)
        except NotFound:
            self._maybe_gone.add(channel_id)
            raise

    async def send(self, channel_id: int, spec: MessageSpec) -> int:
        """Post a message with its nonce (discord.py adds enforce_nonce)."""
        target = self.client.get_partial_messageable(channel_id)
        message = await self._call(
            channel_id,
            target.send(
                content=spec.content or None,
                embeds=embeds_of(spec),
                nonce=spec.nonce,
                allowed_mentions=allowed_mentions_for(spec),
                **buttons_of(spec),
            ),
        )
        return message.id

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        """A public thread on the header message (its id equals the message id)."""
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):  # text and announcement channels
            raise NotFound(f"channel {channel_id} is not a text channel I can see")
        try:
            thread = await self._call(
                channel_id,
                channel.create_thread(
                    name=name,
                    message=discord.Object(message_id),
                    auto_archive_duration=AUTO_ARCHIVE_MINUTES,
                ),
            )
        except Rejected as exc:
            cause = exc.__cause__
            if isinstance(cause, discord.HTTPException) and cause.code == THREAD_ALREADY_EXISTS:
                return message_id  # made before a crash: a message's thread has the message's id
            raise
        return thread.id

    async def start_forum_post(
        self, channel_id: int, name: str, spec: MessageSpec, since: datetime
    ) -> tuple[int, int]:
        """The day's forum post, reusing one this bot already made for it since `since`."""
        forum = self.client.get_channel(channel_id)
        if not isinstance(forum, discord.ForumChannel):
            raise NotFound(f"channel {channel_id} is not a forum I can see")
        tag = forum_tag(forum)
        me = self.client.user.id if self.client.user else None
        for thread in forum.threads:  # forum posts have no nonce: find a post made before a crash
            created = thread.created_at
            if thread.name == name and thread.owner_id == me and created and created >= since:
                return thread.id, thread.id
        made = await self._call(
            channel_id,
            forum.create_thread(
                name=name,
                content=spec.content,
                embeds=embeds_of(spec),
                allowed_mentions=allowed_mentions_for(spec),
                auto_archive_duration=AUTO_ARCHIVE_MINUTES,
                applied_tags=[tag] if tag is not None else [],
            ),
        )
        return made.thread.id, made.message.id

    async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
        """DM a user; closed DMs raise `DmClosed`."""
        channel = await self._dm_channel(user_id)
        try:
            message = await _translate(
                channel.send(
                    content=spec.content or None,
                    embeds=embeds_of(spec),
                    nonce=spec.nonce,
                    allowed_mentions=allowed_mentions_for(spec),
                    **buttons_of(spec),
                ),
                self.request_timeout,
            )
        except Forbidden as exc:
            cause = exc.__cause__
            if isinstance(cause, discord.Forbidden) and cause.code == CANNOT_DM_USER:
                raise DmClosed(f"DMs closed (code {cause.code})") from cause
            raise
        return message.id

    async def _dm_channel(self, user_id: int) -> discord.abc.Messageable:
        """The member's DM channel: the one kept from before, else opened (and kept)."""
        known = await self.dm_channels.get(user_id) if self.dm_channels else None
        if known is not None:
            return self.client.get_partial_messageable(known, type=discord.ChannelType.private)

        async def open_dm() -> discord.DMChannel:
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            return await user.create_dm()

        channel = await _translate(open_dm(), self.request_timeout)
        if self.dm_channels is not None:
            await self.dm_channels.remember(user_id, channel.id)
        return channel

    async def find_sent(
        self, target_id: int, spec: MessageSpec, after_message_id: int | None
    ) -> int | None:
        """Our message carrying `spec` among the target's recent messages (after the given one)."""
        target = self.client.get_partial_messageable(target_id)
        return await self._call(target_id, self._search(target, spec, after_message_id))

    async def find_sent_dm(self, user_id: int, spec: MessageSpec) -> int | None:
        """Our DM carrying `spec` among the user's recent DMs."""
        channel = await self._dm_channel(user_id)
        return await _translate(self._search(channel, spec, None), self.request_timeout)

    async def _search(
        self, target: discord.abc.Messageable, spec: MessageSpec, after: int | None
    ) -> int | None:
        me = self.client.user.id if self.client.user else None
        # After a known message the history runs oldest first: a digest's own messages come first.
        history = target.history(
            limit=HISTORY_LIMIT, after=discord.Object(after) if after is not None else None
        )
        async for message in history:
            if message.author.id == me and carries(spec, message.content, _embed_dicts(message)):
                return message.id
        return None


__all__ = ["DiscordPoster", "PostError", "allowed_mentions_for"]
