"""Process-wide logging: one handler (concise text, or one JSON object per line), quiet discord
internals, secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
REDACTED = "[redacted]"

# The shape of a Discord bot token: base64 user id . base64 timestamp . HMAC. Matching the shape
# (not only the configured value) also catches a token pasted somewhere it should not be.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}")

# discord.http logs every request at DEBUG and discord.gateway every event; APScheduler logs every
# job it adds or runs at INFO. Useful when debugging those libraries, noise otherwise (Paperboy logs
# its own runs), so they only speak up for warnings.
QUIET_LOGGERS = ("discord.http", "discord.gateway", "apscheduler")

# Record attributes (set with `extra=`) copied into JSON lines when present, so a log pipeline
# can filter on the server, channel or feed a line is about.
CONTEXT_FIELDS = ("guild_id", "channel_id", "feed_id", "user_id", "command", "error_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, known ids, error id, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """Replace secrets and token-shaped strings in a record's message and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = {s for s in secrets if s}

    def redact(self, text: str) -> str:
        """`text` with every known secret and token-shaped string replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatter reuses exc_text when set, so the redacted traceback is what gets written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(
    level: str | int = "INFO",
    *,
    secrets: Iterable[SecretStr | str | None] = (),
    fmt: str = "text",
) -> logging.Handler:
    """Send log records to stderr as concise text (or JSON lines when `fmt` is "json"),
    redacting `secrets`; call once in main."""
    plain = [s.get_secret_value() if isinstance(s, SecretStr) else s for s in secrets if s]
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT, DATE_FORMAT)
    handler.setFormatter(formatter)
    # On the handler, not a logger: logger filters do not see records propagated from children.
    handler.addFilter(RedactSecrets(plain))
    handler.set_name("paperboy")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "paperboy"]:
        root.removeHandler(old)  # calling twice replaces rather than duplicates output
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
