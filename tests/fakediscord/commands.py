"""Application commands: bulk-overwrite storage with Discord's validation, and lookup by path."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .state import World
from .validation import Errors, _err, form_error

_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


class CommandError(LookupError):
    """A test asked to run a command or option that the bot never synced (or can't be used)."""


def _check_options(options: list[dict[str, Any]], depth: int) -> Errors:
    # interactions/application-commands.mdx "Application Command Option Structure": ≤ 25
    # options, names matching ^[-_'\w]{1,32}$ in lower case, descriptions 1-100, required
    # options first, ≤ 25 choices and no autocomplete with choices, subcommands nested ≤ 2 deep.
    errors: Errors = {}
    if len(options) > 25:
        return _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    names: set[str] = set()
    for index, option in enumerate(options):
        one: Errors = {}
        name = option.get("name", "")
        if not _NAME_RE.match(name) or name != name.lower():
            one["name"] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif name in names:
            one["name"] = _err(
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option name already exists"
            )
        names.add(name)
        if not 1 <= len(option.get("description", "")) <= 100:
            one["description"] = _err(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        kind = option.get("type")
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= 2 or (kind == SUB_COMMAND_GROUP and depth >= 1):
                one["type"] = _err("APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Nesting too deep")
            elif nested := _check_options(option.get("options") or [], depth + 1):
                one["options"] = nested
        else:
            required = bool(option.get("required"))
            if required and seen_optional:
                one["required"] = _err(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
            seen_optional = seen_optional or not required
            choices = option.get("choices") or []
            if len(choices) > 25:
                one["choices"] = _err("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            if choices and option.get("autocomplete"):
                one["autocomplete"] = _err(
                    "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                    "Autocomplete cannot be set on options with choices",
                )
        if one:
            errors[str(index)] = one
    return errors


def check_commands(commands: list[dict[str, Any]]) -> None:
    """Raise 50035 for a command list Discord would refuse."""
    errors: Errors = {}
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        one: Errors = {}
        kind = command.get("type", 1)
        name = command.get("name", "")
        if kind == 1 and (not _NAME_RE.match(name) or name != name.lower()):
            one["name"] = _err("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if (kind, name) in seen:
            one["name"] = _err(
                "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add((kind, name))
        description = command.get("description", "")
        if kind == 1 and not 1 <= len(description) <= 100:
            one["description"] = _err(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if nested := _check_options(command.get("options") or [], 0):
            one["options"] = nested
        if one:
            errors[str(index)] = one
    if errors:
        raise form_error(errors)


class CommandStore:
    """What the bot synced, globally and per guild, with stable ids across re-syncs."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.global_commands: dict[str, dict[str, Any]] = {}
        self.guild_commands: dict[int, dict[str, dict[str, Any]]] = {}
        self.sync_count = 0
        self.synced = asyncio.Event()

    def _scope(self, guild_id: int | None) -> dict[str, dict[str, Any]]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, {})

    def overwrite(
        self, guild_id: int | None, commands: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Bulk overwrite (PUT): validate, keep ids of same-named commands, return the new list."""
        check_commands(commands)
        old = self._scope(guild_id)
        new: dict[str, dict[str, Any]] = {}
        for body in commands:
            new[body["name"]] = self._stored(guild_id, body, old.get(body["name"]))
        old.clear()
        old.update(new)
        self.sync_count += 1
        self.synced.set()
        return list(new.values())

    def upsert(self, guild_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one command (POST)."""
        check_commands([body])
        scope = self._scope(guild_id)
        scope[body["name"]] = self._stored(guild_id, body, scope.get(body["name"]))
        return scope[body["name"]]

    def _stored(
        self, guild_id: int | None, body: dict[str, Any], previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        app_id = str(self.world.bot_user.id)
        stored: dict[str, Any] = {
            "type": 1,
            "description": "",
            "default_member_permissions": None,
            "nsfw": False,
            "options": [],
            **body,
            "id": previous["id"] if previous else str(self.world.ids.next()),
            "application_id": app_id,
            "version": str(self.world.ids.next()),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored

    def listing(self, guild_id: int | None) -> list[dict[str, Any]]:
        """The commands in one scope (GET)."""
        return list(self._scope(guild_id).values())

    def delete(self, guild_id: int | None, command_id: str) -> bool:
        """Delete one command by id; False if unknown."""
        scope = self._scope(guild_id)
        for name, command in list(scope.items()):
            if command["id"] == command_id:
                del scope[name]
                return True
        return False

    def find(self, guild_id: int | None, name: str) -> dict[str, Any]:
        """The command a user in this guild (or DM) would see under that name."""
        if guild_id is not None and name in self.guild_commands.get(guild_id, {}):
            return self.guild_commands[guild_id][name]
        if name in self.global_commands:
            return self.global_commands[name]
        known = sorted(self.global_commands) + sorted(self.guild_commands.get(guild_id or 0, {}))
        raise CommandError(f"command /{name} is not synced (synced: {known or 'nothing'})")


def resolve_path(
    command: dict[str, Any], path: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Walk "group sub" under a command; return the names walked and the leaf's option specs."""
    options: list[dict[str, Any]] = command.get("options") or []
    walked: list[str] = []
    for part in path:
        match = next(
            (
                o
                for o in options
                if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
            ),
            None,
        )
        if match is None:
            full = " ".join([command["name"], *walked, part])
            raise CommandError(f"/{full} is not a synced subcommand")
        walked.append(part)
        options = match.get("options") or []
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options):
        subs = [o["name"] for o in options]
        raise CommandError(f"/{' '.join([command['name'], *walked])} needs a subcommand: {subs}")
    return walked, options


def nest(
    command: dict[str, Any], walked: list[str], leaf: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Wrap leaf option values in subcommand(-group) options of type 1/2, as Discord sends them."""
    result = leaf
    options = command.get("options") or []
    specs: list[dict[str, Any]] = []
    for part in walked:
        spec = next(o for o in options if o["name"] == part)
        specs.append(spec)
        options = spec.get("options") or []
    for spec in reversed(specs):
        result = [{"name": spec["name"], "type": spec["type"], "options": result}]
    return result
