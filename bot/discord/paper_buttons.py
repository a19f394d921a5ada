"""The buttons under every posted paper (Save 🔖, Similar 🔔, Not for me 🔕) and the Undo button
of their answers. Persistent: the paper id (or what to undo) is in the custom_id and the bot
registers these `DynamicItem`s, so a click on a message posted before a restart still works.

custom_ids (≤ 100 characters): `pb:save:<id>`, `pb:similar:<id>`, `pb:nfm:<id>`;
`pb:undo:save:<id>`, `pb:undo:similar:<subscription id>`, `pb:undo:nfm:<id>:<ids or m>`.
The handling lives in the reading cog (`cogs/reading.py`), found on the bot at click time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import discord

from bot.delivery.messages import is_part
from bot.discord.replies import report_interaction_error
from bot.limits import ACTION_ROWS_PER_MESSAGE

CUSTOM_ID_LIMIT = 100
_ID = r"(?P<paper>[0-9a-z.\-/]{1,40})"
READING_COG = "Reading"
UNAVAILABLE = "Paperboy is restarting; try again in a moment."


class ReadingHandler(Protocol):
    """What the reading cog does for each click."""

    async def on_paper_button(self, interaction: Any, action: str, paper_id: str) -> None: ...

    async def on_undo(self, interaction: Any, action: str, target: str, extra: str) -> None: ...


async def _handle(interaction: discord.Interaction[Any], call: str, *args: str) -> None:
    """Hand the click to the reading cog; fail the way commands do."""
    try:
        cog = interaction.client.get_cog(READING_COG)
        if cog is None:
            await interaction.response.send_message(UNAVAILABLE, ephemeral=True)
            return
        await getattr(cog, call)(interaction, *args)
    except Exception as exc:  # discord.py would only log it: the member must hear something
        await report_interaction_error(interaction, exc)


class PaperButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"pb:(?P<action>save|similar|nfm):{_ID}",
):
    """Save, Similar or Not for me on one paper."""

    LOOKS: ClassVar[dict[str, tuple[str, str, discord.ButtonStyle]]] = {
        "save": ("Save", "🔖", discord.ButtonStyle.secondary),
        "similar": ("Similar", "🔔", discord.ButtonStyle.secondary),
        "nfm": ("Not for me", "🔕", discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, paper_id: str) -> None:
        label, emoji, style = self.LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=f"pb:{action}:{paper_id}"
            )
        )
        self.action, self.paper_id = action, paper_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Button[Any],
        match: re.Match[str],
    ) -> PaperButton:
        """The button a click's custom_id names."""
        return cls(match["action"], match["paper"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Save, follow or mute the paper for whoever clicked."""
        await _handle(interaction, "on_paper_button", self.action, self.paper_id)


class UndoButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"pb:undo:(?P<action>save|similar|nfm):(?P<target>[0-9a-z.\-/]{1,40})(:(?P<extra>[0-9.m]*))?",
):
    """Undo exactly the action an answer reports."""

    def __init__(self, action: str, target: str, extra: str = "") -> None:
        custom_id = f"pb:undo:{action}:{target}" + (f":{extra}" if extra else "")
        super().__init__(
            discord.ui.Button(
                label="Undo", style=discord.ButtonStyle.secondary, custom_id=custom_id
            )
        )
        self.action, self.target, self.extra = action, target, extra

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Button[Any],
        match: re.Match[str],
    ) -> UndoButton:
        """The button a click's custom_id names."""
        return cls(match["action"], match["target"], match["extra"] or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Reverse the action for whoever clicked (only their own lists)."""
        await _handle(interaction, "on_undo", self.action, self.target, self.extra)


def nfm_undo_extra(sub_ids: Sequence[int]) -> str:
    """The undo data of a Not for me: the changed subscriptions' ids, or `m` for a mute. (When
    the ids don't fit a custom_id, `undo_view` leaves them out and the undo takes `-like:` off
    each of the member's subscriptions there that holds it.)"""
    if not sub_ids:
        return "m"
    return ".".join(str(i) for i in sub_ids)


def undo_view(action: str, target: str, extra: str = "") -> discord.ui.View:
    """A view with one Undo button (its data cut to fit a custom_id)."""
    room = CUSTOM_ID_LIMIT - len(f"pb:undo:{action}:{target}:")
    if len(extra) > room:
        extra = ""
    view = discord.ui.View(timeout=None)
    view.add_item(UndoButton(action, target, extra))
    return view


def paper_view(paper_ids: Sequence[str]) -> discord.ui.View | None:
    """One row of Save / Similar / Not for me per paper delivered (at most 5 rows a message);
    None for a message that delivers no paper (a header, more mentions)."""
    papers = [p for p in paper_ids if not is_part(p)][:ACTION_ROWS_PER_MESSAGE]
    if not papers:
        return None
    view = discord.ui.View(timeout=None)
    for row, paper_id in enumerate(papers):
        for action in ("save", "similar", "nfm"):
            button = PaperButton(action, paper_id)
            button.item.row = row
            view.add_item(button)
    return view


def register(client: discord.Client) -> None:
    """Make the bot answer these buttons on any message, whenever it was posted."""
    client.add_dynamic_items(PaperButton, UndoButton)
