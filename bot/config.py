"""All configuration in one typed object, from `PAPERBOY_*` environment variables and `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob Paperboy has; each default works out of the box."""

    model_config = SettingsConfigDict(env_prefix="PAPERBOY_", env_file=".env", extra="ignore")

    db: Path = Path("paperboy.db")
    log_level: str = "INFO"

    # Sources
    hf_api_url: str = "https://huggingface.co/api"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_categories: str = "cs.CL,cs.LG,cs.AI,cs.CV"
    arxiv_include_replacements: bool = False
    arxiv_min_interval: float = 3.0  # seconds between arXiv requests (arXiv's etiquette)
    http_timeout: float = 30.0
    http_retries: int = 4
    # a source response larger than this is refused (one line in the log), never read whole
    source_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    hf_poll_minutes: int = 30
    poll_sources: bool = True  # the bot fetches HF/arXiv on a schedule (off: ingest by cron/CLI)
    scheduler_enabled: bool = True  # daily digests, DMs and polls (off for command-only tests)
    # US/Eastern hours (at :05) to fetch arXiv: evening hours right after the Sunday–Thursday
    # announcement, morning hours (Monday–Friday) once the RSS has been regenerated at midnight
    arxiv_fetch_hours: str = "20,1,4"

    # Discord
    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    dev_guild: int | None = None
    # seconds to wait for one Discord request while posting: discord.py itself never gives up
    discord_request_timeout: float = Field(default=60.0, gt=0)

    # Feeds
    default_schedule: str = "09:00"
    default_timezone: str = "UTC"
    digest_cap: int = Field(default=25, ge=1, le=100)

    @field_validator("dev_guild", "discord_token", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def categories(self) -> list[str]:
        """The configured arXiv categories as a list."""
        return [c.strip() for c in self.arxiv_categories.split(",") if c.strip()]
