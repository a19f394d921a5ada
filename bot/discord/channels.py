"""What a Discord channel is to Paperboy: its kind, the forum tag a daily post carries, and what
keeps the bot from posting there (a timeout, a missing Embed Links) — read from discord.py's cache.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from bot.destinations import ChannelKind

# A forum tag whose name says what the post is, if the forum has one (else its first tag).
PREFERRED_TAG_NAMES = ("papers", "paper", "paperboy", "arxiv", "research")

EMBED_LINKS_REASON = (
    "I'm missing the Embed Links permission here, so papers would arrive without their cards"
    " — give it to me and run /feed resume"
)


def kind_of(channel: object) -> ChannelKind:
    """The kind of a channel (or thread) discord.py gave us."""
    if isinstance(channel, discord.Thread):
        return ChannelKind.THREAD
    if isinstance(channel, discord.ForumChannel):
        return ChannelKind.MEDIA if channel.is_media() else ChannelKind.FORUM
    if isinstance(channel, discord.VoiceChannel | discord.StageChannel):
        return ChannelKind.VOICE
    if isinstance(channel, discord.TextChannel) and channel.is_news():
        return ChannelKind.ANNOUNCEMENT
    return ChannelKind.TEXT


def forum_tag(forum: discord.ForumChannel) -> discord.ForumTag | None:
    """The tag a daily post carries where the forum requires one (Discord refuses untagged posts
    there with 40067); None where no tag is required or none exists."""
    if not forum.flags.require_tag or not forum.available_tags:
        return None
    tags = [t for t in forum.available_tags if not t.moderated] or list(forum.available_tags)
    for wanted in PREFERRED_TAG_NAMES:
        for tag in tags:
            if wanted in tag.name.casefold():
                return tag
    return tags[0]


def timed_out_until(member: discord.Member | None, now: datetime | None = None) -> datetime | None:
    """When the bot's timeout in that server ends, if it is timed out now."""
    until = member.timed_out_until if member is not None else None
    if until is None or until <= (now or datetime.now(UTC)):
        return None
    return until


def lacks_embed_links(channel: object) -> bool:
    """True when the cache says the bot may send there but not embed links (its messages would
    lose their embeds rather than be refused). Unknown permissions count as present; without
    Send Messages, posting itself is refused (403) and says so."""
    guild = getattr(channel, "guild", None)
    me = guild.me if guild is not None else None
    permissions_for = getattr(channel, "permissions_for", None)
    if me is None or permissions_for is None:
        return False
    try:
        permissions = permissions_for(me)
        return bool(permissions.send_messages and not permissions.embed_links)
    except (AttributeError, discord.ClientException):  # an uncached parent: can't tell
        return False


def digest_form(channel: object) -> str:
    """How a digest is posted in this channel, in words (with the forum tag it carries)."""
    form = kind_of(channel).describe_digest()
    if isinstance(channel, discord.ForumChannel) and (tag := forum_tag(channel)) is not None:
        form += f", tagged “{tag.name}” (this forum requires a tag)"
    return form
