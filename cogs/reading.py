"""The reader's buttons under every posted paper (Save, Similar, Not for me, and Undo) and
`/saved`: a member's own reading list, paged, with Remove buttons and BibTeX / Markdown exports.

Every answer is private and acts on the clicking member's own lists, whoever else the message
mentions and whether or not the member can still see the channel.
"""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import paper_buttons
from bot.discord.client import PaperboyBot
from bot.discord.embeds import subscribed_text
from bot.discord.paper_buttons import nfm_undo_extra, undo_view
from bot.discord.replies import NO_MENTIONS, report_interaction_error
from bot.errors import UserError
from bot.reading import not_for_me, save, similar, undo_not_for_me, unsave, unsubscribe_similar
from bot.reading_exports import BIBTEX_FILE, MARKDOWN_FILE, to_bibtex, to_markdown
from bot.saved_pages import PER_PAGE, SavedPage, saved_page_text
from bot.store import reading_list as lists
from bot.subscribing import dry_run_of
from cogs.common import QUICK_WRITE, Interaction, feed_defaults, per_user_cooldown, reply

EMPTY = "Your reading list is empty: press Save 🔖 under any paper Paperboy posts."
EXPORTS = [
    app_commands.Choice(name="bibtex", value="bibtex"),
    app_commands.Choice(name="markdown", value="markdown"),
]


def feed_channel(interaction: Interaction) -> int | None:
    """The feed channel a paper's message belongs to (a digest thread's or forum post's parent);
    None in a DM."""
    if interaction.guild_id is None:
        return None
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return channel.parent_id
    if interaction.channel_id is None:
        raise UserError("I can't tell which channel this is.")
    return interaction.channel_id


def where_text(channel_id: int | None) -> str:
    """`in <#id>` or `in your DM digest`."""
    return "in your DM digest" if channel_id is None else f"in <#{channel_id}>"


class SavedButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"pb:saved:(?P<move>prev|next|rm):(?P<offset>[0-9]{1,7})(:(?P<paper>[0-9a-z.\-/]{1,40}))?",
):
    """/saved's Previous, Next and Remove buttons; they show the clicker's own list."""

    def __init__(self, move: str, offset: int, paper_id: str = "", *, label: str = "") -> None:
        custom_id = f"pb:saved:{move}:{offset}" + (f":{paper_id}" if paper_id else "")
        names = {"prev": "Previous", "next": "Next"}
        super().__init__(
            discord.ui.Button(
                label=label or names.get(move, "Remove"),
                style=discord.ButtonStyle.danger if move == "rm" else discord.ButtonStyle.secondary,
                custom_id=custom_id,
                row=1 if move == "rm" else 0,
            )
        )
        self.move, self.offset, self.paper_id = move, offset, paper_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> SavedButton:
        """The button a click's custom_id names."""
        return cls(match["move"], int(match["offset"]), match["paper"] or "")

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Turn the page, or remove a paper and show the page again."""
        try:
            bot: PaperboyBot = interaction.client
            user_id = interaction.user.id
            if self.move == "rm":
                # acknowledged first: a busy writer must not run the click past Discord's 3 s
                await interaction.response.defer()
                await bot.store.run(unsave, user_id=user_id, paper_id=self.paper_id)
            page = await bot.store.read(SavedPage.load, user_id, self.offset)
            text, view = render_saved(page)
            if interaction.response.is_done():
                await interaction.edit_original_response(
                    content=text, view=view, allowed_mentions=NO_MENTIONS
                )
            else:
                await interaction.response.edit_message(
                    content=text, view=view, allowed_mentions=NO_MENTIONS
                )
        except Exception as exc:
            await report_interaction_error(interaction, exc)


def render_saved(page: SavedPage) -> tuple[str, discord.ui.View | None]:
    """The page's text and its buttons (Previous/Next, one Remove per paper)."""
    if not page.papers:
        return EMPTY, None
    view = discord.ui.View(timeout=None)
    prev = SavedButton("prev", max(0, page.offset - PER_PAGE))
    prev.item.disabled = page.offset == 0
    nxt = SavedButton("next", page.offset + PER_PAGE)
    nxt.item.disabled = page.offset + PER_PAGE >= page.total
    view.add_item(prev)
    view.add_item(nxt)
    for n, paper in enumerate(page.papers, start=page.offset + 1):
        view.add_item(SavedButton("rm", page.offset, paper.paper_id, label=f"Remove {n}"))
    return saved_page_text(page), view


class Reading(commands.Cog):
    """Save, Similar, Not for me, Undo and /saved."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot

    async def on_paper_button(self, interaction: Interaction, action: str, paper_id: str) -> None:
        """A click on Save, Similar or Not for me: act for the clicker, answer privately."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        user_id, now = interaction.user.id, self.bot.clock()
        channel_id = feed_channel(interaction)
        if action == "save":
            done = await self.bot.store.run(save, user_id=user_id, paper_id=paper_id, now=now)
            view = undo_view("save", paper_id) if done.undoable else None
            await reply(interaction, done.text, view=view)
        elif action == "similar":
            await self._similar(interaction, channel_id, paper_id)
        else:
            changed = await self.bot.store.run(
                not_for_me, user_id=user_id, channel_id=channel_id, paper_id=paper_id, now=now
            )
            text = changed.describe(where_text(channel_id))
            ids = [sub_id for sub_id, _ in changed.changed]
            undoable = bool(ids) or changed.muted
            view = undo_view("nfm", paper_id, nfm_undo_extra(ids)) if undoable else None
            await reply(interaction, text, view=view)

    async def _similar(
        self, interaction: Interaction, channel_id: int | None, paper_id: str
    ) -> None:
        kwargs: dict[str, Any] = {
            "guild_id": interaction.guild_id,
            "user_id": interaction.user.id,
            "channel_id": channel_id,
            "paper_id": paper_id,
            "defaults": feed_defaults(self.bot),
            "now": self.bot.clock(),
            "may_create_feed": bool(interaction.permissions.send_messages),
        }
        if channel_id is None:
            done = await self.bot.store.run(similar, **kwargs)
            where = "daily by DM"
        else:
            done = await self.bot.feeds.apply(channel_id, similar, **kwargs)
            where = f"in the daily digest of <#{channel_id}>, mentioning you"
        # on a read connection, after the write committed, as /subscribe does
        preview = await self.bot.store.read(dry_run_of, done)
        text = subscribed_text(done.normal, preview, where, None)
        await reply(interaction, text, view=undo_view("similar", str(done.subscription_id)))

    async def on_undo(self, interaction: Interaction, action: str, target: str, extra: str) -> None:
        """Reverse exactly what the answer reports, on the clicker's own lists."""
        user_id = interaction.user.id
        store = self.bot.store
        await interaction.response.defer()  # the write may wait for a busy writer: ack first
        if action == "save":
            text = await store.run(unsave, user_id=user_id, paper_id=target)
        elif action == "similar":
            text = await store.run(unsubscribe_similar, user_id=user_id, sub_id=int(target))
        else:
            sub_ids = None if extra == "m" else tuple(int(i) for i in extra.split(".") if i)
            text = await store.run(
                undo_not_for_me,
                user_id=user_id,
                channel_id=feed_channel(interaction),
                paper_id=target,
                sub_ids=sub_ids,
            )
        await interaction.edit_original_response(
            content=text, view=None, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="saved", description="Your reading list: the papers you saved")
    @app_commands.describe(export="Download the whole list as BibTeX or Markdown")
    @app_commands.choices(export=EXPORTS)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @per_user_cooldown(QUICK_WRITE)
    async def saved(
        self, interaction: Interaction, export: app_commands.Choice[str] | None = None
    ) -> None:
        """Show the member's reading list, 5 a page, or export it."""
        user_id = interaction.user.id
        if export is None:
            page = await self.bot.store.read(SavedPage.load, user_id, 0)
            text, view = render_saved(page)
            await reply(interaction, text, view=view)
            return
        papers = await self.bot.store.read(lists.all_saved, user_id)
        if not papers:
            await reply(interaction, EMPTY)
            return
        bibtex = export.value == "bibtex"
        body = to_bibtex(papers) if bibtex else to_markdown(papers)
        name = BIBTEX_FILE if bibtex else MARKDOWN_FILE
        noun = "paper" if len(papers) == 1 else "papers"
        await interaction.response.send_message(
            f"Your reading list ({len(papers)} {noun}) as {'BibTeX' if bibtex else 'Markdown'}.",
            file=discord.File(io.BytesIO(body.encode()), filename=name),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: PaperboyBot) -> None:
    """Register the cog and the persistent buttons' handlers (called by `load_extension`)."""
    await bot.add_cog(Reading(bot))
    paper_buttons.register(bot)
    bot.add_dynamic_items(SavedButton)
