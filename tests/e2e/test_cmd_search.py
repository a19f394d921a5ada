"""/search and /paper end to end: fake Discord, real bot, real SQLite, a local Hugging Face."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import bot.search_sessions
from bot.delivery.dm_notice import DM_CLOSED_NOTICE
from bot.search import search_papers
from bot.store.papers import get_paper
from tests.e2e.search_support import (
    FakeHuggingFace,
    button_id,
    buttons,
    search_world,
    titles,
)
from tests.e2e.world import World, paper
from tests.fakediscord import CommandError, FakeDiscord, Message
from tests.support import eventually

NOT_YOURS = "These buttons belong to someone else's search — run /search yourself."


@pytest.fixture
async def world(
    discord_at_fake: FakeDiscord, tmp_path: Path, hf: FakeHuggingFace
) -> AsyncIterator[World]:
    async with search_world(discord_at_fake, tmp_path, hf) as w:
        yield w


async def click(world: World, who: Any, message: Message, move: str) -> Any:
    """Click a results page's "prev" or "next" button."""
    return await world.fake.click(who, message, button_id(message, move))


def no_pings(*replies: Any) -> bool:
    return all(
        not m.mentioned_user_ids and not m.mention_everyone for r in replies for m in r.messages
    )


async def test_search_pages_forwards_and_back(world: World) -> None:
    reply = await world.run(world.alice, "search", query="diffusion")
    assert reply.ephemeral and reply.deferred and reply.answered_in_time
    message = reply.message
    assert message is not None
    (embed,) = message.embeds
    assert embed["title"] == "Search: diffusion"
    assert embed["footer"]["text"] == "Page 1 of 3 · 13 results"
    first = titles(message)
    assert len(first) == 5
    assert buttons(message) == {"prev": False, "next": True}

    block = embed["description"].split("\n\n")[0]
    assert block.startswith("**1. [")
    assert "](https://arxiv.org/abs/2603." in block
    assert re.search(r"\)\*\* · \d{1,2} Mar 2026\n", block)  # a readable date after the title
    assert "**diffusion**" in block  # the matched word in bold

    second = await click(world, world.alice, message, "next")
    assert second.response_type == 7  # the same message, updated in place
    page2 = titles(message)
    assert len(page2) == 5 and not set(page2) & set(first)
    assert message.embeds[0]["footer"]["text"] == "Page 2 of 3 · 13 results"
    assert message.embeds[0]["description"].startswith("**6. [")
    assert buttons(message) == {"prev": True, "next": True}

    await click(world, world.alice, message, "next")
    page3 = titles(message)
    assert len(page3) == 3  # 13 matches in all
    assert message.embeds[0]["footer"]["text"] == "Page 3 of 3 · 13 results"
    assert buttons(message) == {"prev": True, "next": False}
    with pytest.raises(CommandError, match="disabled"):
        await click(world, world.alice, message, "next")

    await click(world, world.alice, message, "prev")
    assert titles(message) == page2
    await click(world, world.alice, message, "prev")
    assert titles(message) == first
    assert buttons(message) == {"prev": False, "next": True}
    assert sorted(first + page2 + page3) == sorted(
        [f"Diffusion study {n:02d}" for n in range(1, 13)]
        + ["Fast \\*diffusion\\* with under\\_scores"]
    )


async def test_the_total_is_counted_once_and_recounted_only_when_papers_arrived(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[bool] = []

    def recording(*args: Any, count: bool = False, **kwargs: Any) -> Any:
        counted.append(count)
        return search_papers(*args, count=count, **kwargs)

    monkeypatch.setattr(bot.search_sessions, "search_papers", recording)
    reply = await world.run(world.alice, "search", query="diffusion")
    message = reply.message
    assert message is not None
    await click(world, world.alice, message, "next")
    assert counted == [True, False]  # page 2 reused the total counted with page 1

    await world.add_papers([paper(30 + n, f"Late diffusion {n}", days_ago=0.1) for n in range(5)])
    await click(world, world.alice, message, "next")  # page 3 now shows more than counted
    assert counted == [True, False, False, True]
    assert message.embeds[0]["footer"]["text"] == "Page 3 of 4 · 18 results"
    assert buttons(message) == {"prev": True, "next": True}


async def test_a_single_result_reads_in_the_singular(world: World) -> None:
    reply = await world.run(world.alice, "search", query="sparse")
    assert reply.embeds[0]["footer"]["text"] == "Page 1 of 1 · 1 result"


async def test_a_public_search_keeps_the_private_dm_notice_private(world: World) -> None:
    await world.db(
        lambda db: db.execute(
            "INSERT INTO dm_status (user_id, closed_at, told_user) VALUES (?, '', 0)",
            [world.alice.id],
        )
    )
    public = await world.run(world.alice, "search", query="diffusion", public=True)
    assert not public.ephemeral
    assert DM_CLOSED_NOTICE not in (public.content or "")
    private = await world.run(world.alice, "subscriptions")
    assert private.ephemeral and private.content.splitlines()[-1] == DM_CLOSED_NOTICE


async def test_a_stranger_cannot_turn_someone_elses_pages(world: World) -> None:
    reply = await world.run(world.alice, "search", query="diffusion", public=True)
    assert not reply.ephemeral  # public results are visible to the channel
    message = reply.message
    assert message is not None
    before = titles(message)

    stranger = await click(world, world.bob, message, "next")
    assert stranger.ephemeral and stranger.content == NOT_YOURS
    assert titles(message) == before
    assert message.embeds[0]["footer"]["text"] == "Page 1 of 3 · 13 results"

    mine = await click(world, world.alice, message, "next")
    assert mine.response_type == 7 and titles(message) != before


async def test_paper_text_is_escaped_and_never_pings(world: World) -> None:
    reply = await world.run(world.alice, "search", query='"under_scores" OR faster')
    description = reply.embeds[0]["description"]
    assert "[Fast \\*diffusion\\* with under\\_scores](" in description
    assert "We make \\*\\*diffusion\\*\\* **faster**" in description  # only the query's words bold
    assert "**faster**" in description
    assert "\\`code\\`" in description
    assert "@everyone" not in description and "<@123>" not in description
    assert no_pings(reply)


async def test_days_limits_the_search_window(world: World) -> None:
    reply = await world.run(world.alice, "search", query="diffusion", days=2)
    assert sorted(titles(reply.message)) == [  # type: ignore[arg-type]
        "Diffusion study 01",
        "Diffusion study 02",
        "Fast \\*diffusion\\* with under\\_scores",
    ]
    assert reply.embeds[0]["footer"]["text"] == "Page 1 of 1 · 3 results · last 2 days"
    assert buttons(reply.message) == {"prev": False, "next": False}  # type: ignore[arg-type]


async def test_no_results_suggests_a_broader_query(world: World) -> None:
    reply = await world.run(world.alice, "search", query='"protein folding"', days=3)
    assert reply.ephemeral and reply.embeds == [] and reply.components == []
    assert reply.content == (
        'No papers match `"protein folding"` in the last 3 days. Try a broader query: drop '
        "`days`, fewer words, `OR` between alternatives, or a prefix such as `quantiz*`."
    )


async def test_a_one_day_window_reads_in_the_singular(world: World) -> None:
    reply = await world.run(world.bob, "search", query='"protein folding"', days=1)
    assert reply.content.startswith('No papers match `"protein folding"` in the last day. ')


async def test_bad_input_is_one_line_and_private(world: World) -> None:
    carol = world.guild.add_member("carol")
    bad = await world.run(world.alice, "search", query="diffusion AND", public=True)
    assert bad.ephemeral and not bad.deferred
    assert bad.content == "That query doesn't work: AND needs a term on both sides at column 11."
    long = await world.run(world.bob, "search", query="a" * 250)
    assert long.content == "That query is 250 characters long; the limit is 200."
    days = await world.run(carol, "search", query="diffusion", days=0)
    assert days.ephemeral and days.content == "`days` must be between 1 and 3650."


async def test_refining_a_search_is_never_refused_but_spam_is_slowed(world: World) -> None:
    # A member refining a search fires four in a row (the clock stands still: within 10 s)...
    for query in ["diffusion", "diffusion models", "diffusion -survey", '"diffusion models"']:
        refined = await world.run(world.alice, "search", query=query)
        assert refined.embeds, refined.content
    # ...and only a fifth at once is refused, in one private line.
    spam = await world.run(world.alice, "search", query="attention")
    assert spam.ephemeral and not spam.deferred
    assert spam.content == "Slow down: try again in 5 s."
    other = await world.run(world.bob, "search", query="attention")  # per user, not global
    assert titles(other.message) == ["Sparse attention kernels"]  # type: ignore[arg-type]


async def test_buttons_are_disabled_when_the_pager_times_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # load_extension executes the cog module afresh: patch the copy the bot loaded.
    monkeypatch.setattr(sys.modules["cogs.search"], "PAGER_TIMEOUT", 0.2)
    reply = await world.run(world.alice, "search", query="diffusion")
    message = reply.message
    assert message is not None
    # the view times out on its own clock
    await eventually(lambda: not any(buttons(message).values()), "the pager to time out")
    assert buttons(message) == {"prev": False, "next": False}
    assert len(titles(message)) == 5  # the results stay


# /paper


async def test_paper_shows_a_stored_paper(world: World, hf: FakeHuggingFace) -> None:
    reply = await world.run(world.alice, "paper", id="https://arxiv.org/abs/2603.00020v2")
    assert reply.ephemeral and reply.deferred
    (embed,) = reply.embeds
    assert embed["title"] == "Fast \\*diffusion\\* with under\\_scores"  # titles render Markdown
    assert embed["url"] == "https://arxiv.org/abs/2603.00020"
    assert embed["author"]["name"] == "Ada Lovelace, Alan Turing"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Date"] == "10 Mar 2026"
    assert fields["Categories"] == "cs.LG"
    assert "[PDF](https://arxiv.org/pdf/2603.00020)" in fields["Links"]
    assert "[HF](https://huggingface.co/papers/2603.00020)" in fields["Links"]
    assert embed["description"].startswith("**TL;DR** ")  # above the abstract and fields
    assert "\\*\\*diffusion\\*\\*" in embed["description"]
    assert hf.requests == []  # known locally: Hugging Face is not asked
    assert no_pings(reply)


async def test_an_unknown_paper_is_fetched_from_hugging_face_and_stored(
    world: World, hf: FakeHuggingFace
) -> None:
    assert await world.db(get_paper, "2608.09888") is None
    reply = await world.run(world.alice, "paper", id="arXiv:2608.09888")
    (embed,) = reply.embeds
    assert embed["title"] == "In-Context Learning at 10$^6$ Tokens"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert embed["description"].startswith(
        "**TL;DR** Scaling in-context learning to a million tokens keeps improving loss.\n\n"
    )
    assert fields["Upvotes"] == "781"
    assert "[code](https://github.com/example/icl-1m)" in fields["Links"]
    assert embed["author"]["name"] == "Ada Lovelace, Charles Babbage"
    assert hf.requests == ["2608.09888"]

    stored = await world.db(get_paper, "2608.09888")
    assert stored is not None and stored.upvotes == 781
    assert stored.sources == frozenset()  # a look-up is not a listing: no digest news
    await world.run(world.bob, "paper", id="2608.09888")
    assert hf.requests == ["2608.09888"]  # the second look-up is served from the store


async def test_a_paper_unknown_everywhere_gets_a_clear_reply(
    world: World, hf: FakeHuggingFace
) -> None:
    reply = await world.run(world.alice, "paper", id="2609.12345")
    assert reply.ephemeral and reply.embeds == []
    assert reply.content.startswith("I couldn't find arXiv:2609.12345 here or on Hugging Face.")
    assert await world.count("papers") == 14


async def test_hugging_face_down_is_explained_in_one_line(
    world: World, hf: FakeHuggingFace
) -> None:
    hf.status = 500
    reply = await world.run(world.alice, "paper", id="2609.12345")
    assert reply.ephemeral
    assert reply.content == (
        "I don't have arXiv:2609.12345 yet and Hugging Face isn't answering; "
        "try again in a few minutes."
    )


@pytest.mark.parametrize("given", ["not a paper", "2613.00001", "https://example.com/abs/1"])
async def test_an_invalid_id_is_refused_at_once(
    world: World, hf: FakeHuggingFace, given: str
) -> None:
    reply = await world.run(world.alice, "paper", id=given)
    assert reply.ephemeral and not reply.deferred
    assert reply.content.endswith(
        "is not an arXiv id or URL: try 2401.01234 or https://arxiv.org/abs/2401.01234."
    )
    assert hf.requests == []
