"""Exactly once through a lost reply: Discord created the paper's message but the bot never heard.

The real PaperboyBot and discord.py run a feed's digest against the fake Discord, which processes
the 2nd paper message in the thread and then loses the answer: cuts the connection, answers 503,
or never answers at all. The row stays pending in its digest; the next run (after Discord's nonce
dedupe has expired, as it has by the next day) finds the message in the thread's history instead
of posting it again, so users see every paper once, under one header, and the ledger ends `sent`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.discord.poster import DiscordPoster
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import papers as papers_repo
from tests.e2e.lab import NOW, running
from tests.fakediscord import FakeDiscord, LostAnswer
from tests.support import make_feed, paper, settings_for, subscribe

PAPERS = {
    "2611.00001": "Diffusion agents",
    "2611.00002": "Diffusion for proteins",
    "2611.00003": "Diffusion in optics",
}


async def seed(db: Path, channel_id: int, creator: int) -> None:
    """A feed whose channel subscription matches all three papers."""
    async with await Store.open(db, clock=lambda: NOW) as store:
        await make_feed(store, channel_id, created_by=creator, created=NOW)
        await subscribe(store, channel_id, "diffusion")
        await store.run(
            papers_repo.upsert_papers,
            [paper(pid, title, upvotes=10 - n) for n, (pid, title) in enumerate(PAPERS.items())],
            NOW - timedelta(hours=2),
        )


def arxiv_ids(urls: list[str]) -> list[str]:
    return [u.rsplit("/", 1)[-1] for u in urls]


@pytest.mark.parametrize("how", ["drop", 503, "hang"])
async def test_a_lost_reply_is_not_posted_twice_on_the_next_run(
    discord_at_fake: FakeDiscord, tmp_path: Path, how: LostAnswer
) -> None:
    fake = discord_at_fake
    guild = fake.add_guild("Lab")
    chan = guild.add_text_channel("papers")
    admin = guild.add_member("root")
    settings = settings_for(tmp_path, fake)
    await seed(settings.db, chan.id, admin.id)
    # Header (channel) and paper 1 (thread) go through; paper 2 is created, its reply lost.
    lost = fake.lose_responses("POST", "/channels/{id}/messages", how=how, skip=2)
    destination = f"channel:{chan.id}"
    async with running(settings, fake) as bot:
        assert bot.scheduler is not None
        poster = bot.scheduler.engine.poster
        assert isinstance(poster, DiscordPoster)
        poster.request_timeout = 1.0  # "hang": give up on the request soon (60 s in production)
        # Every way of losing the answer is an unknown outcome: the run stops at paper 2, which
        # stays pending (attempted once) in its digest, with paper 3 behind it.
        first = await bot.scheduler.run_feed_now(chan.id)
        after_loss = await bot.store.run(ledger.deliveries_to, destination)
        fake.server.rest.nonce_window = 0.0  # the next day: Discord's nonce dedupe is long over
        again = await bot.scheduler.run_feed_now(chan.id)
        final = await bot.store.run(ledger.deliveries_to, destination)

    (header,) = fake.messages_in(chan)  # one header: the second run resumed the same digest
    assert header.content.startswith("📰 **Papers · 26 Nov 2026** — 3 new papers")
    thread = header.thread
    assert thread is not None
    assert lost.hits == 1
    if how != "hang":  # a hung request is only logged once the fake server lets it go
        (lost_request,) = [r for r in fake.requests if r.lost]
        assert lost_request.path == f"/channels/{thread.id}/messages"
    # Before the retry: Discord already held paper 2, the bot's ledger did not know it.
    states = {d.paper_id: (d.state, d.attempts) for d in after_loss}
    assert states["2611.00001"] == ("sent", 1) and states["2611.00002"] == ("pending", 1)
    assert first.posted == 1
    # What users see: every paper exactly once, in order, in the one thread.
    messages = fake.messages_in(thread)
    urls = [e["url"] for m in messages for e in m.embeds]
    assert arxiv_ids(urls) == list(PAPERS)
    # The rerun delivered exactly what was unsent (paper 2: found in the thread, not re-sent).
    assert again.posted == sum(d.state != "sent" for d in after_loss) >= 1
    assert {d.state for d in final} == {"sent"} and len(final) == len(PAPERS)
    by_paper = {d.paper_id: d.message_id for d in final}
    assert by_paper == {
        pid: m.id for m, pid in zip(messages, PAPERS, strict=True)
    }  # the ledger points at the very messages users see
