"""Save, Similar and Not for me under every posted paper, their Undo, and /saved, end to end:
the real bot and discord.py against the local fake Discord, real SQLite."""

from __future__ import annotations

from pathlib import Path

from bot.store import reading_list as lists
from tests.e2e.reading_support import (
    answer,
    click,
    custom_id,
    labels,
    posted_lab,
    reading_bot,
)
from tests.fakediscord import FakeDiscord


async def test_every_posted_paper_has_the_three_buttons(
    discord_at_fake: FakeDiscord, tmp_path: Path
) -> None:
    _lab, posted = await posted_lab(discord_at_fake, tmp_path)
    assert set(posted) == {"2611.00001", "2611.00002"}
    for message in posted.values():
        assert labels(message) == [["Save", "Similar", "Not for me"]]
        emojis = [c["emoji"]["name"] for c in message.components[0]["components"]]
        assert emojis == ["🔖", "🔔", "🔕"]


async def test_save_then_undo(discord_at_fake: FakeDiscord, tmp_path: Path) -> None:
    fake = discord_at_fake
    lab, posted = await posted_lab(fake, tmp_path)
    message = posted["2611.00001"]
    async with reading_bot(fake, lab) as bot:
        saved = await click(fake, lab.alice, message, "pb:save:2611.00001")
        assert saved.ephemeral
        shown = answer(saved)
        assert shown.content == (
            "🔖 Saved **Diffusion agents** to your reading list (1 paper; /saved lists them)."
        )
        mine = await bot.store.run(lists.all_saved, lab.alice.id)
        assert [p.paper_id for p in mine] == ["2611.00001"]

        undone = await click(fake, lab.alice, shown, custom_id(shown, "pb:undo:"))
        assert undone.response_type == 7
        assert shown.content == "Removed arXiv:2611.00001 from your reading list."
        assert shown.components == []
        assert await bot.store.run(lists.all_saved, lab.alice.id) == []
