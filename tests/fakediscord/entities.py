"""The world's plain records: users, roles, members, overwrites, channels (every type) and messages.

Channel types, channel flags and who may be messaged where follow Discord's channel resource
(developers/resources/channel.mdx, "Channel Types" and "Channel Flags").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import permissions as p
from .snowflakes import now

if TYPE_CHECKING:
    from .state import Guild

# Channel types, numbered as in resources/channel.mdx "Channel Types".
TEXT, DM, VOICE, CATEGORY, ANNOUNCEMENT = 0, 1, 2, 4, 5
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD, STAGE, FORUM, MEDIA = 10, 11, 12, 13, 15, 16
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})
# GUILD_FORUM and GUILD_MEDIA "can only contain threads" (resources/channel.mdx "Channel Types").
POST_ONLY_TYPES = frozenset({FORUM, MEDIA})
# Channel flag REQUIRE_TAG (1 << 4): a post needs one of `available_tags` in `applied_tags`
# (resources/channel.mdx "Channel Flags").
REQUIRE_TAG = 1 << 4


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
    # A timeout (resources/guild.mdx "Guild Member Object"): while this is in the future the
    # member keeps only View Channel and Read Message History (topics/permissions.mdx
    # "Permissions For Timed Out Members"); see permissions.channel_permissions.
    communication_disabled_until: datetime | None = None

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

    def timed_out_at(self, moment: datetime) -> bool:
        """True while a timeout is running at `moment`."""
        until = self.communication_disabled_until
        return until is not None and until > moment


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
    flags: int = 0  # channel flags, e.g. REQUIRE_TAG on a forum or media channel
    created_at: datetime = field(default_factory=now)
    archived_at: datetime | None = None  # last archive/unarchive (thread_metadata)
    active_at: datetime | None = None  # a thread's last activity: created, message, unarchived

    @property
    def is_thread(self) -> bool:
        """True for announcement, public and private threads (forum posts included)."""
        return self.type in THREAD_TYPES

    @property
    def is_forum(self) -> bool:
        """True for forum and media channels (they hold posts, never plain messages)."""
        return self.type in POST_ONLY_TYPES

    @property
    def requires_tag(self) -> bool:
        """True for a forum/media channel with the REQUIRE_TAG flag."""
        return bool(self.flags & REQUIRE_TAG)

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
