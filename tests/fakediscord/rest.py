"""REST routes the bot calls with its token: login, commands, channels, messages, DMs.

Thread and forum-post routes live in threads.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import permissions as p
from .commands import CommandStore
from .posting import edit_message, find_nonce_duplicate, json_response, make_message, read_body
from .state import DM, FORUM, Channel, Message, World
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

    def __init__(self, world: World, commands: CommandStore, gateway_url: Any) -> None:
        self.world = world
        self.commands = commands
        self.gateway_url = gateway_url  # callable returning the ws:// URL
        self.nonce_window = 300.0
        self.threads = Threads(self)

    def routes(self) -> list[web.RouteDef]:
        """The route table (paths relative to /api/v10)."""
        app = "/applications/{application_id}"
        chan = "/channels/{channel_id}"
        return [
            web.get("/users/@me", self.get_me),
            web.get("/users/@me/guilds", self.get_my_guilds),
            web.get("/users/{user_id}", self.get_user),
            web.get("/oauth2/applications/@me", self.get_application),
            web.get("/applications/@me", self.get_application),
            web.get("/gateway", self.get_gateway),
            web.get("/gateway/bot", self.get_gateway_bot),
            web.put(app + "/commands", self.put_commands),
            web.get(app + "/commands", self.get_commands),
            web.post(app + "/commands", self.post_command),
            web.delete(app + "/commands/{command_id}", self.delete_command),
            web.put(app + "/guilds/{guild_id}/commands", self.put_commands),
            web.get(app + "/guilds/{guild_id}/commands", self.get_commands),
            web.post(app + "/guilds/{guild_id}/commands", self.post_command),
            web.delete(app + "/guilds/{guild_id}/commands/{command_id}", self.delete_command),
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
            web.post("/users/@me/channels", self.open_dm),
            web.get("/guilds/{guild_id}", self.get_guild),
            web.get("/guilds/{guild_id}/channels", self.get_guild_channels),
            web.get("/guilds/{guild_id}/roles", self.get_guild_roles),
            web.get("/guilds/{guild_id}/members/{user_id}", self.get_member),
            web.get("/guilds/{guild_id}/threads/active", self.get_active_threads),
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

    def guild(self, request: web.Request) -> Any:
        """The guild in the path, or 404 Unknown Guild."""
        guild = self.world.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    async def no_content(self, request: web.Request) -> web.Response:
        """Accept and ignore (typing, joining threads, reactions)."""
        self.channel(request)
        return web.Response(status=204)

    # -- login -----------------------------------------------------------------------------
    async def get_me(self, request: web.Request) -> web.Response:
        """GET /users/@me."""
        me = self.world.wire.user(self.world.bot_user)
        return json_response(me | {"verified": True, "mfa_enabled": False, "locale": "en-US"})

    async def get_my_guilds(self, request: web.Request) -> web.Response:
        """GET /users/@me/guilds: partial guilds the bot is in, with its base permissions.

        docs.discord.com/developers/resources/user#get-current-user-guilds: id, name, icon,
        owner, permissions (a string: the member's permissions without channel overwrites),
        features; sorted by id, `limit` 1-200 (default 200), paged with `after`/`before`.
        """
        limit = max(1, min(int(request.query.get("limit", 200)), 200))
        after = int(request.query.get("after", 0))
        guilds = sorted((g for g in self.world.guilds.values() if g.id > after), key=lambda g: g.id)
        me = self.world.bot_user
        return json_response(
            [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "banner": None,
                    "owner": g.owner_id == me.id,
                    "permissions": str(p.base_permissions(g.bot_member)),
                    "features": [],
                }
                for g in guilds[:limit]
            ]
        )

    async def get_user(self, request: web.Request) -> web.Response:
        """GET /users/{id}."""
        user = self.world.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return json_response(self.world.wire.user(user))

    async def get_application(self, request: web.Request) -> web.Response:
        """GET /oauth2/applications/@me: the application that owns the bot."""
        bot = self.world.bot_user
        owner = next(iter(g.owner_id for g in self.world.guilds.values()), bot.id)
        owner_user = self.world.users.get(owner, bot)
        return json_response(
            {
                "id": str(bot.id),
                "name": bot.username,
                "description": "Fake Discord application",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.world.wire.user(owner_user),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "summary": "",
                "rpc_origins": [],
                "bot": self.world.wire.user(bot),
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        """GET /gateway."""
        return json_response({"url": self.gateway_url()})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """GET /gateway/bot (used by AutoShardedClient)."""
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url(), "shards": 1, "session_start_limit": limit})

    # -- application commands ----------------------------------------------------------------
    def _scope(self, request: web.Request) -> int | None:
        if request.match_info["application_id"] != str(self.world.bot_user.id):
            raise ApiError(403, 50001, "Missing Access")
        raw = request.match_info.get("guild_id")
        if raw is None:
            return None
        return int(self.guild(request).id)

    async def put_commands(self, request: web.Request) -> web.Response:
        """PUT …/commands: bulk overwrite."""
        scope = self._scope(request)
        body = await request.json()
        if not isinstance(body, list):
            raise form_error(
                {"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Must be a list"}]}
            )
        return json_response(self.commands.overwrite(scope, body))

    async def get_commands(self, request: web.Request) -> web.Response:
        """GET …/commands."""
        return json_response(self.commands.listing(self._scope(request)))

    async def post_command(self, request: web.Request) -> web.Response:
        """POST …/commands: upsert one."""
        scope = self._scope(request)
        return json_response(self.commands.upsert(scope, await request.json()), status=201)

    async def delete_command(self, request: web.Request) -> web.Response:
        """DELETE …/commands/{id}."""
        if not self.commands.delete(self._scope(request), request.match_info["command_id"]):
            raise ApiError(404, 10063, "Unknown application command")
        return web.Response(status=204)

    # -- channels and messages ---------------------------------------------------------------
    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        return json_response(self.world.wire.channel(self.channel(request)))

    def send_permission(self, channel: Channel, body: dict[str, Any]) -> int:
        """The bot's permissions in `channel`; 403 unless it may post this body there."""
        perms = self.bot_perms(channel)
        need = p.SEND_MESSAGES_IN_THREADS if channel.is_thread else p.SEND_MESSAGES
        if body.get("embeds"):
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
        if channel.type == FORUM:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        perms = self.send_permission(channel, body)
        if channel.type == DM:
            self._check_dm_allowed(channel)
        if channel.is_thread and channel.archived:
            if channel.locked:
                raise ApiError(400, 50083, "Thread is archived")
            channel.archived = False
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
        user = channel.recipients[0]
        shares_guild = any(user.id in g.members for g in self.world.guilds.values())
        if not user.accepts_dms or not shares_guild:
            raise ApiError(403, 50007, "Cannot send messages to this user")

    async def get_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages (newest first; empty without Read Message History)."""
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

    # -- DMs and guilds ------------------------------------------------------------------------
    async def open_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels {recipient_id}."""
        body = await read_body(request)
        user = self.world.users.get(int(body.get("recipient_id") or 0))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return json_response(self.world.wire.channel(self.world.dm_channel(user)))

    async def get_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}."""
        data = self.world.wire.guild_create(self.guild(request))
        for key in ("channels", "threads", "members", "voice_states", "presences"):
            data.pop(key)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels (no threads, like Discord)."""
        guild = self.guild(request)
        return json_response([self.world.wire.channel(c) for c in guild.text_channels])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles."""
        return json_response([self.world.wire.role(r) for r in self.guild(request).roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        """GET /guilds/{gid}/members/{uid}."""
        member = self.guild(request).members.get(int(request.match_info["user_id"]))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return json_response(self.world.wire.member(member))

    async def get_active_threads(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/threads/active."""
        threads = [t for t in self.guild(request).threads if not t.archived]
        return json_response(
            {"threads": [self.world.wire.channel(t) for t in threads], "members": []}
        )
