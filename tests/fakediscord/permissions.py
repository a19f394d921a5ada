"""Discord permission bits and the channel permission computation Discord documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Channel, Member

# Bit positions from Discord's "Permissions" table (the names match discord.Permissions).
BITS: dict[str, int] = {
    "create_instant_invite": 0,
    "kick_members": 1,
    "ban_members": 2,
    "administrator": 3,
    "manage_channels": 4,
    "manage_guild": 5,
    "add_reactions": 6,
    "view_audit_log": 7,
    "view_channel": 10,
    "send_messages": 11,
    "send_tts_messages": 12,
    "manage_messages": 13,
    "embed_links": 14,
    "attach_files": 15,
    "read_message_history": 16,
    "mention_everyone": 17,
    "use_external_emojis": 18,
    "change_nickname": 26,
    "manage_nicknames": 27,
    "manage_roles": 28,
    "manage_webhooks": 29,
    "use_application_commands": 31,
    "manage_threads": 34,
    "create_public_threads": 35,
    "create_private_threads": 36,
    "send_messages_in_threads": 38,
}

VIEW_CHANNEL = 1 << BITS["view_channel"]
SEND_MESSAGES = 1 << BITS["send_messages"]
SEND_TTS = 1 << BITS["send_tts_messages"]
MANAGE_MESSAGES = 1 << BITS["manage_messages"]
EMBED_LINKS = 1 << BITS["embed_links"]
ATTACH_FILES = 1 << BITS["attach_files"]
READ_MESSAGE_HISTORY = 1 << BITS["read_message_history"]
MENTION_EVERYONE = 1 << BITS["mention_everyone"]
ADMINISTRATOR = 1 << BITS["administrator"]
MANAGE_THREADS = 1 << BITS["manage_threads"]
CREATE_PUBLIC_THREADS = 1 << BITS["create_public_threads"]
CREATE_PRIVATE_THREADS = 1 << BITS["create_private_threads"]
SEND_MESSAGES_IN_THREADS = 1 << BITS["send_messages_in_threads"]
USE_APPLICATION_COMMANDS = 1 << BITS["use_application_commands"]
ALL = (1 << 51) - 1

# What a fresh @everyone role gets in a new Discord server (roughly Discord's default set).
DEFAULT_EVERYONE = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
    | (1 << BITS["add_reactions"])
    | (1 << BITS["use_external_emojis"])
    | (1 << BITS["change_nickname"])
    | (1 << BITS["create_instant_invite"])
)

# The bot's managed role: what an invite with the usual "post and thread" scopes grants.
DEFAULT_BOT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

# Sending-dependent permissions Discord strips when the member cannot send in the channel.
_NEEDS_SEND = SEND_TTS | EMBED_LINKS | ATTACH_FILES | MENTION_EVERYONE


def perms(*names: str) -> int:
    """Return the permission integer for the given discord.py-style names ("send_messages")."""
    value = 0
    for name in names:
        value |= 1 << BITS[name]
    return value


def to_int(value: int | str | Iterable[str] | None) -> int:
    """Accept an int, a single name, or an iterable of names and return the permission int."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return perms(value)
    return perms(*value)


def base_permissions(member: Member) -> int:
    """Guild-level permissions: @everyone plus the member's roles; owner/admin get everything."""
    guild = member.guild
    if member.user.id == guild.owner_id:
        return ALL
    value = guild.everyone.permissions
    for role in member.roles:
        value |= role.permissions
    if value & ADMINISTRATOR:
        return ALL
    return value


def channel_permissions(member: Member, channel: Channel) -> int:
    """Compute a member's permissions in a guild channel or thread, like Discord does."""
    # topics/permissions.mdx "Permission Overwrites" (order: @everyone, roles, member) and
    # "Implicit Permissions"; topics/threads.mdx "Permissions": threads use the parent's.
    base = base_permissions(member)
    if base & ADMINISTRATOR:
        return ALL
    # Threads take their permissions from the parent channel.
    target = channel.parent if channel.is_thread and channel.parent is not None else channel
    value = base
    overwrites = target.overwrites
    everyone = overwrites.get(member.guild.id)
    if everyone is not None:
        value = (value & ~everyone.deny) | everyone.allow
    allow = deny = 0
    role_ids = {role.id for role in member.roles}
    for target_id, overwrite in overwrites.items():
        if overwrite.type == 0 and target_id in role_ids:
            allow |= overwrite.allow
            deny |= overwrite.deny
    value = (value & ~deny) | allow
    own = overwrites.get(member.user.id)
    if own is not None and own.type == 1:
        value = (value & ~own.deny) | own.allow
    # Implicit rules: no View Channel means nothing; no Send strips what depends on sending.
    if not value & VIEW_CHANNEL:
        return 0
    send_bit = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
    if not value & send_bit and not channel.is_forum:
        value &= ~_NEEDS_SEND
    # topics/permissions.mdx "Permissions For Timed Out Members": a timed-out member keeps only
    # View Channel and Read Message History (owner and Administrator returned ALL above).
    if member.timed_out_at(member.guild.world.clock.now()):
        value &= VIEW_CHANNEL | READ_MESSAGE_HISTORY
    return value
