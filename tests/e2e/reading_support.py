"""Helpers for the reader's buttons end to end: a seeded lab with its digest posted, and the
buttons on posted messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.discord.client import PaperboyBot
from tests.e2e.lab import Lab, running, seeded_lab
from tests.fakediscord import FakeDiscord, Message
from tests.fakediscord.actions import InteractionResult

EXTENSIONS = ("cogs.meta", "cogs.reading", "cogs.subscriptions")


@asynccontextmanager
async def reading_bot(fake: FakeDiscord, lab: Lab) -> AsyncIterator[PaperboyBot]:
    """The bot with the reading cog, on the lab's database."""
    async with running(lab.settings, fake, extensions=EXTENSIONS) as bot:
        yield bot


async def posted_lab(fake: FakeDiscord, tmp_path: Path) -> tuple[Lab, dict[str, Message]]:
    """The lab with today's digest posted (by a bot that is stopped again); the paper messages
    by arXiv id."""
    lab = await seeded_lab(fake, tmp_path)
    async with reading_bot(fake, lab) as bot:
        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(lab.channel.id)
        assert report.posted == 2
    return lab, paper_messages(fake, lab)


def paper_messages(fake: FakeDiscord, lab: Lab) -> dict[str, Message]:
    """The digest thread's paper messages, by the arXiv id their buttons carry."""
    (thread,) = fake.threads_of(lab.channel)
    found: dict[str, Message] = {}
    for message in fake.messages_in(thread, include_ephemeral=False):
        for paper_id in paper_ids(message):
            found[paper_id] = message
    return found


def paper_ids(message: Message) -> list[str]:
    """The papers whose button rows a message has, in order."""
    ids = [c["custom_id"] for row in message.components for c in row["components"]]
    return [i.split(":", 2)[2] for i in ids if i.startswith("pb:save:")]


def labels(message: Message) -> list[list[str]]:
    """Each row's button labels."""
    return [[c.get("label", "") for c in row["components"]] for row in message.components]


def custom_id(message: Message, prefix: str) -> str:
    """The one custom_id on the message starting with `prefix`."""
    (found,) = [
        c["custom_id"]
        for row in message.components
        for c in row["components"]
        if c["custom_id"].startswith(prefix)
    ]
    return str(found)


async def click(fake: FakeDiscord, who: object, message: Message, custom: str) -> InteractionResult:
    """Click a button and wait for the bot's final answer."""
    result = await fake.click(who, message, custom)  # type: ignore[arg-type]
    return await result.wait_for_final()


def answer(result: InteractionResult) -> Message:
    """The message a click's answer shows (where its Undo button is)."""
    shown = result.followups[-1] if result.followups else result.message
    assert shown is not None
    return shown
