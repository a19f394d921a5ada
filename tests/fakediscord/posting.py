"""Creating and editing stored messages, shared by channel sends, forum posts and interactions."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import permissions as p
from .state import Channel, Message, User, World
from .validation import ApiError, check_message_body, compute_pings, form_error

EPHEMERAL, SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS = 64, 4, 4096
_SETTABLE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer whose Content-Type is exactly application/json (discord.py checks it)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


async def read_body(request: web.Request) -> dict[str, Any]:
    """The JSON body, from a JSON request or a multipart one (payload_json + files)."""
    if request.content_type.startswith("multipart/"):
        body: dict[str, Any] = {}
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(await part.text())  # type: ignore[union-attr]
            else:
                data = await part.read()  # type: ignore[union-attr]
                files.append({"filename": part.filename, "size": len(data)})  # type: ignore[union-attr]
        body["_files"] = files
        return body
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError as exc:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc
    if not isinstance(data, dict):
        raise form_error(
            {
                "_errors": [
                    {
                        "code": "DICT_TYPE_CONVERT",
                        "message": "Only dictionaries may be used in a DictType",
                    }
                ]
            }
        )
    return data


def make_message(
    world: World,
    channel: Channel,
    author: User,
    body: dict[str, Any],
    *,
    author_perms: int = p.ALL,
    message_id: int | None = None,
    replied: Message | None = None,
    emit: bool = True,
) -> Message:
    """Validate a message body, store the message with its computed pings, and announce it."""
    check_message_body(body)
    flags = int(body.get("flags") or 0) & _SETTABLE_FLAGS
    message = Message(
        message_id or world.ids.next(),
        channel,
        author,
        content=body.get("content") or "",
        embeds=[_normalise_embed(e) for e in body.get("embeds") or []],
        components=body.get("components") or [],
        flags=flags,
        nonce=body.get("nonce"),
        reference_id=replied.id if replied else None,
        attachments=body.get("_files") or [],
        created_at=world.clock.now(),
    )
    if not message.ephemeral:
        pings = compute_pings(
            world, channel, author_perms, message.content, body.get("allowed_mentions"), replied
        )
        message.mentioned_user_ids = pings.users
        message.mention_role_ids = pings.roles
        message.mention_everyone = pings.everyone
    world.messages[message.id] = message
    if channel.is_thread:
        channel.active_at = message.created_at  # a message is activity (auto-archive timer)
    if emit and not message.ephemeral:
        world.emit("MESSAGE_CREATE", world.wire.message(message), channel.guild)
    return message


def edit_message(
    world: World, message: Message, body: dict[str, Any], *, author_perms: int = p.ALL
) -> None:
    """Apply a PATCH body (only the fields present change), re-computing pings."""
    merged = {
        "content": body.get("content", message.content),
        "embeds": body.get("embeds", message.embeds),
        "components": body.get("components", message.components),
    }
    check_message_body(
        {**merged, "allowed_mentions": body.get("allowed_mentions")}, require_content=False
    )
    message.content = merged["content"] or ""
    message.embeds = [_normalise_embed(e) for e in merged["embeds"] or []]
    message.components = merged["components"] or []
    if "flags" in body and body["flags"] is not None:
        message.flags = (message.flags & EPHEMERAL) | (int(body["flags"]) & SUPPRESS_EMBEDS)
    if not message.ephemeral and "content" in body:
        pings = compute_pings(
            world, message.channel, author_perms, message.content, body.get("allowed_mentions")
        )
        message.mentioned_user_ids = pings.users
        message.mention_role_ids = pings.roles
        message.mention_everyone = pings.everyone
    message.loading = False
    message.edited_at = world.clock.now()
    if not message.ephemeral:
        world.emit("MESSAGE_UPDATE", world.wire.message(message), message.channel.guild)


def _normalise_embed(embed: dict[str, Any]) -> dict[str, Any]:
    # Discord fills in "type": "rich" for embeds sent by bots.
    return {"type": "rich", **embed}


def find_nonce_duplicate(
    world: World, channel: Channel, author: User, nonce: Any, window: float
) -> Message | None:
    """A message the same author created in this channel with this nonce within `window` seconds."""
    if nonce is None:
        return None
    cutoff = world.clock.now().timestamp() - window
    for message in world.channel_messages(channel):
        if (
            message.author is author
            and message.nonce == nonce
            and message.created_at.timestamp() >= cutoff
        ):
            return message
    return None
