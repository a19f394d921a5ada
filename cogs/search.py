"""`/search` (paged with buttons only the searcher can use, which still answer after a restart)
and `/paper`."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import PaperboyBot
from bot.discord.embeds import no_results_text, paper_embed, search_embed
from bot.discord.replies import report_interaction_error
from bot.paper_lookup import RecentMisses, lookup_paper, parse_paper_id, search_since
from bot.search_sessions import (
    PER_PAGE,
    SearchSession,
    SearchSessions,
    load_page,
    turn_page,
)
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
    fetch_likes,
    member_can_post,
    per_user_cooldown,
    reply,
    with_dm_notice,
)

log = logging.getLogger(__name__)

# Buttons stop working this long after the last turn (then they grey out). The grey-out edits
# through the latest interaction (the last click's, or the command's), so it stays well inside
# the 15 minutes a token can edit, however long someone keeps paging.
PAGER_TIMEOUT = 600.0
NOT_YOURS = "These buttons belong to someone else's search — run /search yourself."
EXPIRED = "This search has expired — run /search again."
ONLY_YOU = "You can't send messages in this channel, so only you can see these results."


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Pagers from before this version had the plain ids "prev"/"next": they match too (no pager).
    template=r"(search:)?(?P<move>prev|next)(:(?P<pager>[0-9]{1,20}))?",
):
    """A pager's Previous or Next button. Registered with the bot (`add_dynamic_items`), so it
    answers any click on such a button, including those on pagers from before a restart."""

    def __init__(self, move: str, pager_id: int, *, disabled: bool = False) -> None:
        forward = move == "next"
        super().__init__(
            discord.ui.Button(
                label="Next" if forward else "Previous",
                style=discord.ButtonStyle.primary if forward else discord.ButtonStyle.secondary,
                custom_id=f"search:{move}:{pager_id}",
                disabled=disabled,
            )
        )
        self.forward, self.pager_id = forward, pager_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> PageButton:
        """The button a click's custom_id names."""
        return cls(match["move"], int(match["pager"] or 0))  # no live pager has id 0

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Turn the page, or say why not; fail the way commands do."""
        try:
            cog = interaction.client.get_cog(Search.__cog_name__)
            if not isinstance(cog, Search):
                await answer_privately(interaction, EXPIRED)
                return
            await cog.turn(interaction, self.pager_id, self.forward)
        except Exception as exc:  # discord.py would only log it: the user must hear something
            await report_interaction_error(interaction, exc)


def pager_view(pager_id: int, session: SearchSession, *, disabled: bool = False) -> discord.ui.View:
    """Previous/Next for the page `session` shows (all disabled once the pager timed out)."""
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton("prev", pager_id, disabled=disabled or not session.has_previous))
    view.add_item(PageButton("next", pager_id, disabled=disabled or not session.has_next))
    return view


async def answer_privately(interaction: Interaction, text: str) -> None:
    """One ephemeral line as the interaction's answer."""
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class Search(commands.Cog):
    """Searching the stored papers and showing one paper."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        self.sessions = SearchSessions()
        self.misses = RecentMisses()  # ids Hugging Face didn't know, asked again after an hour
        self._timeouts: dict[int, asyncio.Task[None]] = {}

    async def cog_unload(self) -> None:
        """Stop the pagers' timers (their buttons then answer that the search expired)."""
        for task in self._timeouts.values():
            task.cancel()
        self._timeouts.clear()

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
        """Search with paging buttons; private unless `public` (and the member may post here)."""
        parsed = parse_query(query)
        since = search_since(days, self.bot.clock())
        only_you = public and not member_can_post(interaction)
        public = public and not only_you
        await interaction.response.defer(ephemeral=not public, thinking=True)
        await fetch_likes(self.bot, parsed)
        session = SearchSession(interaction.user.id, parsed, days, since)
        page = await load_page(self.bot.store, session, 0, escape=escape_markdown)
        if not page.hits:
            await reply(interaction, no_results_text(parsed.normal, days), ephemeral=not public)
            return
        pager_id = interaction.id
        self.sessions.open(pager_id, session)
        note = ONLY_YOU if only_you else ""
        await interaction.followup.send(
            await with_dm_notice(interaction, note, ephemeral=not public) or discord.utils.MISSING,
            embed=render_page(session),
            view=pager_view(pager_id, session),
            ephemeral=not public,
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        self._time_out_later(pager_id, interaction)

    async def turn(self, interaction: Interaction, pager_id: int, forward: bool) -> None:
        """A Previous/Next click: edit the page in place through this click's own answer."""
        session = self.sessions.get(pager_id)
        if session is None:
            await answer_privately(interaction, EXPIRED)
            return
        if interaction.user.id != session.owner_id:
            await answer_privately(interaction, NOT_YOURS)
            return
        await turn_page(self.bot.store, session, forward, escape=escape_markdown)
        await interaction.response.edit_message(
            embed=render_page(session),
            view=pager_view(pager_id, session),
            allowed_mentions=NO_MENTIONS,
        )
        self._time_out_later(pager_id, interaction)

    def _time_out_later(self, pager_id: int, latest: Interaction) -> None:
        """(Re)start the pager's timeout; when it ends, grey the buttons out through `latest`."""
        previous = self._timeouts.pop(pager_id, None)
        if previous is not None:
            previous.cancel()
        self._timeouts[pager_id] = asyncio.create_task(self._time_out(pager_id, latest))

    async def _time_out(self, pager_id: int, latest: Interaction) -> None:
        await asyncio.sleep(PAGER_TIMEOUT)
        self._timeouts.pop(pager_id, None)
        session = self.sessions.close(pager_id)
        if session is None:  # forgotten already: nothing we could redraw
            return
        try:
            # The original response of a click answered with an update is the clicked message.
            await latest.edit_original_response(view=pager_view(pager_id, session, disabled=True))
        except discord.HTTPException as exc:  # the message was deleted meanwhile
            log.debug("Could not disable search buttons: %s", exc)

    @app_commands.command(name="paper", description="Show one paper by arXiv id or URL")
    @app_commands.describe(id="An arXiv id (2401.01234) or an arXiv / Hugging Face URL")
    @per_user_cooldown(LOOKUP)
    async def paper(self, interaction: Interaction, id: str) -> None:
        """Show a paper, fetching it from Hugging Face if it isn't stored yet."""
        arxiv_id = parse_paper_id(id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await lookup_paper(
            self.bot.store, self.hf_source(), arxiv_id, self.bot.clock(), self.misses
        )
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


def render_page(session: SearchSession) -> discord.Embed:
    """The page `session` shows, rendered."""
    return search_embed(
        session.query.normal,
        session.page,
        PER_PAGE,
        session.days,
        session.total,
        at_least=session.total_at_least,
    )


async def setup(bot: PaperboyBot) -> None:
    """Register the cog and the pager buttons' handler (called by `load_extension`)."""
    await bot.add_cog(Search(bot))
    bot.add_dynamic_items(PageButton)
