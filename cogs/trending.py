"""`/trending [days] [query]`: the papers gaining Hugging Face upvotes fastest, paged like
/search (5 per page, Previous/Next for the member who asked)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import PaperboyBot
from bot.discord.embeds import DESCRIPTION_LIMIT, EMBED_COLOUR, TITLE_LIMIT, code, last_days
from bot.discord.replies import report_interaction_error
from bot.links import markdown_link
from bot.query import Query
from bot.store.upvotes import Trend
from bot.subscribing import parse_query
from bot.text import truncate
from bot.trending import DEFAULT_DAYS, TrendingPage, check_days, rank_trending, trending_page
from cogs.common import NO_MENTIONS, SEARCH, Interaction, fetch_likes, per_user_cooldown, reply

log = logging.getLogger(__name__)

PER_PAGE = 5
PAGER_TIMEOUT = 600.0  # seconds; well inside the 15 minutes an interaction token can edit
NOT_YOURS = "These buttons belong to someone else's /trending — run it yourself."


def trending_embed(page: TrendingPage, days: int, query: Query | None) -> discord.Embed:
    """One page: rank, linked title, upvotes gained and total, per paper."""
    blocks = []
    for rank, (paper, trend) in enumerate(page.entries, start=page.offset + 1):
        title = markdown_link(truncate(paper.title, 250), paper.abs_url)
        blocks.append(f"**{rank}. {title}**\n▲ +{trend.gained} · {trend.upvotes} upvotes")
    about = f" · {query.normal}" if query else ""
    pages = max(1, -(-page.total // PER_PAGE))
    embed = discord.Embed(
        title=truncate(f"Trending, {last_days(days)}{about}", TITLE_LIMIT),
        description=truncate("\n\n".join(blocks), DESCRIPTION_LIMIT),
        colour=EMBED_COLOUR,
    )
    number = page.offset // PER_PAGE + 1
    embed.set_footer(text=f"Page {number} of {pages} · {page.total} papers · upvotes gained")
    return embed


class TrendingPager(discord.ui.View):
    """Previous/Next over one /trending ranking, for the member who asked."""

    def __init__(
        self, bot: PaperboyBot, owner_id: int, ranked: list[Trend], days: int, query: Query | None
    ) -> None:
        super().__init__(timeout=PAGER_TIMEOUT)
        self.bot, self.owner_id, self.ranked = bot, owner_id, ranked
        self.days, self.query = days, query
        self.message: discord.WebhookMessage | None = None
        self.page = TrendingPage(entries=(), offset=0, total=len(ranked))

    async def load(self, offset: int) -> TrendingPage:
        """Load the page at `offset` and set the buttons to match it."""
        self.page = await self.bot.store.read(trending_page, self.ranked, offset, PER_PAGE)
        self.previous.disabled = offset == 0
        self.next.disabled = offset + PER_PAGE >= len(self.ranked)
        return self.page

    def embed(self) -> discord.Embed:
        """The current page, rendered."""
        return trending_embed(self.page, self.days, self.query)

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Only the member who asked may turn the pages; anyone else is told so, privately."""
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            NOT_YOURS, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return False

    async def _turn(self, interaction: Interaction, offset: int) -> None:
        last = max(0, (len(self.ranked) - 1) // PER_PAGE * PER_PAGE)
        await self.load(min(max(0, offset), last))
        await interaction.response.edit_message(
            embed=self.embed(), view=self, allowed_mentions=NO_MENTIONS
        )

    @discord.ui.button(
        label="Previous", style=discord.ButtonStyle.secondary, custom_id="trending:prev"
    )
    async def previous(self, interaction: Interaction, button: discord.ui.Button[Any]) -> None:
        """Show the page before."""
        await self._turn(interaction, self.page.offset - PER_PAGE)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary, custom_id="trending:next")
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
                log.debug("Could not disable trending buttons: %s", exc)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """Fail the way commands do: a short ephemeral reply, bugs logged with an id."""
        await report_interaction_error(interaction, error)


class Trending(commands.Cog):
    """/trending."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot

    @app_commands.command(name="trending", description="Papers gaining Hugging Face upvotes")
    @app_commands.describe(
        days="Papers listed in the last N days (1–30, default 7)",
        query="Only papers matching this, e.g. diffusion -survey",
    )
    @per_user_cooldown(SEARCH)
    async def trending(
        self, interaction: Interaction, days: int = DEFAULT_DAYS, query: str | None = None
    ) -> None:
        """Rank the window's papers by upvotes gained, then total; private, paged."""
        check_days(days)
        parsed = parse_query(query) if query is not None else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        await fetch_likes(self.bot, parsed)
        ranked = await self.bot.store.read(rank_trending, days, self.bot.clock(), parsed)
        if not ranked:
            about = f" matching {code(parsed.normal)}" if parsed else ""
            await reply(interaction, f"No Hugging Face papers{about} in the {last_days(days)}.")
            return
        pager = TrendingPager(self.bot, interaction.user.id, ranked, days, parsed)
        await pager.load(0)
        pager.message = await interaction.followup.send(
            embed=pager.embed(), view=pager, ephemeral=True, allowed_mentions=NO_MENTIONS, wait=True
        )


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Trending(bot))
