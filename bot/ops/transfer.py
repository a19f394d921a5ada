"""`paperboy export` / `paperboy import`: a community's feeds, subscriptions and members' DM
schedules as versioned JSON, so it can move hosts (an export made before DM schedules were
exported imports too). Import checks the whole file before writing anything, then adds what is
missing in one transaction and skips what is already there, so running it twice changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.feed_settings import FeedSettingError, parse_days, parse_time, parse_timezone
from bot.feed_sources import SourcesError, parse_sources
from bot.ops.backup import OpsError
from bot.query import QueryError, parse
from bot.store import Store
from bot.store import transfer as repo
from bot.store.rows import iso

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import added and skipped, per kind."""

    feeds: repo.Counted
    channel_subscriptions: repo.Counted
    personal_subscriptions: repo.Counted
    dm_schedules: repo.Counted

    def lines(self) -> list[str]:
        """One line per kind: "feeds: 2 added, 1 skipped (already there)"."""
        kinds = {
            "feeds": self.feeds,
            "channel subscriptions": self.channel_subscriptions,
            "personal subscriptions": self.personal_subscriptions,
            "DM schedules": self.dm_schedules,
        }
        return [
            f"{kind}: {c.added} added, {c.skipped} skipped (already there)"
            for kind, c in kinds.items()
        ]


async def export_file(store: Store, path: Path, guild_id: int | None) -> dict[str, int]:
    """Write the export to `path`; returns how many of each kind it holds."""
    found = await store.read(repo.export_rows, guild_id)
    document = {
        "version": FORMAT_VERSION,
        "exported_at": iso(store.now()),
        "guild_id": guild_id,
        **found,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    return {kind: len(items) for kind, items in found.items()}


def read_export(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Load and check an export; `OpsError` names the first thing wrong ("feeds[2].timezone")."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpsError(f"no such file: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OpsError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or "version" not in document:
        raise OpsError(f"{path} is not a Paperboy export (no top-level version)")
    if document["version"] != FORMAT_VERSION:
        raise OpsError(
            f"{path} has export version {document['version']!r}; this Paperboy reads version"
            f" {FORMAT_VERSION}"
        )
    checked: dict[str, list[dict[str, Any]]] = {}
    for kind, check in _CHECKS.items():
        items = document.get(kind, [])
        if not isinstance(items, list):
            raise OpsError(f"{kind} must be a list")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(check(item))
            except (KeyError, TypeError, ValueError, QueryError) as exc:
                raise OpsError(f"{kind}[{i}]: {_why(exc)}") from None
        checked[kind] = out
    return checked


async def import_file(store: Store, path: Path) -> ImportReport:
    """Add every feed and subscription of the export at `path` that the database lacks."""
    checked = read_export(path)
    now = store.now()

    def write(db: sqlite_utils.Database) -> ImportReport:
        return ImportReport(
            repo.import_feeds(db, checked["feeds"], now),
            repo.import_channel_subscriptions(db, checked["channel_subscriptions"], now),
            repo.import_personal_subscriptions(db, checked["personal_subscriptions"], now),
            repo.import_dm_schedules(db, checked["dm_schedules"], now),
        )

    return await store.run(write)


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return str(exc).replace("`", "")


def _id(item: dict[str, Any], key: str, *, optional: bool = False) -> int | None:
    value = item[key]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{key} must be a Discord id (a positive integer), not {value!r}")
    return value


def _text(item: dict[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, not {value!r}")
    return value


def _feed(item: dict[str, Any]) -> dict[str, Any]:
    try:
        schedule = parse_time(_text(item, "schedule_time"))
        timezone = parse_timezone(_text(item, "timezone"))
        days = parse_days(_text(item, "days"))
        sources = parse_sources(_text(item, "sources")).normal
    except (FeedSettingError, SourcesError) as exc:
        raise ValueError(str(exc)) from None
    return {
        "guild_id": _id(item, "guild_id"),
        "channel_id": _id(item, "channel_id"),
        "schedule_time": schedule,
        "timezone": timezone,
        "days": days,
        "sources": sources,
        "paused": bool(item.get("paused", False)),
        "pause_reason": item.get("pause_reason"),
        "disabled": bool(item.get("disabled", False)),
        "created_by": _id(item, "created_by", optional=True) if "created_by" in item else None,
    }


def _channel_sub(item: dict[str, Any]) -> dict[str, Any]:
    query = _text(item, "query")
    return {
        "guild_id": _id(item, "guild_id"),
        "channel_id": _id(item, "channel_id"),
        "query": query,
        "normal": parse(query).normal,
        "added_by": _id(item, "added_by"),
    }


def _personal_sub(item: dict[str, Any]) -> dict[str, Any]:
    query = _text(item, "query")
    dm = item.get("dm", False)
    if not isinstance(dm, bool):
        raise ValueError(f"dm must be true or false, not {dm!r}")
    channel = _id(item, "channel_id", optional=True) if "channel_id" in item else None
    if channel is None and not dm:
        raise ValueError("channel_id is required unless dm is true")
    return {
        "guild_id": _id(item, "guild_id"),
        "user_id": _id(item, "user_id"),
        "channel_id": channel,
        "query": query,
        "normal": parse(query).normal,
        "dm": dm,
    }


def _dm_schedule(item: dict[str, Any]) -> dict[str, Any]:
    try:
        schedule = parse_time(_text(item, "schedule_time"))
        timezone = parse_timezone(_text(item, "timezone"))
        days = parse_days(_text(item, "days"))
    except FeedSettingError as exc:
        raise ValueError(str(exc)) from None
    if days not in ("daily", "weekdays"):
        raise ValueError(f"days must be daily or weekdays for a DM digest, not {days!r}")
    paused = item.get("paused", False)
    if not isinstance(paused, bool):
        raise ValueError(f"paused must be true or false, not {paused!r}")
    return {
        "user_id": _id(item, "user_id"),
        "schedule_time": schedule,
        "timezone": timezone,
        "days": days,
        "paused": paused,
    }


_CHECKS = {
    "feeds": _feed,
    "channel_subscriptions": _channel_sub,
    "personal_subscriptions": _personal_sub,
    "dm_schedules": _dm_schedule,
}


def describe_counts(counts: dict[str, int]) -> str:
    """ "2 feeds, 5 channel subscriptions, 3 personal subscriptions"."""
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
