"""Discord's message rules: field limits (50035 errors), empty messages, and who a message pings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import permissions as p
from .state import Channel, Message, World

Errors = dict[str, Any]

_USER_RE = re.compile(r"<@!?(\d+)>")
_ROLE_RE = re.compile(r"<@&(\d+)>")
_EVERYONE_RE = re.compile(r"@(everyone|here)")

EMBED_TOTAL = 6000


class ApiError(Exception):
    """An error answer: HTTP status plus Discord's JSON body."""

    def __init__(self, status: int, code: int, message: str, errors: Errors | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors


# Common (status, code, message) answers.
UNKNOWN_CHANNEL = (404, 10003, "Unknown Channel")
UNKNOWN_MESSAGE = (404, 10008, "Unknown Message")
MISSING_ACCESS = (403, 50001, "Missing Access")
MISSING_PERMISSIONS = (403, 50013, "Missing Permissions")


def fail(error: tuple[int, int, str]) -> ApiError:
    """Build an ApiError from a (status, code, message) triple."""
    return ApiError(*error)


def form_error(errors: Errors) -> ApiError:
    """A 400 Invalid Form Body with Discord's nested `errors` object."""
    return ApiError(400, 50035, "Invalid Form Body", errors)


def _err(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _max_len(value: Any, limit: int) -> dict[str, Any] | None:
    if isinstance(value, str) and len(value) > limit:
        return _err("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _check_embed(embed: dict[str, Any]) -> tuple[Errors, int]:
    # resources/message.mdx "Embed Limits": title 256, description 4096, 25 fields (name 256,
    # value 1024), footer 2048, author name 256, and 6000 characters over all embeds.
    errors: Errors = {}
    size = 0
    for key, limit in (("title", 256), ("description", 4096)):
        value = embed.get(key) or ""
        size += len(value)
        if problem := _max_len(value, limit):
            errors[key] = problem
    for key, inner, limit in (("footer", "text", 2048), ("author", "name", 256)):
        value = (embed.get(key) or {}).get(inner) or ""
        size += len(value)
        if problem := _max_len(value, limit):
            errors[key] = {inner: problem}
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors["fields"] = _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    field_errors: Errors = {}
    for index, item in enumerate(fields):
        one: Errors = {}
        for key, limit in (("name", 256), ("value", 1024)):
            value = item.get(key) or ""
            size += len(value)
            if not value:
                one[key] = _err("BASE_TYPE_REQUIRED", "This field is required")
            elif problem := _max_len(value, limit):
                one[key] = problem
        if one:
            field_errors[str(index)] = one
    if field_errors and "fields" not in errors:
        errors["fields"] = field_errors
    return errors, size


def check_message_body(body: dict[str, Any], *, require_content: bool = True) -> None:
    """Raise ApiError when a message create/edit body breaks Discord's limits."""
    # resources/message.mdx "Create Message": content ≤ 2000 characters, ≤ 10 embeds, a nonce of
    # ≤ 25 characters, and at least one of content/embeds/components/stickers/files (else
    # 50006 "Cannot send an empty message", topics/opcodes-and-status-codes.mdx).
    errors: Errors = {}
    content = body.get("content")
    if problem := _max_len(content, 2000):
        errors["content"] = problem
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors["embeds"] = _err("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    else:
        total = 0
        embed_errors: Errors = {}
        for index, embed in enumerate(embeds):
            one, size = _check_embed(embed)
            total += size
            if one:
                embed_errors[str(index)] = one
        if embed_errors:
            errors["embeds"] = embed_errors
        elif total > EMBED_TOTAL:
            errors["embeds"] = _err(
                "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL}"
            )
    nonce = body.get("nonce")
    if isinstance(nonce, str) and (problem := _max_len(nonce, 25)):
        errors["nonce"] = problem
    if rows := _check_components(body.get("components") or []):
        errors["components"] = rows
    if problem := _check_allowed_mentions(body.get("allowed_mentions")):
        errors["allowed_mentions"] = problem
    if errors:
        raise form_error(errors)
    has_something = content or embeds or body.get("components") or body.get("sticker_ids")
    if require_content and not has_something:
        raise ApiError(400, 50006, "Cannot send an empty message")


def _check_allowed_mentions(allowed: Any) -> Errors | None:
    # resources/message.mdx "Allowed Mentions Object": `users` and `roles` hold at most 100 ids
    # each, and parse:["users"] with a `users` list (or "roles" with `roles`) is an error.
    if not allowed:
        return None
    parse = allowed.get("parse") or []
    errors: Errors = {}
    for key in ("users", "roles"):
        ids = allowed.get(key) or []
        if len(ids) > 100:
            errors[key] = _err("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        elif key in parse and ids:
            return _err(
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )
    return errors or None


def _check_components(rows: list[dict[str, Any]]) -> Errors:
    # components/reference.mdx: ≤ 5 action rows of ≤ 5 buttons, custom_id ≤ 100, label ≤ 80,
    # a select menu ≤ 25 options.
    errors: Errors = {}
    if len(rows) > 5:
        return _err("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for r, row in enumerate(rows):
        items = row.get("components") or []
        if len(items) > 5:
            errors[str(r)] = {"components": _err("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer.")}
            continue
        for c, item in enumerate(items):
            problem = _max_len(item.get("custom_id"), 100) or _max_len(item.get("label"), 80)
            if item.get("type") == 3 and len(item.get("options") or []) > 25:
                problem = {"options": _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")}
            if problem:
                errors.setdefault(str(r), {"components": {}})["components"][str(c)] = problem
    return errors


def check_thread_name(name: Any) -> None:
    """Raise 50035 unless the thread name is 1–100 characters."""
    # resources/channel.mdx "Start Thread from Message": name is a "1-100 character channel name".
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise form_error(
            {"name": _err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
        )


@dataclass
class Pings:
    """Who a message actually notifies."""

    users: set[int] = field(default_factory=set)
    roles: set[int] = field(default_factory=set)
    everyone: bool = False


def compute_pings(
    world: World,
    channel: Channel,
    author_perms: int,
    content: str,
    allowed: dict[str, Any] | None,
    replied: Message | None = None,
) -> Pings:
    """Work out the pinged users/roles from content and allowed_mentions, as Discord does."""
    # resources/message.mdx "Allowed Mentions Object": without the field every mention in the
    # content is parsed; @everyone needs Mention Everyone, a role ping needs a mentionable role
    # or Mention Everyone (topics/permissions.mdx); only members who can view the channel.
    if allowed is None:
        parse, users, roles, replied_user = {"users", "roles", "everyone"}, set(), set(), True
    else:
        parse = set(allowed.get("parse") or [])
        users = {int(u) for u in allowed.get("users") or []}
        roles = {int(r) for r in allowed.get("roles") or []}
        replied_user = bool(allowed.get("replied_user", False))
    guild = channel.guild
    can_reach = _reachable_users(world, channel)
    pings = Pings()
    for raw in _USER_RE.findall(content):
        uid = int(raw)
        if ("users" in parse or uid in users) and uid in can_reach:
            pings.users.add(uid)
    if guild is not None:
        for raw in _ROLE_RE.findall(content):
            role = guild.roles.get(int(raw))
            allowed_role = "roles" in parse or int(raw) in roles
            if role is None or not allowed_role:
                continue
            if role.mentionable or author_perms & p.MENTION_EVERYONE:
                pings.roles.add(role.id)
                pings.users |= {m.id for m in guild.members.values() if role in m.roles} & can_reach
        if (
            _EVERYONE_RE.search(content)
            and "everyone" in parse
            and author_perms & p.MENTION_EVERYONE
        ):
            pings.everyone = True
            pings.users |= can_reach
    if replied is not None and replied_user:
        pings.users.add(replied.author.id)
    pings.users.discard(world.bot_user.id)
    return pings


def _reachable_users(world: World, channel: Channel) -> set[int]:
    if channel.guild is None:
        return {u.id for u in channel.recipients}
    return {
        m.id for m in channel.guild.members.values() if m.permissions_in(channel) & p.VIEW_CHANNEL
    }
