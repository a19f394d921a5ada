"""`/search` (paged with buttons only the searcher can use) and `/paper`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import PaperboyBot
from bot.discord.embeds import no_results_text, paper_embed, search_embed
from bot.discord.replies import report_interaction_error
from bot.paper_lookup import lookup_paper, parse_paper_id, search_since
from bot.query import Query
from bot.search import SearchPage, search_papers
from bot.sources import build_sources
from bot.sources.huggingface import HuggingFaceSource
from bot.subscribing import parse_query
from bot.summarize import tldr
from bot.text import escape_markdown
from cogs.common import (
    LOOKUP,
    NO_MENTIONS,
    SEARCH,
    Interaction,
    per_user_cooldown,
    reply,
    with_dm_notice,
)

log = logging.getLogger(__name__)

PER_PAGE = 5
PAGER_TIMEOUT = 600.0  # seconds; well inside the 15 minutes an interaction token can edit
NOT_YOURS = "These buttons belong to someone else's search — run /search yourself."


class SearchPager(discord.ui.View):
    """Previous/Next buttons over a search's pages, for the member who searched."""

    def __init__(
        self,
        bot: PaperboyBot,
        owner_id: int,
        query: Query,
        days: int | None,
        since: datetime | None,
    ) -> None:
        super().__init__(timeout=PAGER_TIMEOUT)
        self.bot, self.owner_id, self.query = bot, owner_id, query
        self.days, self.since = days, since
        self.message: discord.WebhookMessage | None = None
        self.page = SearchPage(hits=(), offset=0, has_more=False)
        self.total: int | None = None  # counted with the first page, reused on every turn

    async def load(self, offset: int) -> SearchPage:
        """Fetch the page at `offset` and set the buttons to match it."""
        page = await self._fetch(offset, count=self.total is None)
        if self.total is not None and not page.agrees_with(self.total):
            page = await self._fetch(offset, count=True)  # papers arrived or left since: recount
        if page.total is not None:
            self.total = page.total
        self.page = page
        self.previous.disabled = offset == 0
        self.next.disabled = not page.has_more
        return page

    async def _fetch(self, offset: int, *, count: bool) -> SearchPage:
        return await self.bot.store.run(
            search_papers,
            self.query,
            limit=PER_PAGE,
            offset=offset,
            since=self.since,
            escape=escape_markdown,
            count=count,
        )

    def embed(self) -> discord.Embed:
        """The current page, rendered."""
        return search_embed(self.query.normal, self.page, PER_PAGE, self.days, self.total)

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Only the searcher may turn the pages; anyone else is told so, privately."""
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            NOT_YOURS, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False

    async def _turn(self, interaction: Interaction, offset: int) -> None:
        await self.load(max(0, offset))
        await interaction.response.edit_message(
            embed=self.embed(), view=self, allowed_mentions=NO_MENTIONS
        )

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id="prev")
    async def previous(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        """Show the page before."""
        await self._turn(interaction, self.page.offset - PER_PAGE)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary, custom_id="next")
    async def next(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        """Show the page after."""
        await self._turn(interaction, self.page.offset + PER_PAGE)

    async def on_timeout(self) -> None:
        """Grey the buttons out once they stop working."""
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException as exc:  # the message was deleted or the token expired
                log.debug("Could not disable search buttons: %s", exc)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """Fail the way commands do: a short ephemeral reply, bugs logged with an id."""
        await report_interaction_error(interaction, error)


class Search(commands.Cog):
    """Searching the stored papers and showing one paper."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="Search every stored paper")
    @app_commands.describe(
        query='The subscription language, e.g. diffusion -survey, "masked diffusion"',
        days="Only papers from the last N days",
        public="Show the results to everyone in the channel",
    )
    @per_user_cooldown(SEARCH)
    async def search(
        self, interaction: Interaction, query: str, days: int | None = None, public: bool = False
    ) -> None:
        """Search with paging buttons; private unless `public`."""
        parsed = parse_query(query)
        since = search_since(days, self.bot.clock())
        await interaction.response.defer(ephemeral=not public, thinking=True)
        pager = SearchPager(self.bot, interaction.user.id, parsed, days, since)
        page = await pager.load(0)
        if not page.hits:
            await reply(interaction, no_results_text(parsed.normal, days), ephemeral=not public)
            return
        pager.message = await interaction.followup.send(
            await with_dm_notice(interaction, "", ephemeral=not public) or discord.utils.MISSING,
            embed=pager.embed(),
            view=pager,
            ephemeral=not public,
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )

    @app_commands.command(name="paper", description="Show one paper by arXiv id or URL")
    @app_commands.describe(id="An arXiv id (2401.01234) or an arXiv / Hugging Face URL")
    @per_user_cooldown(LOOKUP)
    async def paper(self, interaction: Interaction, id: str) -> None:
        """Show a paper, fetching it from Hugging Face if it isn't stored yet."""
        arxiv_id = parse_paper_id(id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await lookup_paper(self.bot.store, self.hf_source(), arxiv_id, self.bot.clock())
        if found is None:
            await reply(
                interaction,
                f"I couldn't find arXiv:{arxiv_id} here or on Hugging Face. Check the id, or try "
                f"again once it is listed.",
            )
            return
        await reply(interaction, embed=paper_embed(found, tldr(found)))

    def hf_source(self) -> HuggingFaceSource:
        """Hugging Face's paper API over the bot's HTTP session, configured as ingest's is."""
        hf, _ = build_sources(self.bot.http_session, self.bot.settings)
        return hf


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Search(bot))
