"""Interactions: the records a test drives, their callback route and the follow-up webhooks, with
Discord's clocks: the 3-second initial-response deadline and the 15-minute interaction token."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .posting import EPHEMERAL, edit_message, json_response, make_message, read_body
from .state import Channel, Guild, Member, Message, User, World
from .validation import ApiError, _err, form_error

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
MESSAGE, DEFER, DEFER_UPDATE, UPDATE, CHOICES, MODAL = 4, 5, 6, 7, 8, 9

UNKNOWN_INTERACTION = (404, 10062, "Unknown interaction")
ALREADY_ACKNOWLEDGED = (400, 40060, "Interaction has already been acknowledged.")
UNKNOWN_WEBHOOK = (404, 10015, "Unknown Webhook")
INVALID_WEBHOOK_TOKEN = (401, 50027, "Invalid Webhook Token")
# interactions/receiving-and-responding.mdx "Responding to an Interaction": the initial response
# must come within 3 seconds or the token is invalidated (10062 Unknown interaction); the token
# then stays valid for follow-ups and edits for 15 minutes (50027 Invalid Webhook Token after).
INITIAL_RESPONSE_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60.0


@dataclass(eq=False)
class InteractionRecord:
    """One interaction the fake sent to the bot, and everything the bot answered."""

    id: int
    token: str
    type: int
    user: User
    member: Member | None
    channel: Channel
    guild: Guild | None
    data: dict[str, Any]
    sent_at: float = 0.0  # the server clock's monotonic() when dispatched
    response_type: int | None = None
    answered_at: float | None = None
    original: Message | None = None  # the response message, or the clicked message (type 6/7)
    target: Message | None = None  # the message a component was clicked on
    followups: list[Message] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    refused_late: list[float] = field(default_factory=list)  # ages of callbacks refused (10062)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    version: int = 0  # bumped on every answer/edit/follow-up so waiters wake up

    @property
    def latency(self) -> float | None:
        """Seconds between sending the interaction and the bot's first answer."""
        return None if self.answered_at is None else self.answered_at - self.sent_at

    async def bump(self) -> None:
        """Wake anybody waiting on this interaction."""
        self.version += 1
        async with self.changed:
            self.changed.notify_all()


class Interactions:
    """Owns interaction records and serves /interactions and /webhooks routes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.records: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        # Seconds for the initial response; None lets a slow test answer late without 10062.
        self.deadline: float | None = INITIAL_RESPONSE_DEADLINE
        self.token_lifetime = TOKEN_LIFETIME

    def new(
        self,
        kind: int,
        user: User,
        channel: Channel,
        data: dict[str, Any],
        *,
        target: Message | None = None,
    ) -> InteractionRecord:
        """Create a record for an interaction about to be dispatched."""
        guild = channel.guild
        member = guild.members.get(user.id) if guild is not None else None
        record = InteractionRecord(
            self.world.ids.next(),
            "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            kind,
            user,
            member,
            channel,
            guild,
            data,
            sent_at=self.world.clock.monotonic(),
            target=target,
        )
        self.records[record.id] = record
        self.by_token[record.token] = record
        return record

    def routes(self) -> list[web.RouteDef]:
        """The route table (paths relative to /api/v10)."""
        hook = "/webhooks/{application_id}/{token}"
        return [
            web.post("/interactions/{interaction_id}/{token}/callback", self.callback),
            web.post(hook, self.followup),
            web.get(hook + "/messages/{message_id}", self.get_webhook_message),
            web.patch(hook + "/messages/{message_id}", self.edit_webhook_message),
            web.delete(hook + "/messages/{message_id}", self.delete_webhook_message),
        ]

    # -- the callback --------------------------------------------------------------------------
    async def callback(self, request: web.Request) -> web.Response:
        """POST /interactions/{id}/{token}/callback: the bot's initial answer."""
        record = self.records.get(int(request.match_info["interaction_id"]))
        if record is None or record.token != request.match_info["token"]:
            raise ApiError(*UNKNOWN_INTERACTION)
        if record.response_type is not None:
            # receiving-and-responding.mdx: one initial response per interaction (40060 after).
            raise ApiError(*ALREADY_ACKNOWLEDGED)
        age = self.age(record)
        late = self.deadline is not None and age > self.deadline
        if late or age > self.token_lifetime:
            record.refused_late.append(age)
            await record.bump()
            raise ApiError(*UNKNOWN_INTERACTION)
        body = await read_body(request)
        kind = body.get("type")
        data = body.get("data") or {}
        if body.get("_files"):
            data["_files"] = body["_files"]
        self._check_type(record, kind)
        assert isinstance(kind, int)
        resource = self._apply(record, kind, data)
        record.response_type = kind
        record.answered_at = self.world.clock.monotonic()
        await record.bump()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        original = record.original
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "activity_instance_id": None,
                "response_message_id": str(original.id) if original else None,
                "response_message_loading": bool(original and original.loading),
                "response_message_ephemeral": bool(original and original.ephemeral),
            }
        }
        if resource is not None:
            answer["resource"] = {"type": kind, "message": self.world.wire.message(resource)}
        return json_response(answer)

    def _check_type(self, record: InteractionRecord, kind: Any) -> None:
        allowed = {
            APPLICATION_COMMAND: {MESSAGE, DEFER, MODAL},
            COMPONENT: {MESSAGE, DEFER, DEFER_UPDATE, UPDATE, MODAL},
            AUTOCOMPLETE: {CHOICES},
            MODAL_SUBMIT: {MESSAGE, DEFER, DEFER_UPDATE, UPDATE},
        }[record.type]
        if kind not in allowed:
            raise form_error(
                {
                    "type": _err(
                        "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type"
                    )
                }
            )

    def _apply(self, record: InteractionRecord, kind: int, data: dict[str, Any]) -> Message | None:
        world = self.world
        if kind in (MESSAGE, DEFER):
            message = make_message(
                world,
                record.channel,
                world.bot_user,
                data if kind == MESSAGE else {"content": "x"} | data,
                emit=False,
            )
            message.webhook_id = world.bot_user.id
            message.interaction_id, message.interaction_user = record.id, record.user
            if kind == DEFER:
                message.content, message.loading = "", True
            if not message.ephemeral:
                world.emit("MESSAGE_CREATE", world.wire.message(message), record.channel.guild)
            record.original = message
            return message
        if kind in (DEFER_UPDATE, UPDATE):
            record.original = record.target
            if kind == UPDATE and record.target is not None:
                edit_message(world, record.target, data)
            return record.target if kind == UPDATE else None
        if kind == CHOICES:
            record.choices = _check_choices(data.get("choices"))
            return None
        record.modal = data
        return None

    def age(self, record: InteractionRecord) -> float:
        """Seconds since the interaction was dispatched, by the server clock."""
        return self.world.clock.monotonic() - record.sent_at

    # -- follow-ups (webhook with the interaction token) ---------------------------------------
    def _record(self, request: web.Request) -> InteractionRecord:
        record = self.by_token.get(request.match_info["token"])
        if record is None or request.match_info["application_id"] != str(self.world.bot_user.id):
            raise ApiError(*UNKNOWN_WEBHOOK)
        if self.age(record) > self.token_lifetime:
            raise ApiError(*INVALID_WEBHOOK_TOKEN)
        return record

    def _message(self, record: InteractionRecord, raw: str) -> Message:
        if raw == "@original":
            found = record.original
        else:
            found = next((m for m in record.followups if str(m.id) == raw), None)
            if found is None and record.original is not None and str(record.original.id) == raw:
                found = record.original
        if found is None or found.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return found

    async def followup(self, request: web.Request) -> web.Response:
        """POST /webhooks/{app}/{token}: a follow-up (the first after a defer fills the defer)."""
        record = self._record(request)
        if record.response_type is None:
            raise ApiError(*UNKNOWN_WEBHOOK)
        body = await read_body(request)
        original = record.original
        # receiving-and-responding.mdx "Followup Messages": after a defer the first follow-up
        # edits the loading message, and its ephemeral flag is the defer's, not the follow-up's.
        if record.response_type == DEFER and original is not None and original.loading:
            # Discord: this edits the "thinking…" message; its ephemeral flag stays as deferred.
            edit_message(self.world, original, {k: v for k, v in body.items() if k != "flags"})
            message = original
        else:
            message = make_message(
                self.world, record.channel, self.world.bot_user, body, emit=False
            )
            message.webhook_id = self.world.bot_user.id
            message.interaction_id, message.interaction_user = record.id, record.user
            if not message.ephemeral:
                self.world.emit(
                    "MESSAGE_CREATE", self.world.wire.message(message), record.channel.guild
                )
            record.followups.append(message)
        await record.bump()
        if request.query.get("wait") not in ("1", "true", "True"):
            return web.Response(status=204)
        return json_response(self.world.wire.message(message))

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        """GET /webhooks/{app}/{token}/messages/{id|@original}."""
        record = self._record(request)
        return json_response(
            self.world.wire.message(self._message(record, request.match_info["message_id"]))
        )

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        """PATCH /webhooks/{app}/{token}/messages/{id|@original}."""
        record = self._record(request)
        message = self._message(record, request.match_info["message_id"])
        body = await read_body(request)
        edit_message(self.world, message, body)
        await record.bump()
        return json_response(self.world.wire.message(message))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{app}/{token}/messages/{id|@original}."""
        record = self._record(request)
        message = self._message(record, request.match_info["message_id"])
        message.deleted = True
        await record.bump()
        return web.Response(status=204)


def _check_choices(choices: Any) -> list[dict[str, Any]]:
    # receiving-and-responding.mdx "Autocomplete": up to 25 choices; application-commands.mdx
    # "Application Command Option Choice Structure": name 1-100, a string value ≤ 100.
    if not isinstance(choices, list):
        raise form_error(
            {"data": {"choices": _err("BASE_TYPE_REQUIRED", "This field is required")}}
        )
    if len(choices) > 25:
        raise form_error(
            {"data": {"choices": _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")}}
        )
    errors: dict[str, Any] = {}
    for index, choice in enumerate(choices):
        name, value = choice.get("name", ""), choice.get("value")
        if not 1 <= len(name) <= 100:
            errors[str(index)] = {
                "name": _err("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            }
        elif isinstance(value, str) and len(value) > 100:
            errors[str(index)] = {
                "value": _err("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
            }
    if errors:
        raise form_error({"data": {"choices": errors}})
    return choices


__all__ = ["EPHEMERAL", "InteractionRecord", "Interactions"]
