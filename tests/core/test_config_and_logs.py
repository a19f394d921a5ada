"""Configuration is checked when read (one line naming the variable, exit 2) and
PAPERBOY_LOG_FORMAT=json writes one JSON object per log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.logging_setup import configure_logging


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "c.db"))


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PAPERBOY_DEFAULT_TIMEZONE", "Mars/Olympus", "Mars/Olympus is not a timezone"),
        ("PAPERBOY_DEFAULT_SCHEDULE", "25:00", "25:00 is not a time"),
        ("PAPERBOY_ARXIV_FETCH_HOURS", "20,27", "not a list of hours 0-23"),
        ("PAPERBOY_HF_API_URL", "huggingface.co/api", "not a http/https URL"),
        ("PAPERBOY_DISCORD_GATEWAY_URL", "https://gateway.discord.gg", "not a ws/wss URL"),
        ("PAPERBOY_METRICS_PORT", "70000", "less than or equal to 65535"),
        ("PAPERBOY_LOG_FORMAT", "xml", "'text' or 'json'"),
        ("PAPERBOY_LOG_LEVEL", "LOUD", "not a log level"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["search", "diffusion"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"paperboy: {variable}: ") and says in err, err
    assert err.count("\n") == 1
    assert not Path("c.db").exists()  # stopped before touching anything


def test_good_values_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOY_DEFAULT_TIMEZONE", "europe/berlin")
    monkeypatch.setenv("PAPERBOY_DEFAULT_SCHEDULE", "9:05")
    monkeypatch.setenv("PAPERBOY_METRICS_PORT", "9108")
    settings = load_settings()
    assert (settings.default_timezone, settings.default_schedule) == ("Europe/Berlin", "09:05")
    assert (settings.metrics_port, settings.metrics_host) == (9108, "127.0.0.1")


def test_config_error_from_the_console_script_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "PAPERBOY_DEFAULT_TIMEZONE": "Nowhere", "PAPERBOY_DB": str(tmp_path / "x")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "paperboy"), "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2  # systemd's RestartPreventExitStatus=2: no restart loop
    assert result.stderr.startswith("paperboy: PAPERBOY_DEFAULT_TIMEZONE: Nowhere")


def test_json_log_lines_carry_time_level_message_ids_and_error_id(capsys) -> None:
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"
    configure_logging("INFO", secrets=[token], fmt="json")
    log = logging.getLogger("bot.test")
    log.info("Posted digest for feed %s", 42, extra={"guild_id": 1, "channel_id": 42})
    try:
        raise RuntimeError(f"boom with {token}")
    except RuntimeError:
        log.exception("Error abc123 in /search", extra={"error_id": "abc123", "user_id": 7})
    log.debug("not shown at INFO")
    lines = capsys.readouterr().err.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert len(lines) == 2
    assert first["message"] == "Posted digest for feed 42"
    assert (first["level"], first["logger"]) == ("INFO", "bot.test")
    assert (first["guild_id"], first["channel_id"]) == (1, 42)
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert second["level"] == "ERROR" and second["error_id"] == "abc123"
    assert "RuntimeError: boom" in second["exception"]
    assert token not in lines[1] and "[redacted]" in second["exception"]
