"""The fake server's world: guilds (channels of every type, threads, members, timeouts) and the
World that holds them with the server clock; the plain records live in entities.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import permissions as p
from .clock import Clock
from .entities import (
    ANNOUNCEMENT,
    ANNOUNCEMENT_THREAD,
    CATEGORY,
    DM,
    FORUM,
    MEDIA,
    POST_ONLY_TYPES,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    REQUIRE_TAG,
    STAGE,
    TEXT,
    THREAD_TYPES,
    VOICE,
    Channel,
    Member,
    Message,
    Overwrite,
    Role,
    User,
)
from .snowflakes import Snowflakes

# Discord caps the active (unarchived) threads of a guild (resources/channel.mdx "Example Thread
# Channel": "Guilds have limits on the number of active threads"); 1,000 is the production cap.
DEFAULT_MAX_ACTIVE_THREADS = 1000

EventSink = Callable[[str, dict[str, Any], "Guild | None"], None]


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
    def text_channels(self) -> list[Channel]:  # every non-thread channel, despite the name
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
        channel.created_at = self.world.clock.now()
        for key, value in extra.items():
            setattr(channel, key, value)
        self.channels[channel.id] = channel
        self.world.channels[channel.id] = channel
        if self.world.dispatches:
            self._emit("CHANNEL_CREATE", self.world.wire.channel(channel))
        return channel

    def add_text_channel(self, name: str, *, topic: str | None = None) -> Channel:
        """Create a text channel (type 0)."""
        return self._add_channel(TEXT, name, topic=topic)

    def add_announcement_channel(self, name: str, *, topic: str | None = None) -> Channel:
        """Create an announcement channel (type 5; its message threads are type 10)."""
        return self._add_channel(ANNOUNCEMENT, name, topic=topic)

    def add_voice_channel(self, name: str) -> Channel:
        """Create a voice channel (type 2); its text chat takes messages, never threads."""
        return self._add_channel(VOICE, name)

    def add_stage_channel(self, name: str) -> Channel:
        """Create a stage channel (type 13); its text chat takes messages, never threads."""
        return self._add_channel(STAGE, name)

    def add_category(self, name: str) -> Channel:
        """Create a category (type 4): it holds no messages."""
        return self._add_channel(CATEGORY, name)

    def add_forum_channel(
        self, name: str, *, tags: Iterable[str] = (), require_tag: bool = False
    ) -> Channel:
        """Create a forum channel (type 15) with named tags; `require_tag` sets REQUIRE_TAG."""
        return self._add_posts_channel(FORUM, name, tags, require_tag)

    def add_media_channel(
        self, name: str, *, tags: Iterable[str] = (), require_tag: bool = False
    ) -> Channel:
        """Create a media channel (type 16): posts only, like a forum."""
        return self._add_posts_channel(MEDIA, name, tags, require_tag)

    def _add_posts_channel(
        self, kind: int, name: str, tags: Iterable[str], require_tag: bool
    ) -> Channel:
        # Forum tag object: resources/channel.mdx "Forum Tag Object".
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
        flags = REQUIRE_TAG if require_tag else 0
        return self._add_channel(kind, name, available_tags=available, flags=flags)

    def add_thread(
        self,
        parent: Channel,
        name: str,
        *,
        owner: User,
        thread_id: int | None = None,
        private: bool = False,
        archived: bool = False,
        locked: bool = False,
    ) -> Channel:
        """Create a thread under a channel (used by the REST routes and by tests)."""
        # topics/threads.mdx: threads of an announcement channel are ANNOUNCEMENT_THREAD (10).
        kind = PRIVATE_THREAD if private else PUBLIC_THREAD
        if parent.type == ANNOUNCEMENT:
            kind = ANNOUNCEMENT_THREAD
        thread = Channel(thread_id or self.world.ids.next(), kind, name, self, parent=parent)
        thread.owner_id, thread.archived, thread.locked = owner.id, archived, locked
        thread.created_at = thread.archived_at = thread.active_at = self.world.clock.now()
        self.channels[thread.id] = thread
        self.world.channels[thread.id] = thread
        return thread

    @property
    def active_threads(self) -> list[Channel]:
        """Threads that are not archived (what counts against the active-thread cap)."""
        return [t for t in self.threads if not t.archived]

    def time_out(self, member: Member, until: Any) -> None:
        """Time a member out until a moment (None lifts it); GUILD_MEMBER_UPDATE follows."""
        member.communication_disabled_until = until
        data = {**self.world.wire.member(member), "guild_id": str(self.id)}
        self._emit("GUILD_MEMBER_UPDATE", data)

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

    def __init__(self, bot_name: str = "Paperboy", *, clock: Clock | None = None) -> None:
        from .wire import Wire

        self.clock = clock or Clock()
        self.ids = Snowflakes(self.clock)
        self.max_active_threads = DEFAULT_MAX_ACTIVE_THREADS
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
        channel = Channel(self.ids.next(), DM, "", recipients=[user], created_at=self.clock.now())
        self.channels[channel.id] = channel
        return channel

    def archive_idle_threads(self) -> list[Channel]:
        """Archive threads idle for longer than their auto_archive_duration; return them."""
        # topics/threads.mdx "Active & Archived Threads": threads archive automatically after
        # `auto_archive_duration` minutes without activity (a message, an unarchive); each
        # change fires THREAD_UPDATE (events/gateway-events.mdx "Thread Update").
        now = self.clock.now()
        archived = []
        for guild in self.guilds.values():
            for thread in guild.active_threads:
                since = thread.active_at or thread.created_at
                if (now - since).total_seconds() > thread.auto_archive_duration * 60:
                    thread.archived, thread.archived_at = True, now
                    archived.append(thread)
                    self.emit("THREAD_UPDATE", self.wire.channel(thread), guild)
        return archived

    def channel_messages(self, channel: Channel) -> list[Message]:
        """Messages in a channel, oldest first, deleted ones excluded."""
        return [m for m in self.messages.values() if m.channel is channel and not m.deleted]


__all__ = [
    "ANNOUNCEMENT",
    "ANNOUNCEMENT_THREAD",
    "CATEGORY",
    "DM",
    "FORUM",
    "MEDIA",
    "POST_ONLY_TYPES",
    "PRIVATE_THREAD",
    "PUBLIC_THREAD",
    "REQUIRE_TAG",
    "STAGE",
    "TEXT",
    "THREAD_TYPES",
    "VOICE",
    "Channel",
    "Guild",
    "Member",
    "Message",
    "Overwrite",
    "Role",
    "User",
    "World",
]
