"""What a simulated user does: INTERACTION_CREATE payloads from synced commands; the replies."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from . import permissions as p
from .commands import SUB_COMMAND, SUB_COMMAND_GROUP, CommandError, CommandStore, nest, resolve_path
from .interactions import DEFER, DEFER_UPDATE, INITIAL_RESPONSE_DEADLINE, InteractionRecord
from .state import PUBLIC_THREAD, Channel, Member, Message, Role, User, World

_KIND_NAMES = {6: "user", 7: "channel", 8: "role"}
DISCORD_DEADLINE = INITIAL_RESPONSE_DEADLINE  # seconds Discord gives a bot to answer or defer


class InteractionNotAnswered(AssertionError):
    """The bot did not answer an interaction within the driver's timeout."""


class InteractionResult:
    """What the user sees after an interaction; properties read the live state (edits show)."""

    def __init__(self, record: InteractionRecord) -> None:
        self.record = record

    def __repr__(self) -> str:
        kind, content = self.response_type, self.content
        return f"<InteractionResult type={kind} content={content!r} ephemeral={self.ephemeral}>"

    @property
    def answered(self) -> bool:
        """True once the bot sent any callback."""
        return self.record.response_type is not None

    @property
    def latency(self) -> float | None:
        """Seconds the bot took to send its first callback (None if it never did)."""
        return self.record.latency

    @property
    def refused_late(self) -> bool:
        """True if the bot's only answers came too late and Discord refused them (10062)."""
        return not self.answered and bool(self.record.refused_late)

    @property
    def answered_in_time(self) -> bool:
        """True if the first callback came within Discord's 3-second limit."""
        latency = self.record.latency
        return latency is not None and latency <= DISCORD_DEADLINE

    @property
    def response_type(self) -> int | None:
        """Callback type: 4 message, 5 defer, 6 deferred update, 7 update, 8 choices, 9 modal."""
        return self.record.response_type

    @property
    def deferred(self) -> bool:
        """True if the bot deferred (type 5 or 6)."""
        return self.record.response_type in (DEFER, DEFER_UPDATE)

    @property
    def message(self) -> Message | None:
        """The response message (or, after 6/7, the message whose component was used)."""
        return self.record.original

    @property
    def content(self) -> str:
        """Content of the visible response: the original message, else the last follow-up."""
        shown = self._shown()
        return shown.content if shown else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Embeds of the visible response."""
        shown = self._shown()
        return shown.embeds if shown else []

    @property
    def components(self) -> list[dict[str, Any]]:
        """Components of the visible response."""
        shown = self._shown()
        return shown.components if shown else []

    @property
    def ephemeral(self) -> bool:
        """True if the visible response is only shown to the user."""
        shown = self._shown()
        return bool(shown and shown.ephemeral)

    @property
    def followups(self) -> list[Message]:
        """Follow-up messages (the first after a defer fills the defer instead)."""
        return [m for m in self.record.followups if not m.deleted]

    @property
    def messages(self) -> list[Message]:
        """Every live message this interaction produced, original first."""
        first = [self.record.original] if self.record.original and self.record.type == 2 else []
        return [m for m in first if not m.deleted] + self.followups

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """Autocomplete choices (type 8)."""
        return self.record.choices

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (type 9)."""
        return self.record.modal

    def _shown(self) -> Message | None:
        original = self.record.original
        if original is not None and not original.deleted:
            return original
        followups = self.followups
        return followups[-1] if followups else None

    @property
    def final(self) -> bool:
        """True when nothing is pending: not unanswered, not a "thinking…" defer."""
        kind = self.record.response_type
        if kind is None:
            return False
        if kind == DEFER:
            return not (self.record.original and self.record.original.loading)
        if kind == DEFER_UPDATE:
            return self.record.version > 1
        return True

    async def wait_for_final(self, timeout: float = 10.0) -> InteractionResult:  # noqa: ASYNC109
        """Wait until a defer was followed by an edit or follow-up; return self."""
        await self.wait_until(lambda: self.final, timeout, "a final answer")
        return self

    async def wait_for_followups(self, count: int = 1, timeout: float = 10.0) -> list[Message]:  # noqa: ASYNC109
        """Wait until at least `count` follow-up messages exist."""
        await self.wait_until(
            lambda: len(self.followups) >= count, timeout, f"{count} follow-up(s)"
        )
        return self.followups

    async def wait_until(self, predicate: Any, timeout: float, what: str = "a change") -> None:  # noqa: ASYNC109
        """Wait (up to timeout seconds) until predicate() is true."""
        record = self.record
        try:
            async with asyncio.timeout(timeout), record.changed:
                await record.changed.wait_for(predicate)
        except TimeoutError:
            raise InteractionNotAnswered(
                f"bot did not send {what} within {timeout}s: {self!r}"
            ) from None


def check_can_use(user: User, channel: Channel, command: dict[str, Any]) -> Member | None:
    """Raise CommandError if Discord would not show this command to the user here."""
    guild = channel.guild
    if guild is None:
        contexts = command.get("contexts")
        if (
            "guild_id" in command
            or command.get("dm_permission") is False
            or (contexts is not None and 1 not in contexts)
        ):
            raise CommandError(f"/{command['name']} is not available in DMs")
        return None
    member = guild.members.get(user.id)
    if member is None:
        raise CommandError(f"{user.username} is not a member of {guild.name}")
    perms = member.permissions_in(channel)
    if not perms & p.VIEW_CHANNEL or not perms & p.USE_APPLICATION_COMMANDS:
        raise CommandError(f"{user.username} cannot use commands in #{channel.name}")
    required = command.get("default_member_permissions")
    if required is not None and int(required) & ~perms:
        raise CommandError(
            f"/{command['name']} needs permissions {required} that {user.username} lacks"
        )
    return member


def _number(label: str, kind: int, raw: Any) -> int | float:
    """Convert an integer (4) or number (10) option value as Discord's client would accept it."""
    try:
        value = float(raw) if not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        value = None
    if value is None or (kind == 4 and not value.is_integer()):
        raise CommandError(f"{label} needs an {'integer' if kind == 4 else 'number'}, got {raw!r}")
    return int(value) if kind == 4 else value


class Payloads:
    """Builds interaction payloads against what the bot synced."""

    def __init__(self, world: World, commands: CommandStore) -> None:
        self.world = world
        self.commands = commands

    def base(self, record: InteractionRecord) -> dict[str, Any]:
        """Fields every INTERACTION_CREATE has."""
        world, channel = self.world, record.channel
        bot = world.bot_user
        data: dict[str, Any] = {
            "id": str(record.id),
            "application_id": str(bot.id),
            "type": record.type,
            "token": record.token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": world.wire.channel(channel),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 8 * 1024 * 1024,
            "data": record.data,
        }
        if record.guild is not None and record.member is not None:
            perms = record.member.permissions_in(channel)
            data["guild_id"] = str(record.guild.id)
            data["guild"] = {"id": str(record.guild.id), "locale": "en-US", "features": []}
            data["guild_locale"] = "en-US"
            data["member"] = world.wire.member(record.member) | {"permissions": str(perms)}
            data["app_permissions"] = str(record.guild.bot_member.permissions_in(channel))
            data["authorizing_integration_owners"] = {"0": str(record.guild.id)}
            data["context"] = 0
        else:
            data["user"] = world.wire.user(record.user)
            data["app_permissions"] = str(p.ALL)
            data["authorizing_integration_owners"] = {"1": str(record.user.id)}
            data["context"] = 1
        if record.target is not None:
            data["message"] = world.wire.message(record.target)
        return data

    def command_data(
        self,
        user: User,
        channel: Channel,
        name: str,
        options: Mapping[str, Any],
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """The `data` of a slash-command/autocomplete interaction, checked like Discord's UI."""
        root, *path = name.split()
        guild_id = channel.guild.id if channel.guild else None
        command = self.commands.find(guild_id, root)
        check_can_use(user, channel, command)
        walked, specs = resolve_path(command, path)
        by_name = {spec["name"]: spec for spec in specs}
        unknown = set(options) - set(by_name)
        if unknown:
            raise CommandError(
                f"/{name} has no option(s) {sorted(unknown)}; synced: {sorted(by_name)}"
            )
        resolved: dict[str, dict[str, Any]] = {}
        leaf: list[dict[str, Any]] = []
        for spec in specs:
            if spec["name"] not in options:
                if spec.get("required") and focused is None:
                    raise CommandError(f"/{name} needs option {spec['name']!r}")
                continue
            raw = options[spec["name"]]
            if spec["name"] == focused:
                leaf.append(
                    {"name": spec["name"], "type": spec["type"], "value": str(raw), "focused": True}
                )
                continue
            value = self._convert(name, spec, raw, channel, resolved)
            leaf.append({"name": spec["name"], "type": spec["type"], "value": value})
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": nest(command, walked, leaf),
        }
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    def _convert(
        self, name: str, spec: dict[str, Any], raw: Any, channel: Channel, resolved: dict[str, Any]
    ) -> Any:
        kind = spec["type"]
        label = f"/{name} option {spec['name']!r}"
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            raise CommandError(f"{label} is a subcommand; put it in the name")
        if kind == 3:
            value: Any = str(raw)
            lo, hi = spec.get("min_length", 0), spec.get("max_length", 6000)
            if not lo <= len(value) <= hi:
                raise CommandError(f"{label} must be {lo}-{hi} characters")
        elif kind in (4, 10):
            value = _number(label, kind, raw)
            if spec.get("min_value") is not None and value < spec["min_value"]:
                raise CommandError(f"{label} must be ≥ {spec['min_value']}")
            if spec.get("max_value") is not None and value > spec["max_value"]:
                raise CommandError(f"{label} must be ≤ {spec['max_value']}")
        elif kind == 5:
            # Strings come from the console ("true"/"false"); Discord sends JSON booleans.
            value = raw.lower() in ("true", "yes", "1") if isinstance(raw, str) else bool(raw)
        elif kind in (6, 7, 8, 9):
            value = self._resolve(label, kind, raw, channel, resolved)
        else:
            raise CommandError(f"{label}: option type {kind} is not supported by the fake")
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise CommandError(f"{label} must be one of {[c['value'] for c in choices]}")
        return value

    def _resolve(
        self, label: str, kind: int, raw: Any, channel: Channel, resolved: dict[str, Any]
    ) -> str:
        wire = self.world.wire
        guild = channel.guild
        if isinstance(raw, Member):
            raw = raw.user
        if isinstance(raw, User) and kind in (6, 9):
            resolved.setdefault("users", {})[str(raw.id)] = wire.user(raw)
            member = guild.members.get(raw.id) if guild else None
            if member is not None:
                perms = str(member.permissions_in(channel))
                data = wire.member(member, with_user=False) | {"permissions": perms}
                resolved.setdefault("members", {})[str(raw.id)] = data
            return str(raw.id)
        if isinstance(raw, Role) and kind in (8, 9):
            resolved.setdefault("roles", {})[str(raw.id)] = wire.role(raw)
            return str(raw.id)
        if isinstance(raw, Channel) and kind == 7:
            bot_perms = raw.guild.bot_member.permissions_in(raw) if raw.guild else p.ALL
            data = wire.channel(raw) | {"permissions": str(bot_perms)}
            if raw.type != PUBLIC_THREAD and raw.is_thread:
                data["type"] = raw.type
            resolved.setdefault("channels", {})[str(raw.id)] = data
            return str(raw.id)
        raise CommandError(f"{label} needs a {_KIND_NAMES.get(kind, 'mentionable')} object")

    def find_component(self, message: Message, custom_id: str) -> dict[str, Any]:
        """The component with this custom_id on a message, or CommandError."""
        for row in message.components:
            for item in row.get("components") or [row]:
                if item.get("custom_id") == custom_id:
                    if item.get("disabled"):
                        raise CommandError(f"component {custom_id!r} is disabled")
                    return item
        ids = [i.get("custom_id") for r in message.components for i in r.get("components") or [r]]
        raise CommandError(f"message {message.id} has no component {custom_id!r} (has {ids})")
