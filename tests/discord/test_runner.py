"""Running the bot as a process: token checks, exit codes, invite link, logging redaction."""

from __future__ import annotations

import base64
import io
import logging
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from pydantic import SecretStr

from bot.discord.runner import (
    EXIT_CONFIG,
    EXIT_FAILED,
    application_id_from_token,
    invite_url,
    point_discord_at,
    run_bot,
)
from bot.logging_setup import REDACTED, RedactSecrets, configure_logging
from tests.fakediscord import FakeDiscord
from tests.support import settings_for

# Shaped like a real token (base64 user id . timestamp . hmac) but never valid anywhere.
BOT_ID = 1234567890123456789
FAKE_TOKEN = (
    base64.b64encode(str(BOT_ID).encode()).decode().rstrip("=")
    + ".GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789"
)


# Missing, rejected, unreachable


async def test_missing_token_exits_2_with_one_line_on_getting_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run_bot(settings_for(tmp_path, discord_token=None))
    err = capsys.readouterr().err
    assert code == EXIT_CONFIG
    assert len(err.strip().splitlines()) == 1
    assert "Reset Token" in err and "PAPERBOY_DISCORD_TOKEN=" in err and ".env" in err
    assert not (tmp_path / "paperboy.db").exists()  # refused before touching anything


async def test_blank_token_counts_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run_bot(settings_for(tmp_path, discord_token=SecretStr("   ")))
    assert code == EXIT_CONFIG
    assert "PAPERBOY_DISCORD_TOKEN=" in capsys.readouterr().err


async def test_unreachable_api_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound then closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_for(
        tmp_path,
        discord_token=SecretStr(FAKE_TOKEN),
        discord_api_url=f"http://127.0.0.1:{port}/api/v10",
        discord_gateway_url=f"ws://127.0.0.1:{port}/",
    )
    code = await run_bot(settings)
    err = capsys.readouterr().err.strip()
    assert code == EXIT_FAILED
    assert len(err.splitlines()) == 1
    assert err.startswith(f"Cannot reach Discord at http://127.0.0.1:{port}/api/v10")
    assert "Traceback" not in err


async def test_rejected_token_exits_2_with_one_line_and_no_traceback(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(
        tmp_path, fake_discord, discord_token=SecretStr("not.the.token-the-server-knows")
    )
    code = await run_bot(settings)
    err = capsys.readouterr().err.strip()
    assert code == EXIT_CONFIG
    assert err.splitlines() == [err]
    assert "rejected the token" in err and "Reset Token" in err
    assert "Traceback" not in err
    assert [r for r in caplog.records if r.exc_info] == []
    assert fake_discord.identify_count == 0


# Invite link and token parsing


def test_invite_asks_for_exactly_the_permissions_the_bot_uses() -> None:
    url = invite_url(BOT_ID)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://discord.com/oauth2/authorize"
    assert query["client_id"] == [str(BOT_ID)]
    assert query["scope"] == ["bot applications.commands"]
    assert "scope=bot+applications.commands" in url
    granted = discord.Permissions(int(query["permissions"][0]))
    # discord.py iterates View Channel under its older name, read_messages
    assert {name for name, on in granted if on} == {
        "read_messages",
        "send_messages",
        "send_messages_in_threads",
        "create_public_threads",
        "embed_links",
        "read_message_history",
    }
    # The same set written as Discord's documented bits, independent of discord.py's names.
    assert int(query["permissions"][0]) == (1 << 10) | (1 << 11) | (1 << 38) | (1 << 35) | (
        1 << 14
    ) | (1 << 16)


def test_application_id_is_read_from_the_token() -> None:
    assert application_id_from_token(FAKE_TOKEN) == BOT_ID
    assert application_id_from_token("  " + FAKE_TOKEN + "\n") == BOT_ID


@pytest.mark.parametrize("token", ["", "not-a-token", "!!!.x.y", "aGVsbG8.x.y"])
def test_application_id_is_none_for_something_else(token: str) -> None:
    assert application_id_from_token(token) is None


def test_point_discord_at_changes_only_non_defaults() -> None:
    before = discord.http.Route.BASE
    point_discord_at("https://discord.com/api/v10", "wss://gateway.discord.gg/")
    assert before == discord.http.Route.BASE
    point_discord_at("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/")
    assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/"


# Logging


def test_logging_redacts_the_token_in_messages_and_tracebacks() -> None:
    handler = configure_logging("DEBUG", secrets=[SecretStr("s3cr3t-value"), None])
    out = io.StringIO()
    handler.setStream(out)  # type: ignore[attr-defined]
    log = logging.getLogger("paperboy.test")
    try:
        log.info("configured with %s and %s", "s3cr3t-value", FAKE_TOKEN)
        try:
            raise RuntimeError(f"bad header Bot {FAKE_TOKEN}")
        except RuntimeError:
            log.exception("request failed")
    finally:
        logging.getLogger().removeHandler(handler)
    text = out.getvalue()
    assert "s3cr3t-value" not in text and FAKE_TOKEN not in text
    assert text.count(REDACTED) == 3
    assert "RuntimeError: bad header Bot [redacted]" in text


def test_logging_quietens_discord_internals_and_is_configured_once() -> None:
    root = logging.getLogger()
    first = configure_logging("INFO")
    second = configure_logging("warning")
    try:
        assert first not in root.handlers and root.handlers.count(second) == 1
        assert root.level == logging.WARNING
        assert logging.getLogger("discord.http").level == logging.WARNING
        assert logging.getLogger("discord.gateway").level == logging.WARNING
        assert logging.getLogger("apscheduler").level == logging.WARNING
    finally:
        root.removeHandler(second)
        root.setLevel(logging.WARNING)


def test_redaction_leaves_ordinary_text_alone() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "paper %s posted", ("2611.01234",), None
    )
    assert RedactSecrets(["tok"]).filter(record)
    assert record.getMessage() == "paper 2611.01234 posted"
