"""The fake server's world: users, guilds, roles, members, channels, threads and messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import permissions as p
from .snowflakes import Snowflakes, now

# Channel types (Discord's numbering).
TEXT, DM, CATEGORY, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 0, 1, 4, 11, 12, 15

EventSink = Callable[[str, dict[str, Any], "Guild | None"], None]


@dataclass(eq=False)
class User:
    """A Discord user (a person or a bot)."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    accepts_dms: bool = True  # False → sending a DM answers 403 50007

    @property
    def mention(self) -> str:
        """The `<@id>` mention string."""
        return f"<@{self.id}>"


@dataclass(eq=False)
class Role:
    """A guild role; the @everyone role's id equals the guild id."""

    id: int
    guild: Guild
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    managed: bool = False

    @property
    def mention(self) -> str:
        """The `<@&id>` mention string."""
        return f"<@&{self.id}>"


@dataclass(eq=False)
class Member:
    """A user's membership in a guild."""

    user: User
    guild: Guild
    roles: list[Role] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now)

    @property
    def id(self) -> int:
        """The user's id."""
        return self.user.id

    @property
    def name(self) -> str:
        """The user's username."""
        return self.user.username

    @property
    def mention(self) -> str:
        """The `<@id>` mention string."""
        return self.user.mention

    def permissions_in(self, channel: Channel) -> int:
        """This member's computed permissions in a channel."""
        return p.channel_permissions(self, channel)


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass(eq=False)
class Channel:
    """A guild channel, thread, or DM channel."""

    id: int
    type: int
    name: str
    guild: Guild | None = None
    parent: Channel | None = None
    position: int = 0
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipients: list[User] = field(default_factory=list)
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    applied_tags: list[int] = field(default_factory=list)
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)

    @property
    def is_thread(self) -> bool:
        """True for public and private threads (forum posts included)."""
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)

    @property
    def is_forum(self) -> bool:
        """True for forum channels."""
        return self.type == FORUM

    @property
    def mention(self) -> str:
        """The `<#id>` mention string."""
        return f"<#{self.id}>"

    def set_overwrite(
        self,
        target: Role | Member | Guild,
        *,
        allow: int | Iterable[str] = 0,
        deny: int | Iterable[str] = 0,
    ) -> None:
        """Set a permission overwrite; pass the Guild itself for @everyone."""
        kind = 1 if isinstance(target, Member) else 0
        self.overwrites[target.id] = Overwrite(target.id, kind, p.to_int(allow), p.to_int(deny))


@dataclass(eq=False)
class Message:
    """A stored message with what Discord computed for it (pings, flags)."""

    id: int
    channel: Channel
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    nonce: str | int | None = None
    mentioned_user_ids: set[int] = field(default_factory=set)
    mention_role_ids: set[int] = field(default_factory=set)
    mention_everyone: bool = False
    reference_id: int | None = None
    created_at: datetime = field(default_factory=now)
    edited_at: datetime | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    interaction_user: User | None = None
    deleted: bool = False
    loading: bool = False  # a deferred interaction's "thinking…" placeholder
    applied_tags: list[int] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)  # {"filename", "size"}

    @property
    def ephemeral(self) -> bool:
        """True when only the interaction user sees this message (flag 64)."""
        return bool(self.flags & 64)

    @property
    def embed_titles(self) -> list[str]:
        """Titles of this message's embeds (missing titles skipped)."""
        return [e["title"] for e in self.embeds if e.get("title")]

    @property
    def thread(self) -> Channel | None:
        """The thread started from this message, if any."""
        guild = self.channel.guild
        found = guild.channels.get(self.id) if guild is not None else None
        return found if found is not None and found.is_thread else None


class Guild:
    """A guild with roles, channels, threads and members; the bot is always a member."""

    def __init__(self, world: World, guild_id: int, name: str, owner: User) -> None:
        self.world = world
        self.id = guild_id
        self.name = name
        self.owner_id = owner.id
        self.roles: dict[int, Role] = {}
        self.channels: dict[int, Channel] = {}
        self.members: dict[int, Member] = {}
        self.roles[guild_id] = Role(guild_id, self, "@everyone", p.DEFAULT_EVERYONE)
        self.bot_role = self.add_role(world.bot_user.username, p.DEFAULT_BOT, managed=True)
        self.bot_member = self._join(world.bot_user, [self.bot_role])
        if owner is not world.bot_user:
            self._join(owner, [])

    @property
    def everyone(self) -> Role:
        """The @everyone role (same id as the guild)."""
        return self.roles[self.id]

    @property
    def text_channels(self) -> list[Channel]:
        """Non-thread channels, by position."""
        return sorted((c for c in self.channels.values() if not c.is_thread), key=_pos)

    @property
    def threads(self) -> list[Channel]:
        """All threads in the guild."""
        return [c for c in self.channels.values() if c.is_thread]

    def _emit(self, event: str, data: dict[str, Any]) -> None:
        self.world.emit(event, data, self)

    def _join(self, user: User, roles: list[Role]) -> Member:
        member = Member(user, self, roles)
        self.members[user.id] = member
        return member

    def add_role(
        self,
        name: str,
        permissions: int | Iterable[str] = 0,
        *,
        mentionable: bool = False,
        managed: bool = False,
    ) -> Role:
        """Create a role with the given permissions (int or names)."""
        role = Role(self.world.ids.next(), self, name, p.to_int(permissions), len(self.roles))
        role.mentionable, role.managed = mentionable, managed
        self.roles[role.id] = role
        return role

    def add_member(
        self,
        name: str,
        *,
        permissions: int | Iterable[str] | None = None,
        roles: Iterable[Role] = (),
        bot: bool = False,
    ) -> Member:
        """Add a user as a member; `permissions=` gives them a personal role with those perms."""
        user = self.world.add_user(name, bot=bot)
        member_roles = list(roles)
        if permissions is not None:
            member_roles.append(self.add_role(f"{name}-role", permissions))
        member = self._join(user, member_roles)
        if self.world.dispatches:
            self._emit(
                "GUILD_MEMBER_ADD", {**self.world.wire.member(member), "guild_id": str(self.id)}
            )
        return member

    def add_existing_member(self, user: User, roles: Iterable[Role] = ()) -> Member:
        """Make an existing user (e.g. a member of another guild) a member here too."""
        return self._join(user, list(roles))

    def set_bot_permissions(self, permissions: int | Iterable[str]) -> None:
        """Replace the bot's managed role permissions."""
        self.bot_role.permissions = p.to_int(permissions)

    def _add_channel(self, kind: int, name: str, **extra: Any) -> Channel:
        channel = Channel(self.world.ids.next(), kind, name, self, position=len(self.channels))
        for key, value in extra.items():
            setattr(channel, key, value)
        self.channels[channel.id] = channel
        self.world.channels[channel.id] = channel
        if self.world.dispatches:
            self._emit("CHANNEL_CREATE", self.world.wire.channel(channel))
        return channel

    def add_text_channel(self, name: str, *, topic: str | None = None) -> Channel:
        """Create a text channel."""
        return self._add_channel(TEXT, name, topic=topic)

    def add_forum_channel(self, name: str, *, tags: Iterable[str] = ()) -> Channel:
        """Create a forum channel, optionally with named tags."""
        available = [
            {
                "id": str(self.world.ids.next()),
                "name": t,
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
            }
            for t in tags
        ]
        return self._add_channel(FORUM, name, available_tags=available)

    def add_thread(
        self,
        parent: Channel,
        name: str,
        *,
        owner: User,
        thread_id: int | None = None,
        private: bool = False,
    ) -> Channel:
        """Create a thread under a channel (used by the REST routes and by tests)."""
        thread = Channel(
            thread_id or self.world.ids.next(),
            PRIVATE_THREAD if private else PUBLIC_THREAD,
            name,
            self,
            parent=parent,
            owner_id=owner.id,
        )
        self.channels[thread.id] = thread
        self.world.channels[thread.id] = thread
        return thread

    def delete_channel(self, channel: Channel, *, notify: bool = True) -> None:
        """Delete a channel (with its threads) or a thread; the bot hears unless notify=False."""
        # notify=False: gone while the bot was offline, so its cache still has the channel.
        doomed = [channel, *(t for t in self.threads if t.parent is channel)]
        for gone in doomed:
            self.channels.pop(gone.id, None)
            self.world.channels.pop(gone.id, None)
        if not notify:
            return
        if channel.is_thread:
            assert channel.parent is not None
            data = {
                "id": str(channel.id),
                "guild_id": str(self.id),
                "parent_id": str(channel.parent.id),
                "type": channel.type,
            }
            self._emit("THREAD_DELETE", data)
        else:
            self._emit("CHANNEL_DELETE", self.world.wire.channel(channel))


def _pos(channel: Channel) -> int:
    return channel.position


class World:
    """Everything the fake Discord knows; the REST routes, the gateway and tests share it."""

    def __init__(self, bot_name: str = "Paperboy") -> None:
        from .wire import Wire

        self.ids = Snowflakes()
        self.wire = Wire(self)
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.bot_user = self.add_user(bot_name, bot=True)
        self.sinks: list[EventSink] = []
        self.dispatches = True

    def emit(self, event: str, data: dict[str, Any], guild: Guild | None = None) -> None:
        """Hand a gateway event to every listener (the gateway, the console printer…)."""
        for sink in list(self.sinks):
            sink(event, data, guild)

    def add_user(self, name: str, *, bot: bool = False) -> User:
        """Create a user that belongs to no guild yet."""
        user = User(self.ids.next(), name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str = "Test Guild", *, owner: User | None = None) -> Guild:
        """Create a guild; its owner is a new user named "<name> owner" unless given."""
        owner = owner or self.add_user(f"{name} owner")
        guild = Guild(self, self.ids.next(), name, owner)
        self.guilds[guild.id] = guild
        if self.dispatches:
            self.emit("GUILD_CREATE", self.wire.guild_create(guild), guild)
        return guild

    def remove_guild(self, guild: Guild) -> None:
        """The bot is removed from a guild: it is forgotten and the bot gets GUILD_DELETE."""
        for channel_id in guild.channels:
            self.channels.pop(channel_id, None)
        self.guilds.pop(guild.id, None)
        # Without "unavailable" this means "removed from the guild", not an outage.
        self.emit("GUILD_DELETE", {"id": str(guild.id)}, guild)

    def dm_channel(self, user: User) -> Channel:
        """Return (creating if needed) the bot's DM channel with a user."""
        for channel in self.channels.values():
            if channel.type == DM and channel.recipients and channel.recipients[0] is user:
                return channel
        channel = Channel(self.ids.next(), DM, "", recipients=[user])
        self.channels[channel.id] = channel
        return channel

    def channel_messages(self, channel: Channel) -> list[Message]:
        """Messages in a channel, oldest first, deleted ones excluded."""
        return [m for m in self.messages.values() if m.channel is channel and not m.deleted]
