"""REST routes about the bot itself: login, the gateway, application commands, guilds and DMs.

Channel, message and thread routes live in rest.py and threads.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import permissions as p
from .commands import CommandStore
from .posting import json_response, read_body
from .state import Guild, World
from .validation import ApiError, form_error

if TYPE_CHECKING:
    from .gateway import Gateway


class GuildRoutes:
    """Handlers for the bot-authenticated routes that are not about one channel."""

    def __init__(self, world: World, commands: CommandStore, gateway: Gateway) -> None:
        self.world = world
        self.commands = commands
        self.gateway = gateway

    def routes(self) -> list[web.RouteDef]:
        """The route table (paths relative to /api/v10)."""
        app = "/applications/{application_id}"
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
            web.post("/users/@me/channels", self.open_dm),
            web.get("/guilds/{guild_id}", self.get_guild),
            web.get("/guilds/{guild_id}/channels", self.get_guild_channels),
            web.get("/guilds/{guild_id}/roles", self.get_guild_roles),
            web.get("/guilds/{guild_id}/members/{user_id}", self.get_member),
            web.get("/guilds/{guild_id}/threads/active", self.get_active_threads),
        ]

    def guild(self, request: web.Request) -> Guild:
        """The guild in the path, or 404 Unknown Guild."""
        guild = self.world.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

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
        return json_response({"url": self.gateway.url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """GET /gateway/bot: the URL, a recommended shard count and the IDENTIFY budget."""
        # events/gateway.mdx "Get Gateway Bot" and "Session Start Limit Object".
        gateway = self.gateway
        return json_response(
            {
                "url": gateway.url,
                "shards": gateway.sharding.recommended(len(self.world.guilds)),
                "session_start_limit": gateway.sharding.session_start_limit(),
            }
        )

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
