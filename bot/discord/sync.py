"""Publishing the slash commands: where they may be used (installed in servers only; usable in
the bot's DM unless `guild_only()`), a hash of the payload per target so a start only syncs
when the command tree changed (`paperboy sync` forces it), and the housekeeping that keeps each
command from showing twice (dev-server mode clears the global copies it finds; leaving it clears
the dev server's copies)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.store import Store
from bot.store import command_syncs as syncs_repo
from bot.store.database import Clock

log = logging.getLogger(__name__)

# Installed into servers only: without a user install nobody can run a command in a server the
# bot is not in (Discord: application-commands "Installation Context").
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)
# `guild_only()` commands: servers only. discord.py's decorator leaves the DM contexts unset,
# which Discord would read as "everywhere", so they are pinned to False here.
SERVER_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
# Every other command: servers and the bot's own DM (never other people's DMs or group DMs).
# The seam for DM-capable commands (e.g. /subscriptions, /unsubscribe): drop `guild_only()`, or
# set `@app_commands.allowed_contexts(...)` on the command, which is then left as it is.
SERVER_AND_BOT_DM = app_commands.AppCommandContext(
    guild=True, dm_channel=True, private_channel=False
)

AnyCommand = app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu


def pin_contexts(commands: Iterable[AnyCommand]) -> None:
    """Make every top-level command's contexts explicit (see SERVER_ONLY / SERVER_AND_BOT_DM)."""
    for command in commands:
        if command.guild_only:
            command.allowed_contexts = SERVER_ONLY
        elif command.allowed_contexts is None:
            command.allowed_contexts = SERVER_AND_BOT_DM


def tree_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    """The JSON the tree would PUT for this target, in a stable order."""
    payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    return sorted(payload, key=lambda c: (c.get("type", 1), c["name"]))


def payload_hash(payload: list[dict[str, Any]]) -> str:
    """A digest of a command payload that changes exactly when the payload does."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What publishing the commands did: `synced` False means unchanged, nothing sent."""

    where: str  # "all servers" or "server <id>"
    names: tuple[str, ...]
    synced: bool
    cleared: tuple[str, ...] = ()  # where stale copies were removed
    error: str | None = None  # Discord refused; the previous commands stay in place

    def line(self) -> str:
        """One line for a person: what happened."""
        if self.error is not None:
            return f"Could not sync the commands to {self.where}: {self.error}"
        done = "Synced" if self.synced else "Unchanged, not synced:"
        count = f"{len(self.names)} command{'' if len(self.names) == 1 else 's'}"
        text = f"{done} {count} to {self.where} ({', '.join(self.names)})"
        if self.cleared:
            text += f"; removed the stale copies in {' and '.join(self.cleared)}"
        return text


class CommandPublisher:
    """Publishes a command tree to all servers, or to the dev server, when it changed."""

    def __init__(
        self,
        tree: app_commands.CommandTree[Any],
        store: Store,
        *,
        dev_guild: int | None,
        clock: Clock,
    ) -> None:
        self.tree = tree
        self.store = store
        self.dev_guild = dev_guild
        self.clock = clock

    @property
    def where(self) -> str:
        """The target, as a person reads it."""
        return f"server {self.dev_guild}" if self.dev_guild else "all servers"

    async def publish(self, *, force: bool = False) -> SyncReport:
        """Sync when the payload differs from the last one published here (or when `force`)."""
        client = self.tree.client
        app_id = client.application_id
        if app_id is None:
            raise RuntimeError("publish commands after login (the application id is unknown)")
        guild = discord.Object(self.dev_guild) if self.dev_guild else None
        if guild is not None:
            # Guild commands update instantly, global ones can take a while: handy in development.
            self.tree.copy_global_to(guild=guild)
        target = self.dev_guild or syncs_repo.GLOBAL
        payload = tree_payload(self.tree, guild)
        names = tuple(c["name"] for c in payload)
        digest = payload_hash(payload)
        cleared = await self._clear_stale(app_id, target)
        if not force and await self.store.run(syncs_repo.synced_hash, app_id, target) == digest:
            log.info(
                "Commands unchanged since the last sync to %s; not syncing"
                " (`paperboy sync` forces it)",
                self.where,
            )
            return SyncReport(self.where, names, synced=False, cleared=cleared)
        try:
            await self.tree.sync(guild=guild)
        except app_commands.CommandSyncFailure:
            raise  # our command definitions are invalid: a bug to fix, not to run with
        except discord.Forbidden:
            refused = (
                "Discord refused (403): invite the bot with the applications.commands scope"
                " (see `paperboy invite`)"
            )
            log.error("Could not sync the commands to %s: %s", self.where, refused)
            return SyncReport(self.where, names, False, cleared, refused)
        except discord.HTTPException as exc:
            # Commands from the previous sync stay in place; digests still go out.
            log.error("Could not sync slash commands (%s); keeping the previous ones", exc)
            return SyncReport(self.where, names, False, cleared, f"{exc.status} {exc.text}")
        await self.store.run(syncs_repo.record_sync, app_id, target, digest, self.clock())
        log.info("Synced %d commands to %s: %s", len(names), self.where, list(names))
        return SyncReport(self.where, names, synced=True, cleared=cleared)

    async def _clear_stale(self, app_id: int, target: int) -> tuple[str, ...]:
        """Remove copies that would make a command show twice; returns where it removed some."""
        http = self.tree.client.http
        cleared: list[str] = []
        if target != syncs_repo.GLOBAL:
            try:
                found = await self.tree.fetch_commands()
                if found:
                    await http.bulk_upsert_global_commands(app_id, payload=[])
                    log.warning(
                        "Dev-server mode: removed %d global commands (%s) so they don't show"
                        " twice; use a separate application for development",
                        len(found),
                        ", ".join(c.name for c in found),
                    )
                    cleared.append("all servers")
            except discord.HTTPException as exc:
                log.warning("Could not check for global commands to remove (%s)", exc)
            await self.store.run(syncs_repo.forget, app_id, syncs_repo.GLOBAL)
        for guild_id in await self.store.run(syncs_repo.synced_guilds, app_id):
            if guild_id == target:
                continue
            try:
                await http.bulk_upsert_guild_commands(app_id, guild_id, payload=[])
                cleared.append(f"server {guild_id}")
                log.info("Removed the commands synced to former dev server %s", guild_id)
            except discord.HTTPException as exc:
                # Gone or no access: nothing of ours to show there any more.
                log.warning("Could not remove the commands in server %s (%s)", guild_id, exc)
            await self.store.run(syncs_repo.forget, app_id, guild_id)
        return tuple(cleared)
