"""REST routes about channels and messages: get a channel, send, list, edit and delete messages.

Who may send where follows Discord's channel resource; thread and forum-post routes (and the
archived/locked thread rules) live in threads.py; login, commands, guilds and DMs live in
rest_guilds.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import permissions as p
from .posting import edit_message, find_nonce_duplicate, json_response, make_message, read_body
from .state import CATEGORY, DM, Channel, Message, World
from .threads import Threads
from .validation import (
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    ApiError,
    fail,
    form_error,
)

DM_PERMS = (
    p.VIEW_CHANNEL | p.SEND_MESSAGES | p.EMBED_LINKS | p.ATTACH_FILES | p.READ_MESSAGE_HISTORY
)


class Rest:
    """Handlers for the bot-authenticated REST API."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.nonce_window = 300.0
        self.threads = Threads(self)

    def routes(self) -> list[web.RouteDef]:
        """The route table (paths relative to /api/v10)."""
        chan = "/channels/{channel_id}"
        return [
            web.get(chan, self.get_channel),
            web.post(chan + "/messages", self.post_message),
            web.get(chan + "/messages", self.get_messages),
            web.get(chan + "/messages/{message_id}", self.get_message),
            web.patch(chan + "/messages/{message_id}", self.patch_message),
            web.delete(chan + "/messages/{message_id}", self.delete_message),
            web.post(chan + "/messages/{message_id}/threads", self.threads.thread_from_message),
            web.post(chan + "/threads", self.threads.thread_without_message),
            web.post(chan + "/typing", self.no_content),
            web.put(chan + "/thread-members/@me", self.no_content),
            web.put(chan + "/messages/{message_id}/reactions/{emoji}/@me", self.no_content),
        ]

    # -- helpers ---------------------------------------------------------------------------
    def bot_perms(self, channel: Channel) -> int:
        """The bot's permissions in a channel (DMs: the usual DM set)."""
        if channel.guild is None:
            return DM_PERMS
        return channel.guild.bot_member.permissions_in(channel)

    def channel(self, request: web.Request, *, need: int = 0) -> Channel:
        """The channel in the path; 404/403 like Discord when unknown, invisible or forbidden."""
        try:
            channel = self.world.channels[int(request.match_info["channel_id"])]
        except (KeyError, ValueError):
            raise fail(UNKNOWN_CHANNEL) from None
        perms = self.bot_perms(channel)
        if not perms & p.VIEW_CHANNEL:
            raise fail(MISSING_ACCESS)
        if perms & need != need:
            raise fail(MISSING_PERMISSIONS)
        return channel

    def message(self, channel: Channel, raw: str) -> Message:
        """A live message of this channel, or 404 Unknown Message."""
        try:
            message = self.world.messages[int(raw)]
        except (KeyError, ValueError):
            raise fail(UNKNOWN_MESSAGE) from None
        if message.channel is not channel or message.deleted or message.ephemeral:
            raise fail(UNKNOWN_MESSAGE)
        return message

    async def no_content(self, request: web.Request) -> web.Response:
        """Accept and ignore (typing, joining threads, reactions)."""
        self.channel(request)
        return web.Response(status=204)

    # -- channels and messages ---------------------------------------------------------------
    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        return json_response(self.world.wire.channel(self.channel(request)))

    def send_permission(self, channel: Channel, body: dict[str, Any]) -> int:
        """The bot's permissions in `channel`; 403 unless it may post this body there."""
        perms = self.bot_perms(channel)
        need = p.SEND_MESSAGES_IN_THREADS if channel.is_thread else p.SEND_MESSAGES
        if body.get("embeds") and not perms & p.EMBED_LINKS:
            # Without Embed Links, embeds alone are refused (403 50013) but a message that has
            # something else goes through with its embeds dropped, as reported against the live
            # API in discord/discord-api-docs#2601 (the docs pages do not describe it).
            if body.get("content") or body.get("components") or body.get("_files"):
                body["embeds"] = []
            else:
                need |= p.EMBED_LINKS
        if body.get("_files"):
            need |= p.ATTACH_FILES
        if perms & need != need:
            raise fail(MISSING_PERMISSIONS)
        return perms

    async def post_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages."""
        channel = self.channel(request)
        body = await read_body(request)
        # resources/channel.mdx "Channel Types": forum and media channels "can only contain
        # threads" (posts go through POST /channels/{id}/threads) and a category holds nothing;
        # voice and stage channels have a text chat that takes messages.
        if channel.is_forum or channel.type == CATEGORY:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        perms = self.send_permission(channel, body)
        if channel.type == DM:
            self._check_dm_allowed(channel)
        if channel.is_thread:
            self.threads.before_send(channel, perms)
        # resources/message.mdx "Create Message": with enforce_nonce, a nonce the same author
        # used in the past few minutes returns that message instead of creating another.
        if body.get("enforce_nonce"):
            nonce = body.get("nonce")
            found = find_nonce_duplicate(
                self.world, channel, self.world.bot_user, nonce, self.nonce_window
            )
            if found is not None:
                return json_response(self.world.wire.message(found))
        replied = self._replied(channel, body.get("message_reference"))
        message = make_message(
            self.world, channel, self.world.bot_user, body, author_perms=perms, replied=replied
        )
        return json_response(self.world.wire.message(message))

    def _replied(self, channel: Channel, ref: dict[str, Any] | None) -> Message | None:
        if not ref or not ref.get("message_id"):
            return None
        found = self.world.messages.get(int(ref["message_id"]))
        if found is None or found.deleted or found.channel is not channel:
            if ref.get("fail_if_not_exists", True):
                raise form_error(
                    {
                        "message_reference": {
                            "_errors": [
                                {
                                    "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                    "message": "Unknown message",
                                }
                            ]
                        }
                    }
                )
            return None
        return found

    def _check_dm_allowed(self, channel: Channel) -> None:
        # topics/opcodes-and-status-codes.mdx 50007 "Cannot send messages to this user": DMs
        # closed by the user, or no guild in common with the bot.
        user = channel.recipients[0]
        shares_guild = any(user.id in g.members for g in self.world.guilds.values())
        if not user.accepts_dms or not shares_guild:
            raise ApiError(403, 50007, "Cannot send messages to this user")

    async def get_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages (newest first; empty without Read Message History)."""
        # resources/message.mdx "Get Channel Messages": without READ_MESSAGE_HISTORY "no
        # messages will be returned"; `limit` is 1-100 (default 50).
        channel = self.channel(request)
        if not self.bot_perms(channel) & p.READ_MESSAGE_HISTORY:
            return json_response([])
        limit = max(1, min(int(request.query.get("limit", 50)), 100))
        found = [m for m in self.world.channel_messages(channel) if not m.ephemeral]
        if before := request.query.get("before"):
            found = [m for m in found if m.id < int(before)]
        if after := request.query.get("after"):
            found = [m for m in found if m.id > int(after)]
            found = found[:limit]
        found = sorted(found, key=lambda m: m.id, reverse=True)[:limit]
        return json_response([self.world.wire.message(m) for m in found])

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /channels/{cid}/messages/{mid}."""
        channel = self.channel(request, need=p.READ_MESSAGE_HISTORY)
        message = self.message(channel, request.match_info["message_id"])
        return json_response(self.world.wire.message(message))

    async def patch_message(self, request: web.Request) -> web.Response:
        """PATCH /channels/{cid}/messages/{mid} (only the author may change content)."""
        channel = self.channel(request)
        message = self.message(channel, request.match_info["message_id"])
        if message.author is not self.world.bot_user:
            # resources/message.mdx "Edit Message": only the author may edit content.
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        body = await read_body(request)
        edit_message(self.world, message, body, author_perms=self.bot_perms(channel))
        return json_response(self.world.wire.message(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /channels/{cid}/messages/{mid}."""
        channel = self.channel(request)
        message = self.message(channel, request.match_info["message_id"])
        if (
            message.author is not self.world.bot_user
            and not self.bot_perms(channel) & p.MANAGE_MESSAGES
        ):
            raise fail(MISSING_PERMISSIONS)
        message.deleted = True
        payload = {"id": str(message.id), "channel_id": str(channel.id)}
        if channel.guild is not None:
            payload["guild_id"] = str(channel.guild.id)
        self.world.emit("MESSAGE_DELETE", payload, channel.guild)
        return web.Response(status=204)
