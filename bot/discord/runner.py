"""Running the bot as a process (`paperboy run`, `paperboy sync`): resources, signals, exit
codes with one line saying what to do, invite links."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from urllib.parse import urlencode

import aiohttp
import discord
import yarl

from bot.config import DISCORD_API_URL, DISCORD_GATEWAY_URL, USER_AGENT, Settings
from bot.discord.client import DEFAULT_EXTENSIONS, PaperboyBot
from bot.ops.dblock import DatabaseBusy, DatabaseLock
from bot.store import Store, utcnow
from bot.store.database import Clock

log = logging.getLogger(__name__)


EXIT_OK = 0
EXIT_FAILED = 1  # worth retrying: Discord unreachable, unexpected crash
EXIT_CONFIG = 2  # a person must act first: token, intents, sharding (systemd won't restart)

MISSING_TOKEN = (
    "No Discord token: in the Discord developer portal open Applications → your app → Bot → "
    "Reset Token, then put PAPERBOY_DISCORD_TOKEN=... in .env"
)
REJECTED_TOKEN = (
    "Discord rejected the token (401): reset it in the developer portal (Applications → Bot → "
    "Reset Token) and update PAPERBOY_DISCORD_TOKEN in .env"
)


PORTAL = "the Discord developer portal (Applications → your app → Bot)"
# Gateway close codes after which reconnecting cannot help (Discord: topics/opcodes-and-status-
# codes "Gateway Close Event Codes"): each ends the process with EXIT_CONFIG and this line.
FATAL_CLOSES = {
    4004: (
        "Discord closed the gateway with 4004 (authentication failed): the token was reset,"
        f" e.g. after 1,000 logins in a day. Reset it in {PORTAL} and update"
        " PAPERBOY_DISCORD_TOKEN in .env"
    ),
    4010: (
        "Discord closed the gateway with 4010 (invalid shard): Paperboy takes its shard count"
        " from Discord at every start, so start it again; report a bug if this repeats"
    ),
    4011: (
        "Discord closed the gateway with 4011 (sharding required): the bot is in more servers"
        " than its shards may hold. Start it again once (it asks Discord for the shard count"
        " at every start); if this repeats, contact Discord support about the shard count"
    ),
    4012: "Discord closed the gateway with 4012 (invalid API version): upgrade Paperboy",
    4013: (
        "Discord closed the gateway with 4013 (invalid intents): this is a bug in Paperboy's"
        " intents (bot_intents in bot/discord/client.py); please report it"
    ),
    4014: (
        "Discord refused a privileged intent (4014): enable it under"
        f" {PORTAL} → Privileged Gateway Intents, or remove it from the bot"
    ),
}


def bot_permissions() -> discord.Permissions:
    """Exactly the channel permissions the bot asks for when invited."""
    return discord.Permissions(
        view_channel=True,  # see the channels it posts digests into
        send_messages=True,  # post digests and alerts
        send_messages_in_threads=True,  # post the papers inside a digest's thread
        create_public_threads=True,  # open one thread per daily digest to keep channels tidy
        embed_links=True,  # papers are rendered as embeds (without it Discord drops them)
        read_message_history=True,  # fetch its own earlier messages to resume an interrupted digest
    )


def invite_url(application_id: int) -> str:
    """The OAuth2 link that adds the bot to a server with slash commands and its permissions."""
    query = urlencode(
        {
            "client_id": application_id,
            "scope": "bot applications.commands",
            "permissions": bot_permissions().value,
        }
    )
    return f"https://discord.com/oauth2/authorize?{query}"


def application_id_from_token(token: str) -> int | None:
    """The bot's user id (= application id) encoded in a bot token, or None if it is not one."""
    first = token.strip().split(".", 1)[0]
    if not first:
        return None
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None


def point_discord_at(api_url: str, gateway_url: str) -> None:
    """Send discord.py's REST and gateway traffic to another server (tests, compatible hosts).

    Both are class attributes read when each request/connection is made, so this is process-wide;
    the defaults are left untouched so discord.py keeps its own API version handling.
    """
    if api_url.rstrip("/") != DISCORD_API_URL:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url != DISCORD_GATEWAY_URL:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def run_bot(
    settings: Settings,
    *,
    extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    clock: Clock = utcnow,
    stop: asyncio.Event | None = None,
    on_bot: Callable[[PaperboyBot], object] | None = None,
) -> int:
    """Run Paperboy until Ctrl-C/SIGTERM (or `stop` is set); returns the process exit code.

    Owns the resources the bot uses: the database lock (so `paperboy restore` and a second bot
    know it is in use), the aiohttp session and the store are taken here, passed in, and let go
    here after the bot. `on_bot` sees the bot once built (tests use it).
    """
    token = _token(settings)
    if not token:
        print(MISSING_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    try:
        lock = DatabaseLock(settings.db).acquire()
    except DatabaseBusy as busy:
        print(f"{busy}: stop it first, or set PAPERBOY_DB to another file", file=sys.stderr)
        return EXIT_FAILED
    try:
        return await _run_locked(settings, token, extensions, clock, stop, on_bot)
    finally:
        lock.release()


async def _run_locked(
    settings: Settings,
    token: str,
    extensions: Sequence[str],
    clock: Clock,
    stop: asyncio.Event | None,
    on_bot: Callable[[PaperboyBot], object] | None,
) -> int:
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout)
    async with aiohttp.ClientSession(
        timeout=timeout, headers={"User-Agent": USER_AGENT}
    ) as session:
        # the bot is the long-running owner: check the file's integrity once, at start
        store = await Store.open(
            settings.db, clock=clock, check=True, busy_timeout=settings.db_busy_timeout
        )
        try:
            bot = PaperboyBot(settings, store, session, clock=clock, extensions=extensions)
            if on_bot is not None:
                on_bot(bot)
            return await serve(bot, token, stop=stop)
        finally:
            await store.close()


def _token(settings: Settings) -> str:
    return settings.discord_token.get_secret_value().strip() if settings.discord_token else ""


async def sync_commands_now(
    settings: Settings, *, extensions: Sequence[str] = DEFAULT_EXTENSIONS, clock: Clock = utcnow
) -> int:
    """`paperboy sync`: log in over REST (no gateway), publish the slash commands even if the
    stored hash says they are unchanged, print one line and return the exit code.

    Safe while the bot runs: it only writes the command-sync record; no scheduler or health
    endpoint is started here.
    """
    token = _token(settings)
    if not token:
        print(MISSING_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    quiet = settings.model_copy(update={"scheduler_enabled": False, "metrics_port": None})
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout)
    async with aiohttp.ClientSession(
        timeout=timeout, headers={"User-Agent": USER_AGENT}
    ) as session:
        store = await Store.open(settings.db, clock=clock, busy_timeout=settings.db_busy_timeout)
        try:
            bot = PaperboyBot(
                quiet, store, session, clock=clock, extensions=extensions, force_sync=True
            )
            try:
                await bot.login(token)  # runs setup_hook, which publishes the commands
            except (discord.DiscordException, aiohttp.ClientError) as error:
                return _exit_code(error, api_url=discord.http.Route.BASE)
            finally:
                await bot.close()
        finally:
            await store.close()
    report = bot.command_sync
    if report is None or report.error is not None:
        print(report.line() if report else "The commands were not synced", file=sys.stderr)
        return EXIT_FAILED
    print(report.line())
    return EXIT_OK


async def serve(bot: discord.Client, token: str, *, stop: asyncio.Event | None = None) -> int:
    """Log in and stay connected until a signal or `stop`; always closes the bot; exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = _install_signal_handlers(loop, stop)
    running = asyncio.create_task(bot.start(token), name="paperboy-bot")
    stopping = asyncio.create_task(stop.wait(), name="paperboy-stop")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            log.info("Shutting down")
            return EXIT_OK
        return _exit_code(running.exception(), api_url=discord.http.Route.BASE)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        stopping.cancel()
        await bot.close()
        # bot.close() ends the gateway loop cleanly; wait for it so no task outlives us.
        with suppress(Exception, asyncio.CancelledError):
            await running
        with suppress(asyncio.CancelledError):
            await stopping


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[int]:
    installed: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # Windows, or not the main thread: Ctrl-C still raises KeyboardInterrupt
        installed.append(sig)
    return installed


def _exit_code(error: BaseException | None, *, api_url: str) -> int:
    """Explain why the client stopped on its own, in one line, and pick the exit code."""
    if error is None:
        return EXIT_OK
    if isinstance(error, discord.LoginFailure):
        print(REJECTED_TOKEN, file=sys.stderr)
        return EXIT_CONFIG
    # discord.py's AutoShardedClient ends with PrivilegedIntentsRequired for 4014 and re-raises
    # ConnectionClosed (with `.code`) for the other closes it will not reconnect after; a token
    # refused at login (REST, before any gateway) is LoginFailure.
    if isinstance(error, discord.PrivilegedIntentsRequired):
        print(FATAL_CLOSES[4014], file=sys.stderr)
        return EXIT_CONFIG
    if isinstance(error, discord.ConnectionClosed):
        if error.code in FATAL_CLOSES:
            print(FATAL_CLOSES[error.code], file=sys.stderr)
            return EXIT_CONFIG
        print(
            f"Discord closed the gateway with {error.code} ({error.reason or 'no reason'})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if isinstance(error, discord.GatewayNotFound):
        print(
            f"Discord at {api_url} did not say where its gateway is (GET /gateway/bot)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if isinstance(error, aiohttp.ClientConnectorError):
        print(f"Cannot reach Discord at {api_url}: {error.os_error}", file=sys.stderr)
        return EXIT_FAILED
    if isinstance(error, discord.HTTPException):
        print(f"Discord answered {error.status} while logging in: {error.text}", file=sys.stderr)
        return EXIT_FAILED
    log.error("The bot stopped unexpectedly", exc_info=error)
    return EXIT_FAILED
