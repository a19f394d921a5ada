"""All configuration in one typed object, from `PAPERBOY_*` environment variables and `.env`,
checked when it is read so a bad value stops the process with one line naming the variable."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import __version__
from bot.feed_settings import FeedSettingError, parse_time, parse_timezone

# Defaults that more than one module needs live here, once.
DISCORD_API_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg/"
# Sent with every HTTP request (sources and Discord), so operators on the other side can reach us.
USER_AGENT = f"Paperboy/{__version__} (+https://github.com/paperboy-bot/paperboy)"

ENV_PREFIX = "PAPERBOY_"
_HTTP = ("http", "https")


class ConfigError(ValueError):
    """A setting that cannot be used; `str()` is one line naming its environment variable."""


def _url(value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"not a {'/'.join(schemes)} URL: {value!r}")
    return value.strip()


class Settings(BaseSettings):
    """Every knob Paperboy has; each default works out of the box."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    db: Path = Path("paperboy.db")
    # seconds a write waits for another process's lock (e.g. `paperboy ingest` from cron)
    db_busy_timeout: float = Field(default=10.0, gt=0, le=600)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # Sources
    hf_api_url: str = "https://huggingface.co/api"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_categories: str = "cs.CL,cs.LG,cs.AI,cs.CV"
    arxiv_include_replacements: bool = False
    arxiv_min_interval: float = Field(default=3.0, ge=0)  # seconds (arXiv's etiquette)
    http_timeout: float = Field(default=30.0, gt=0)
    http_retries: int = Field(default=4, ge=0)
    # a source response larger than this is refused (one line in the log), never read whole
    source_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    hf_poll_minutes: int = Field(default=30, ge=1)
    poll_sources: bool = True  # the bot fetches HF/arXiv on a schedule (off: ingest by cron/CLI)
    scheduler_enabled: bool = True  # daily digests, DMs and polls (off for command-only tests)
    # US/Eastern hours (at :05) to fetch arXiv: evening hours right after the Sunday–Thursday
    # announcement, morning hours (Monday–Friday) once the RSS has been regenerated at midnight
    arxiv_fetch_hours: str = "20,1,4"

    # Discord
    discord_token: SecretStr | None = None
    discord_api_url: str = DISCORD_API_URL
    discord_gateway_url: str = DISCORD_GATEWAY_URL
    dev_guild: int | None = None
    # seconds to wait for one Discord request while posting: discord.py itself never gives up
    discord_request_timeout: float = Field(default=60.0, gt=0)
    # REST requests the bot starts in any one second (Discord allows 50 per bot; interaction
    # answers don't count). A little below 50, so that another process with the same token
    # (`paperboy doctor`) and network jitter never tip the bot into a global 429; 0: no pacing.
    discord_requests_per_second: float = Field(default=45.0, ge=0)
    # Feeds (and DM members) delivered at once. Each one sends its messages one after another
    # (Discord allows 5 per 5 s per channel), so throughput comes from many at once, while the
    # pacer above keeps the bot as a whole under Discord's limit.
    delivery_concurrency: int = Field(default=100, ge=1, le=1000)

    # Feeds
    default_schedule: str = "09:00"
    default_timezone: str = "UTC"
    digest_cap: int = Field(default=25, ge=1, le=100)

    # Operations: /healthz and /metrics (off unless a port is set; 0 picks a free port)
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    @field_validator("dev_guild", "discord_token", "metrics_port", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError(f"not a log level: {value!r} (DEBUG, INFO, WARNING, ERROR)")
        return value.upper()

    @field_validator("hf_api_url", "arxiv_rss_url", "discord_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _url(value, _HTTP)

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        return _url(value, ("ws", "wss"))

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            return parse_timezone(value)
        except FeedSettingError as exc:
            raise ValueError(str(exc).replace("`", "")) from None

    @field_validator("default_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            return parse_time(value)
        except FeedSettingError as exc:
            raise ValueError(str(exc).replace("`", "")) from None

    @field_validator("arxiv_fetch_hours")
    @classmethod
    def _fetch_hours(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not parts or not all(p.isdigit() and int(p) < 24 for p in parts):
            raise ValueError(f"not a list of hours 0-23: {value!r} (e.g. 20,1,4)")
        return ",".join(str(int(p)) for p in parts)

    @property
    def categories(self) -> list[str]:
        """The configured arXiv categories as a list."""
        return [c.strip() for c in self.arxiv_categories.split(",") if c.strip()]


def load_settings() -> Settings:
    """Read and check the settings; a bad value raises `ConfigError` naming its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{ENV_PREFIX}{field.upper()}: {message}") from None
