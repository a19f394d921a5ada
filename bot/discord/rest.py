"""What `paperboy doctor` asks Discord over REST only (no gateway session, so it never disturbs a
running bot): who the token belongs to, which servers the bot is in, and the bot's effective
permissions in each feed channel, computed as Discord documents it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discord.runner import bot_permissions, point_discord_at

# Without this discord.py sleeps through any rate limit, however long; doctor should rather fail.
MAX_RATE_LIMIT_WAIT = 10.0
FORUM = 15  # channel type GUILD_FORUM


class TokenProblem(Exception):
    """The token is missing or Discord refused it; `str()` says which."""


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """The bot's standing in one feed channel."""

    channel_id: int
    name: str | None = None
    missing: tuple[str, ...] = ()  # permission names the feed needs and the bot lacks
    problem: str | None = None  # channel gone, server left, not visible, Discord error


@dataclass(frozen=True, slots=True)
class DiscordView:
    """The application, the servers the bot is in and its access to each feed channel."""

    application_id: int
    application_name: str
    bot_name: str
    guilds: dict[int, str] = field(default_factory=dict)
    channels: dict[int, ChannelAccess] = field(default_factory=dict)


def permission_names(value: int) -> tuple[str, ...]:
    """Display names ("Embed Links") of the permission bits set in `value`."""
    flags = discord.Permissions(value)
    return tuple(name.replace("_", " ").title() for name, on in flags if on)


def needed_permissions(channel_type: int) -> int:
    """What a feed needs in a channel of this type: a forum posts its digest as a new post."""
    need = bot_permissions()
    if channel_type == FORUM:
        need.create_public_threads = False  # a forum post is a thread made by Send Messages
    return need.value


def effective_permissions(
    guild: dict[str, Any], member: dict[str, Any], channel: dict[str, Any]
) -> int:
    """The member's permissions in the channel: base role permissions, then the channel's
    @everyone, role and member overwrites in that order (Discord's "Permission Overwrites")."""
    everything = discord.Permissions.all().value
    guild_id = str(guild["id"])
    user_id = str(member["user"]["id"])
    if str(guild.get("owner_id")) == user_id:
        return everything
    roles = {str(r["id"]): int(r["permissions"]) for r in guild.get("roles", [])}
    mine = {str(r) for r in member.get("roles", [])}
    base = roles.get(guild_id, 0)
    for role_id in mine:
        base |= roles.get(role_id, 0)
    if base & discord.Permissions(administrator=True).value:
        return everything
    overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites", [])}
    if everyone := overwrites.get(guild_id):
        base = (base & ~int(everyone["deny"])) | int(everyone["allow"])
    allow = deny = 0
    for role_id in mine:
        if found := overwrites.get(role_id):
            allow, deny = allow | int(found["allow"]), deny | int(found["deny"])
    base = (base & ~deny) | allow
    if own := overwrites.get(user_id):
        base = (base & ~int(own["deny"])) | int(own["allow"])
    return base


async def inspect(
    token: str, api_url: str, gateway_url: str, feeds: Iterable[tuple[int, int]]
) -> DiscordView:
    """Ask Discord about the token and each (guild id, channel id) feed; `TokenProblem` if the
    token is not accepted."""
    point_discord_at(api_url, gateway_url)
    http = discord.http.HTTPClient(
        asyncio.get_running_loop(), max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT
    )
    try:
        try:
            me = await http.static_login(token)
        except discord.LoginFailure:
            raise TokenProblem("Discord rejected the token (401)") from None
        app = await http.application_info()
        guilds = {int(g["id"]): g["name"] for g in await http.get_guilds(200)}
        view = DiscordView(int(app["id"]), app["name"], me["username"], guilds)
        cache: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        for guild_id, channel_id in feeds:
            view.channels[channel_id] = await _channel_access(
                http, guild_id, channel_id, int(me["id"]), guilds, cache
            )
        return view
    finally:
        await http.close()


async def _channel_access(
    http: discord.http.HTTPClient,
    guild_id: int,
    channel_id: int,
    bot_id: int,
    guilds: dict[int, str],
    cache: dict[int, tuple[dict[str, Any], dict[str, Any]]],
) -> ChannelAccess:
    if guild_id not in guilds:
        return ChannelAccess(channel_id, problem="the bot is not in this server any more")
    try:
        channel = await http.get_channel(channel_id)
        if guild_id not in cache:
            cache[guild_id] = (
                dict(await http.get_guild(guild_id)),
                dict(await http.get_member(guild_id, bot_id)),
            )
    except discord.NotFound:
        return ChannelAccess(channel_id, problem="the channel no longer exists")
    except discord.Forbidden:
        return ChannelAccess(
            channel_id, missing=("View Channel",), problem="the bot cannot see this channel"
        )
    except discord.HTTPException as exc:
        return ChannelAccess(channel_id, problem=f"Discord answered {exc.status}: {exc.text}")
    have = effective_permissions(*cache[guild_id], dict(channel))
    need = needed_permissions(int(channel["type"]))
    return ChannelAccess(channel_id, str(channel.get("name")), permission_names(need & ~have))
