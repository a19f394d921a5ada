"""The Discord side of delivery: the engine's `Poster` over discord.py, and the scheduler's wiring
into the bot. Everything here only translates; the ledger logic lives in `bot/delivery.py`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeVar

import discord

from bot.delivery import DeliveryEngine, DmClosed, Forbidden, NotFound, PostError, Unavailable
from bot.digest_messages import MessageSpec
from bot.dm_delivery import DmDigester
from bot.ingest import ingest_once
from bot.scheduler import FeedScheduler

if TYPE_CHECKING:
    from bot.discord_client import PaperboyBot

log = logging.getLogger(__name__)
T = TypeVar("T")

THREAD_ALREADY_EXISTS = 160004  # "A thread has already been created for this message"
CANNOT_DM_USER = 50007
AUTO_ARCHIVE_MINUTES: Literal[1440] = 1440


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


async def _translate(call: Awaitable[T]) -> T:
    try:
        return await call
    except discord.Forbidden as exc:
        raise Forbidden(f"403 {exc.text or 'Forbidden'} (code {exc.code})") from exc
    except discord.NotFound as exc:
        raise NotFound(f"404 {exc.text or 'Not Found'} (code {exc.code})") from exc
    except discord.HTTPException as exc:  # 429/5xx left over after discord.py's own retries
        raise Unavailable(f"{exc.status} {exc.text or 'HTTP error'}") from exc


class DiscordPoster:
    """`Poster` for a connected discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        # Channels that answered 404: the cache may be stale (a CHANNEL_DELETE missed while
        # offline), so the next `channel_kind` asks the API instead of trusting it.
        self._maybe_gone: set[int] = set()

    async def channel_kind(self, channel_id: int) -> str | None:
        """'forum', 'text', or None when the channel is gone."""
        channel = None if channel_id in self._maybe_gone else self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.NotFound:
                return None
            except discord.HTTPException as exc:
                raise Unavailable(f"{exc.status} {exc.text}") from exc
            self._maybe_gone.discard(channel_id)
        return "forum" if isinstance(channel, discord.ForumChannel) else "text"

    async def _call(self, channel_id: int, call: Awaitable[T]) -> T:
        try:
            return await _translate(call)
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
            ),
        )
        return message.id

    async def start_thread(self, channel_id: int, message_id: int, name: str) -> int:
        """A public thread on the header message (its id equals the message id)."""
        channel = self.client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
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
        except Unavailable as exc:
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
            ),
        )
        return made.thread.id, made.message.id

    async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
        """DM a user; closed DMs raise `DmClosed`."""
        try:
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            channel = await user.create_dm()
            message = await channel.send(
                content=spec.content or None,
                embeds=embeds_of(spec),
                nonce=spec.nonce,
                allowed_mentions=allowed_mentions_for(spec),
            )
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM_USER:
                raise DmClosed(f"DMs closed (code {exc.code})") from exc
            raise Forbidden(f"403 {exc.text}") from exc
        except discord.NotFound as exc:
            raise NotFound(f"404 {exc.text}") from exc
        except discord.HTTPException as exc:
            raise Unavailable(f"{exc.status} {exc.text}") from exc
        return message.id


def attach_scheduler(bot: PaperboyBot) -> FeedScheduler:
    """Build the delivery engine and scheduler for `bot` and register them as a service."""
    poster = DiscordPoster(bot)
    engine = DeliveryEngine(bot.store, poster, bot.settings, clock=bot.clock)
    # DM digests go out once a day for everyone, at the default schedule (default timezone).
    dms = DmDigester(bot.store, poster, bot.settings, clock=bot.clock)

    async def ingest(source: str) -> object:
        return await ingest_once(bot.store, bot.http_session, bot.settings, source=source)

    scheduler = FeedScheduler(
        bot.store,
        bot.settings,
        engine,
        clock=bot.clock,
        ingest=ingest if bot.settings.poll_sources else None,
        dm_digests=dms.run_all,
    )
    bot.add_service(scheduler)
    return scheduler


__all__ = ["DiscordPoster", "PostError", "allowed_mentions_for", "attach_scheduler"]
