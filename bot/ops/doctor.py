"""`paperboy doctor`: one screen that tells a new operator whether the install will work, before
waiting for 09:00: the token (application and bot name), the servers (or the invite URL when
there are none), each feed's channel with the permissions it lacks and its next run, whether each
source answers and when it last worked, and the database's integrity and schema version.

It reads the database read-only and talks to Discord over REST only, so it works whether or not
the bot is running. Exit 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiohttp
import sqlite_utils

from bot.config import Settings
from bot.feed_settings import describe_schedule, next_slot
from bot.ops.backup import OpsError, check_database
from bot.sources.http import USER_AGENT
from bot.store import feeds as feeds_repo
from bot.store import utcnow
from bot.store.database import Clock
from bot.store.migrations import MIGRATIONS
from bot.store.source_status import SOURCE_NAMES, SourceStatus, all_statuses

PROBE_TIMEOUT = 15.0
OK, BAD, INFO = "✓", "✗", "·"


@dataclass
class Report:
    """The doctor's lines and whether any check failed."""

    lines: list[str] = field(default_factory=list)
    problems: int = 0

    def ok(self, text: str) -> None:
        """A passed check."""
        self.lines.append(f"{OK} {text}")

    def bad(self, text: str) -> None:
        """A failed check."""
        self.lines.append(f"{BAD} {text}")
        self.problems += 1

    def info(self, text: str) -> None:
        """Something worth knowing that is not a failure."""
        self.lines.append(f"  {INFO} {text}")


def _read_store(db: Path) -> tuple[list[feeds_repo.Feed], dict[str, SourceStatus]]:
    """Feeds and source health from a read-only connection (nothing when there is no file)."""
    if not db.is_file():
        return [], {}
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        view = sqlite_utils.Database(conn)
        if "feeds" not in view.table_names():
            return [], {}
        return feeds_repo.list_feeds(view), all_statuses(view)


async def probe(session: aiohttp.ClientSession, url: str) -> str | None:
    """None when `url` answers below 400, else why not (one request, no retries)."""
    try:
        async with session.get(url, allow_redirects=True) as response:
            if response.status >= 400:
                return f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


async def check_sources(
    settings: Settings, statuses: dict[str, SourceStatus], report: Report
) -> None:
    """One request to each source, and each one's last success from the database."""
    urls = {
        "hf": f"{settings.hf_api_url.rstrip('/')}/daily_papers?limit=1",
        # the one feed the bot reads (arXiv joins categories with "+")
        "arxiv": f"{settings.arxiv_rss_url.rstrip('/')}/{'+'.join(settings.categories)}",
    }
    timeout = aiohttp.ClientTimeout(total=min(settings.http_timeout, PROBE_TIMEOUT))
    async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT}) as s:
        answers = await asyncio.gather(*(probe(s, url) for url in urls.values()))
    for (source, url), error in zip(urls.items(), answers, strict=True):
        status = statuses.get(source)
        last = f"last success {_when(status.last_ok_at if status else None)}"
        name = SOURCE_NAMES.get(source, source)
        if error is None:
            report.ok(f"{name} reachable ({last})")
        else:
            report.bad(f"{name} unreachable at {url}: {error} ({last})")


def check_db(db: Path, report: Report) -> None:
    """Integrity and schema version."""
    latest = MIGRATIONS._migrations[-1].name
    if not db.is_file():
        report.ok(f"database {db}: not created yet (the bot creates it on first start)")
        return
    try:
        found = check_database(db)
    except OpsError as exc:
        report.bad(str(exc))
        return
    pending = "" if found.schema == latest else f"; {latest} is applied when the bot starts"
    if found.ok and not found.unknown_migrations:
        report.ok(f"database {db}: {found.summary}{pending}")
    elif found.unknown_migrations:
        report.bad(f"database {db}: made by a newer Paperboy (schema {found.schema})")
    else:
        report.bad(f"database {db}: {found.summary}")


async def check_discord(
    settings: Settings, feeds: list[feeds_repo.Feed], report: Report, now: datetime
) -> None:
    """Token, servers, and every feed channel's permissions and next run."""
    from bot.discord.rest import TokenProblem, inspect
    from bot.discord.runner import MISSING_TOKEN, invite_url

    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        report.bad(MISSING_TOKEN)
        return
    pairs = [(f.guild_id, f.channel_id) for f in feeds]
    try:
        view = await inspect(token, settings.discord_api_url, settings.discord_gateway_url, pairs)
    except TokenProblem as exc:
        report.bad(f"token: {exc}; reset it in the developer portal and update .env")
        return
    except (aiohttp.ClientError, OSError) as exc:
        report.bad(f"cannot reach Discord at {settings.discord_api_url}: {exc}")
        return
    report.ok(f"token valid: application {view.application_name!r}, bot {view.bot_name!r}")
    if not view.guilds:
        report.bad(f"the bot is in no server: invite it with {invite_url(view.application_id)}")
    else:
        report.ok(f"in {len(view.guilds)} server(s): {', '.join(sorted(view.guilds.values()))}")
    for feed in feeds:
        access = view.channels[feed.channel_id]
        server = view.guilds.get(feed.guild_id, f"server {feed.guild_id}")
        where = f"{server} #{access.name or feed.channel_id}"
        if feed.disabled:
            report.info(f"{where}: feed disabled (the channel was deleted)")
            continue
        if access.missing:
            why = f" ({access.problem})" if access.problem else ""
            report.bad(f"{where}: missing {', '.join(access.missing)}{why}")
        elif access.problem:
            report.bad(f"{where}: {access.problem}")
        else:
            report.ok(f"{where}: permissions ok")
        report.info(_schedule_line(feed, now))


def _schedule_line(feed: feeds_repo.Feed, now: datetime) -> str:
    schedule = describe_schedule(feed.schedule_time, feed.timezone, feed.days)
    if feed.paused:
        return f"{schedule}; paused: {feed.pause_reason or 'by a moderator'}"
    slot = next_slot(feed.schedule_time, feed.timezone, feed.days, now)
    return f"{schedule}; next run {slot:%a %d %b %H:%M} ({feed.timezone}); sources {feed.sources}"


async def run_doctor(settings: Settings, *, clock: Clock = utcnow) -> int:
    """Print the report; 0 when all is well, 1 otherwise."""
    report = Report()
    try:
        feeds, statuses = await asyncio.to_thread(_read_store, settings.db)
    except sqlite3.Error as exc:
        report.bad(f"cannot read {settings.db}: {exc}")
        feeds, statuses = [], {}
    await check_discord(settings, feeds, report, clock())
    if not feeds:
        report.info("no feeds yet: use /feed subscribe in a channel")
    await check_sources(settings, statuses, report)
    await asyncio.to_thread(check_db, settings.db, report)
    print("\n".join(report.lines))
    print("All well." if not report.problems else f"{report.problems} problem(s) found.")
    return 0 if not report.problems else 1
