"""The `paperboy` command: run the bot, publish its slash commands, ingest papers, preview a
subscription, search the store, and the operator commands (backup, restore, export, import,
doctor) from `bot/ops/commands.py`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date

from bot.config import ConfigError, Settings, load_settings
from bot.query import QueryError, parse
from bot.store import Store, StoreBusy, StoreError
from bot.store import papers as papers_repo
from bot.terminal import Style, render_digest, render_search


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="paperboy", description="Research-paper alerts for Discord."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the Discord bot (needs PAPERBOY_DISCORD_TOKEN)")
    sub.add_parser("invite", help="print the URL that adds the bot to a server")
    sub.add_parser(
        "sync", help="publish the slash commands now, even if unchanged (needs the token)"
    )

    ingest = sub.add_parser("ingest", help="fetch papers from the sources into the database")
    ingest.add_argument("--date", type=_day, help="Hugging Face day to fetch (default: today)")
    ingest.add_argument("--source", choices=["hf", "arxiv"], help="only this source")
    ingest.add_argument("--sample", action="store_true", help="load the bundled sample day")

    preview = sub.add_parser("preview", help="show what a channel subscribed to QUERY would get")
    preview.add_argument("query")
    preview.add_argument("--date", type=_day, help="day to preview (default: latest)")
    preview.add_argument("--sample", action="store_true", help="use the bundled sample day")

    search = sub.add_parser("search", help="search every stored paper")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10, help="results to show (default 10)")

    backup = sub.add_parser("backup", help="copy the database consistently (safe while running)")
    backup.add_argument("file", help="where to write the copy")
    restore = sub.add_parser("restore", help="replace the database with a backup (bot stopped)")
    restore.add_argument("file", help="the backup to restore")
    sub.add_parser("doctor", help="check token, servers, feed permissions, sources, database")
    export = sub.add_parser("export", help="write feeds and subscriptions to a JSON file")
    export.add_argument("file")
    export.add_argument("--guild", type=int, metavar="ID", help="only this server's")
    imports = sub.add_parser("import", help="add the feeds and subscriptions of an export")
    imports.add_argument("file")
    return parser


OPS_COMMANDS = ("backup", "restore", "doctor", "export", "import")


async def _preview(settings: Settings, args: argparse.Namespace, style: Style) -> int:
    query = parse(args.query)
    if args.sample:
        from bot.sources.sample import load_sample_day

        day, papers = load_sample_day()
    else:
        async with await Store.open(settings.db, busy_timeout=settings.db_busy_timeout) as store:
            day = args.date or await store.read(papers_repo.latest_day)
            if day is None:
                print("The database is empty: run `paperboy ingest` (or use --sample).")
                return 1
            papers = await store.read(papers_repo.papers_for_day, day)
    print(render_digest(query, papers, day, style=style, cap=settings.digest_cap))
    return 0


async def _search(settings: Settings, args: argparse.Namespace, style: Style) -> int:
    from bot.search import search_papers

    query = parse(args.query)
    async with await Store.open(settings.db, busy_timeout=settings.db_busy_timeout) as store:
        page = await store.read(search_papers, query, limit=max(1, args.limit), mark=style.bold)
    print(render_search(query, page, style=style))
    return 0


async def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ingest import ingest_cli

    return await ingest_cli(settings, day=args.date, source=args.source, sample=args.sample)


def _invite(settings: Settings) -> int:
    from bot.discord.runner import application_id_from_token, invite_url

    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    app_id = application_id_from_token(token) if token else None
    if app_id is None:
        print(
            "paperboy: set PAPERBOY_DISCORD_TOKEN (in the environment or .env) to the bot's token "
            "so the invite URL can name its application.",
            file=sys.stderr,
        )
        return 2
    print(invite_url(app_id))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `paperboy` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"paperboy: {error}", file=sys.stderr)
        return 2
    style = Style.for_stream(sys.stdout)
    try:
        if args.command == "run":
            from bot.discord.runner import run_bot
            from bot.logging_setup import configure_logging

            configure_logging(
                settings.log_level, secrets=[settings.discord_token], fmt=settings.log_format
            )
            return asyncio.run(run_bot(settings))
        if args.command == "sync":
            from bot.discord.runner import sync_commands_now
            from bot.logging_setup import configure_logging

            # The outcome is the one line printed; INFO chatter would bury it.
            verbose = settings.log_level.upper() in ("DEBUG", "ERROR", "CRITICAL")
            configure_logging(
                settings.log_level if verbose else "WARNING",
                secrets=[settings.discord_token],
                fmt=settings.log_format,
            )
            return asyncio.run(sync_commands_now(settings))
        if args.command in OPS_COMMANDS:
            from bot.ops import commands

            handler = getattr(commands, f"{args.command}_command")
            return int(handler(settings, args))
        if args.command == "invite":
            return _invite(settings)
        if args.command in ("preview", "search"):
            parse(args.query)  # refuse a bad query before touching anything
        if args.command == "preview":
            return asyncio.run(_preview(settings, args, style))
        if args.command == "search":
            return asyncio.run(_search(settings, args, style))
        if args.command == "ingest":
            from bot.logging_setup import configure_logging

            configure_logging(settings.log_level, fmt=settings.log_format)
            return asyncio.run(_ingest(settings, args))
    except QueryError as error:
        print(f"paperboy: invalid query: {error}", file=sys.stderr)
        return 2
    except StoreBusy as error:
        # another process kept the write lock past PAPERBOY_DB_BUSY_TIMEOUT: worth a retry (1)
        print(f"paperboy: {error}", file=sys.stderr)
        return 1
    except StoreError as error:
        # exit 2, not a traceback and 1: a service manager must not restart into it forever
        print(f"paperboy: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
