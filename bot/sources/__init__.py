"""Paper sources (Hugging Face Daily Papers, arXiv RSS): fetching and parsing into Papers."""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.sources.arxiv import ArxivSource, parse_rss, select_papers
from bot.sources.http import USER_AGENT, RetryingClient, SourceError, retry_after_seconds
from bot.sources.huggingface import HuggingFaceSource, parse_daily_papers, parse_paper
from bot.sources.sample import load_sample_day

__all__ = [
    "USER_AGENT",
    "ArxivSource",
    "HuggingFaceSource",
    "RetryingClient",
    "SourceError",
    "build_sources",
    "load_sample_day",
    "parse_daily_papers",
    "parse_paper",
    "parse_rss",
    "retry_after_seconds",
    "select_papers",
]


def build_sources(
    session: aiohttp.ClientSession, settings: Settings
) -> tuple[HuggingFaceSource, ArxivSource]:
    """Both sources as configured, sharing the caller's session; arXiv gets its own spacing."""
    hf_client = RetryingClient(
        session,
        timeout=settings.http_timeout,
        retries=settings.http_retries,
        max_bytes=settings.source_max_bytes,
    )
    # A separate client so the one-request-per-3-s rule for arXiv never slows Hugging Face.
    arxiv_client = RetryingClient(
        session,
        timeout=settings.http_timeout,
        retries=settings.http_retries,
        min_interval=settings.arxiv_min_interval,
        max_bytes=settings.source_max_bytes,
    )
    return (
        HuggingFaceSource(hf_client, settings.hf_api_url),
        ArxivSource(
            arxiv_client,
            settings.arxiv_rss_url,
            settings.categories,
            include_replacements=settings.arxiv_include_replacements,
        ),
    )
