"""REST routes for threads: a thread on a message, a thread without one, forum/media posts, and
the thread rules a send meets (archived, locked, the guild's active-thread cap)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import permissions as p
from .posting import json_response, make_message, read_body
from .state import (
    ANNOUNCEMENT,
    ANNOUNCEMENT_THREAD,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT,
    Channel,
    Guild,
    World,
)
from .validation import (
    MISSING_PERMISSIONS,
    ApiError,
    check_message_body,
    check_thread_name,
    fail,
    form_error,
)

if TYPE_CHECKING:
    from .rest import Rest

WRONG_CHANNEL_TYPE = (400, 50024, "Cannot execute action on this channel type")
# The HTTP statuses below are what clients report; the docs list only the codes and messages.
THREAD_ARCHIVED = (400, 50083, "Thread is archived")
THREAD_LOCKED = (400, 160005, "Thread is locked")
TOO_MANY_THREADS = (400, 160006, "Maximum number of active threads reached")
TAG_REQUIRED = (400, 40067, "A tag is required to create a forum post in this channel")


class Threads:
    """Thread and forum-post handlers; channel lookups and permission checks come from `Rest`."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    @property
    def world(self) -> World:
        """The shared world."""
        return self.rest.world

    def check_active_cap(self, guild: Guild) -> None:
        """160006 when the guild already has the maximum number of active threads."""
        # resources/channel.mdx "Example Thread Channel": once a guild's active-thread limit is
        # reached "additional threads cannot be created or unarchived"; topics/opcodes-and-
        # status-codes.mdx 160006 "Maximum number of active threads reached".
        if len(guild.active_threads) >= self.world.max_active_threads:
            raise fail(TOO_MANY_THREADS)

    def before_send(self, thread: Channel, perms: int) -> None:
        """Apply the locked/archived rules to a message about to be sent into a thread."""
        # topics/threads.mdx "Locked Threads": without Manage Threads nobody creates messages in
        # a locked thread; "Active & Archived Threads": sending a message unarchives a thread
        # "unless the thread has been locked by a moderator" (50083 for an archived one).
        if thread.locked and not perms & p.MANAGE_THREADS:
            raise fail(THREAD_ARCHIVED if thread.archived else THREAD_LOCKED)
        if thread.archived:
            assert thread.guild is not None
            self.check_active_cap(thread.guild)
            thread.archived = False
            thread.archived_at = thread.active_at = self.world.clock.now()
            self.world.emit("THREAD_UPDATE", self.world.wire.channel(thread), thread.guild)

    def _announce_thread(self, thread: Channel) -> dict[str, Any]:
        data = self.world.wire.channel(thread)
        self.world.emit("THREAD_CREATE", data | {"newly_created": True}, thread.guild)
        return data

    async def thread_from_message(self, request: web.Request) -> web.Response:
        """POST /channels/{cid}/messages/{mid}/threads (thread id == message id)."""
        channel = self.rest.channel(request)
        # resources/channel.mdx "Start Thread from Message": only GUILD_TEXT (a PUBLIC_THREAD) and
        # GUILD_ANNOUNCEMENT (an ANNOUNCEMENT_THREAD); not forum/media; threads, voice and stage
        # text chats hold no threads (50024, as Discord answers).
        if channel.type not in (TEXT, ANNOUNCEMENT):
            raise fail(WRONG_CHANNEL_TYPE)
        message = self.rest.message(channel, request.match_info["message_id"])
        if not self.rest.bot_perms(channel) & p.CREATE_PUBLIC_THREADS:
            raise fail(MISSING_PERMISSIONS)
        body = await read_body(request)
        check_thread_name(body.get("name"))
        assert channel.guild is not None
        if message.id in channel.guild.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        self.check_active_cap(channel.guild)
        thread = channel.guild.add_thread(
            channel, body["name"], owner=self.world.bot_user, thread_id=message.id
        )
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        return json_response(self._announce_thread(thread), status=201)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        """POST /channels/{cid}/threads: a thread in a text channel, or a forum/media post."""
        channel = self.rest.channel(request)
        body = await read_body(request)
        if channel.is_forum:
            return await self._forum_post(channel, body)
        if channel.type not in (TEXT, ANNOUNCEMENT):
            raise fail(WRONG_CHANNEL_TYPE)
        # resources/channel.mdx "Start Thread without Message": `type` defaults to PRIVATE_THREAD;
        # topics/threads.mdx: private threads exist only in GUILD_TEXT channels.
        kind = int(body.get("type") or PRIVATE_THREAD)
        if channel.type == ANNOUNCEMENT and kind not in (ANNOUNCEMENT_THREAD, PUBLIC_THREAD):
            raise fail(WRONG_CHANNEL_TYPE)
        need = p.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else p.CREATE_PUBLIC_THREADS
        if not self.rest.bot_perms(channel) & need:
            raise fail(MISSING_PERMISSIONS)
        check_thread_name(body.get("name"))
        assert channel.guild is not None
        self.check_active_cap(channel.guild)
        thread = channel.guild.add_thread(
            channel, body["name"], owner=self.world.bot_user, private=kind == PRIVATE_THREAD
        )
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        return json_response(self._announce_thread(thread), status=201)

    async def _forum_post(self, forum: Channel, body: dict[str, Any]) -> web.Response:
        starter = body.get("message")
        if not isinstance(starter, dict):
            raise form_error(
                {
                    "message": {
                        "_errors": [
                            {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                        ]
                    }
                }
            )
        if body.get("_files"):
            starter["_files"] = body["_files"]
        perms = self.rest.send_permission(forum, starter)
        check_thread_name(body.get("name"))
        tags = self._applied_tags(forum, body.get("applied_tags") or [])
        assert forum.guild is not None
        self.check_active_cap(forum.guild)
        thread_id = self.world.ids.next()
        # Validate the starter message before the thread exists, so a bad body creates nothing.
        check_message_body(starter)
        thread = forum.guild.add_thread(
            forum, body["name"], owner=self.world.bot_user, thread_id=thread_id
        )
        thread.applied_tags = tags
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        message = make_message(
            self.world,
            thread,
            self.world.bot_user,
            starter,
            author_perms=perms,
            message_id=thread_id,
            emit=False,
        )
        data = self._announce_thread(thread)
        self.world.emit("MESSAGE_CREATE", self.world.wire.message(message), forum.guild)
        return json_response(data | {"message": self.world.wire.message(message)}, status=201)

    def _applied_tags(self, forum: Channel, raw: list[Any]) -> list[int]:
        # resources/channel.mdx "Start Thread in Forum or Media Channel": `applied_tags` are ids
        # of the channel's `available_tags` (at most 5); with the REQUIRE_TAG channel flag
        # ("Channel Flags") a post without one is refused with 40067.
        tags = [int(t) for t in raw]
        known = {int(t["id"]) for t in forum.available_tags}
        problem = None
        if len(tags) > 5:
            problem = {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 5 or fewer in length."}
        elif any(t not in known for t in tags):
            problem = {"code": "BASE_TYPE_CHOICES", "message": "Unknown tag"}
        if problem is not None:
            raise form_error({"applied_tags": {"_errors": [problem]}})
        if forum.requires_tag and not tags:
            raise fail(TAG_REQUIRED)
        return tags
