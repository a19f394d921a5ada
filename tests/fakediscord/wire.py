"""JSON payloads for the world's objects, shaped like Discord's API v10 (snowflakes as strings)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .snowflakes import iso
from .state import DM, STAGE, VOICE

if TYPE_CHECKING:
    from .state import Channel, Guild, Member, Message, Role, User, World


class Wire:
    """Turns state objects into API payloads."""

    def __init__(self, world: World) -> None:
        self.world = world

    def user(self, user: User) -> dict[str, Any]:
        """A user object."""
        return {
            "id": str(user.id),
            "username": user.username,
            "discriminator": "0",
            "global_name": user.global_name,
            "avatar": None,
            "bot": user.bot,
            "public_flags": 0,
            "flags": 0,
        }

    def member(self, member: Member, *, with_user: bool = True) -> dict[str, Any]:
        """A guild member object (roles exclude @everyone, as on Discord)."""
        data: dict[str, Any] = {
            "roles": [str(r.id) for r in member.roles if r.id != member.guild.id],
            "nick": member.nick,
            "avatar": None,
            "joined_at": iso(member.joined_at),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": (
                iso(member.communication_disabled_until)
                if member.communication_disabled_until
                else None
            ),
        }
        if with_user:
            data["user"] = self.user(member.user)
        return data

    def role(self, role: Role) -> dict[str, Any]:
        """A role object."""
        return {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": role.position,
            "color": 0,
            "hoist": False,
            "managed": role.managed,
            "mentionable": role.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }

    def channel(self, channel: Channel) -> dict[str, Any]:
        """A channel, thread, or DM channel object."""
        data: dict[str, Any] = {
            "id": str(channel.id),
            "type": channel.type,
            "name": channel.name,
            "flags": channel.flags,
            "last_message_id": self._last_message_id(channel),
        }
        if channel.type == DM:
            data["recipients"] = [self.user(u) for u in channel.recipients]
            data.pop("name")
            return data
        assert channel.guild is not None
        data.update(
            guild_id=str(channel.guild.id),
            position=channel.position,
            nsfw=False,
            rate_limit_per_user=0,
            parent_id=str(channel.parent.id) if channel.parent else None,
        )
        if channel.is_thread:
            messages = self.world.channel_messages(channel)
            data.update(
                owner_id=str(channel.owner_id),
                message_count=len(messages),
                total_message_sent=len(messages),
                member_count=1,
                applied_tags=[str(t) for t in channel.applied_tags],
                thread_metadata={
                    "archived": channel.archived,
                    "locked": channel.locked,
                    "auto_archive_duration": channel.auto_archive_duration,
                    "archive_timestamp": iso(channel.archived_at or channel.created_at),
                    "create_timestamp": iso(channel.created_at),
                },
            )
            return data
        data["topic"] = channel.topic
        data["permission_overwrites"] = [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel.overwrites.values()
        ]
        if channel.type in (VOICE, STAGE):
            # resources/channel.mdx "Example Guild Voice Channel".
            data.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        if channel.is_forum:
            data.update(
                available_tags=channel.available_tags,
                default_auto_archive_duration=1440,
                default_forum_layout=0,
                default_sort_order=None,
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
            )
        return data

    def _last_message_id(self, channel: Channel) -> str | None:
        last = None
        for message in self.world.channel_messages(channel):
            last = message.id
        return str(last) if last is not None else None

    def message(self, message: Message) -> dict[str, Any]:
        """A message object (what the REST API and MESSAGE_CREATE carry)."""
        world = self.world
        mentioned = [world.users[i] for i in sorted(message.mentioned_user_ids) if i in world.users]
        data: dict[str, Any] = {
            "id": str(message.id),
            "type": 0,
            "content": message.content,
            "channel_id": str(message.channel.id),
            "author": self.user(message.author),
            "timestamp": iso(message.created_at),
            "edited_timestamp": iso(message.edited_at) if message.edited_at else None,
            "tts": False,
            "mention_everyone": message.mention_everyone,
            "mentions": [self.user(u) for u in mentioned],
            "mention_roles": [str(r) for r in sorted(message.mention_role_ids)],
            "attachments": [self._attachment(message, a) for a in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "flags": message.flags | (128 if message.loading else 0),
            "pinned": False,
        }
        if message.channel.guild is not None:
            data["guild_id"] = str(message.channel.guild.id)
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.reference_id is not None:
            data["type"] = 19
            data["message_reference"] = {
                "type": 0,
                "message_id": str(message.reference_id),
                "channel_id": str(message.channel.id),
            }
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
            data["application_id"] = str(message.webhook_id)
        if message.interaction_id is not None and message.interaction_user is not None:
            data["type"] = 20
            data["interaction_metadata"] = {
                "id": str(message.interaction_id),
                "type": 2,
                "user": self.user(message.interaction_user),
                "authorizing_integration_owners": {},
            }
        if message.applied_tags:
            data["applied_tags"] = [str(t) for t in message.applied_tags]
        return data

    def _attachment(self, message: Message, item: dict[str, Any]) -> dict[str, Any]:
        url = (
            f"https://cdn.invalid/attachments/{message.channel.id}/{message.id}/{item['filename']}"
        )
        return {
            "id": str(message.id),
            "filename": item["filename"],
            "size": item["size"],
            "url": url,
            "proxy_url": url,
        }

    def guild_create(self, guild: Guild) -> dict[str, Any]:
        """The full GUILD_CREATE payload for a guild."""
        members = list(guild.members.values())
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": [self.role(r) for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [self.channel(c) for c in guild.text_channels],
            # events/gateway-events.mdx "Guild Create": `threads` holds the active threads only.
            "threads": [self.channel(t) for t in guild.active_threads],
            "members": [self.member(m) for m in members],
            # member_count == len(members) so discord.py does not ask for chunks.
            "member_count": len(members),
            "large": False,
            "unavailable": False,
            "joined_at": iso(guild.bot_member.joined_at),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
