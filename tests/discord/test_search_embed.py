"""The /search page footer: page count and total, or "1,000+ results" when the count stopped."""

from __future__ import annotations

from bot.discord.embeds import search_embed
from bot.search import SearchPage


def test_a_counted_total_shows_pages_and_a_capped_one_says_so() -> None:
    page = SearchPage(hits=(), offset=5, has_more=True)
    exact = search_embed("llm", page, 5, None, 13)
    assert exact.footer.text == "Page 2 of 3 · 13 results"
    capped = search_embed("llm", page, 5, 7, 1000, at_least=True)
    assert capped.footer.text == "Page 2 · 1,000+ results · last 7 days"
