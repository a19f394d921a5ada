"""REST routes for threads: a thread on a message, a thread without one, and forum posts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import permissions as p
from .posting import json_response, make_message, read_body
from .state import FORUM, PRIVATE_THREAD, PUBLIC_THREAD, TEXT, Channel, World
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


class Threads:
    """Thread and forum-post handlers; channel lookups and permission checks come from `Rest`."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    @property
    def world(self) -> World:
        """The shared world."""
        return self.rest.world

    def _announce_thread(self, thread: Channel) -> dict[str, Any]:
        data = self.world.wire.channel(thread)
        self.world.emit("THREAD_CREATE", data | {"newly_created": True}, thread.guild)
        return data

    async def thread_from_message(self, request: web.Request) -> web.Response:
        """POST /channels/{cid}/messages/{mid}/threads (thread id == message id)."""
        channel = self.rest.channel(request)
        if channel.type != TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        message = self.rest.message(channel, request.match_info["message_id"])
        if not self.rest.bot_perms(channel) & p.CREATE_PUBLIC_THREADS:
            raise fail(MISSING_PERMISSIONS)
        body = await read_body(request)
        check_thread_name(body.get("name"))
        assert channel.guild is not None
        if message.id in channel.guild.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        thread = channel.guild.add_thread(
            channel, body["name"], owner=self.world.bot_user, thread_id=message.id
        )
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        return json_response(self._announce_thread(thread), status=201)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        """POST /channels/{cid}/threads: a thread in a text channel, or a forum post."""
        channel = self.rest.channel(request)
        body = await read_body(request)
        if channel.type == FORUM:
            return await self._forum_post(channel, body)
        if channel.type != TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        kind = int(body.get("type") or PRIVATE_THREAD)
        need = p.CREATE_PUBLIC_THREADS if kind == PUBLIC_THREAD else p.CREATE_PRIVATE_THREADS
        if not self.rest.bot_perms(channel) & need:
            raise fail(MISSING_PERMISSIONS)
        check_thread_name(body.get("name"))
        assert channel.guild is not None
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
        tags = [int(t) for t in body.get("applied_tags") or []]
        known = {int(t["id"]) for t in forum.available_tags}
        if any(t not in known for t in tags):
            raise form_error(
                {
                    "applied_tags": {
                        "_errors": [{"code": "BASE_TYPE_CHOICES", "message": "Unknown tag"}]
                    }
                }
            )
        assert forum.guild is not None
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
