"""What the /search and /paper end-to-end tests share: a local Hugging Face paper API serving the
recorded fixture (and counting requests), the seeded papers, and reading a results page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.e2e.world import NOW, World, paper, running_world
from tests.fakediscord import FakeDiscord, Message

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"


class FakeHuggingFace:
    """A local `/api/papers/{id}` serving the recorded response for one paper, 404 otherwise."""

    def __init__(self) -> None:
        self.document = json.loads((FIXTURES / "hf_paper.json").read_text())
        self.requests: list[str] = []
        self.status: int | None = None  # force every answer to this status
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def paper(self, request: web.Request) -> web.Response:
        paper_id = request.match_info["id"]
        self.requests.append(paper_id)
        if self.status is not None:
            return web.Response(status=self.status, text="down")
        if paper_id != self.document["id"]:
            return web.json_response({"error": "Paper not found"}, status=404)
        return web.json_response(self.document)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/papers/{id}", self.paper)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def running_hf() -> AsyncIterator[FakeHuggingFace]:
    """A started local Hugging Face, closed after."""
    server = FakeHuggingFace()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def search_world(
    fake: FakeDiscord,
    tmp_path: Path,
    hf: FakeHuggingFace,
    *,
    restart: World | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
) -> AsyncIterator[World]:
    """The bot with the command cogs, Hugging Face at `hf`, and 14 papers stored (13 match
    `diffusion`); with `restart`, a new bot on that world's database and server instead."""
    async with running_world(
        fake,
        tmp_path,
        restart=restart,
        clock=clock,
        scheduler_enabled=False,
        hf_api_url=hf.url,
        http_retries=0,
    ) as w:
        if restart is None:
            await w.add_papers(search_papers())
        yield w


def search_papers() -> list[Any]:
    """12 diffusion studies a day apart, one with hostile text, and one about attention."""
    papers = [
        paper(
            n,
            f"Diffusion study {n:02d}",
            f"Part {n} of a series on diffusion models and their training.",
            days_ago=n,
        )
        for n in range(1, 13)
    ]
    papers.append(
        paper(
            20,
            "Fast *diffusion* with under_scores",
            "We make **diffusion** faster; see `code` and <@123> @everyone.",
            days_ago=0.5,
        )
    )
    papers.append(paper(21, "Sparse attention kernels", days_ago=1))
    return papers


def titles(message: Message) -> list[str]:
    """The linked titles on a results page, in order."""
    description = message.embeds[0]["description"]
    return [block.split("](")[0].split("[", 1)[1] for block in description.split("\n\n")]


def buttons(message: Message) -> dict[str, bool]:
    """Whether each button ("prev", "next") of a results page is enabled."""
    return {
        item["custom_id"].split(":")[1]: not item.get("disabled", False)
        for row in message.components
        for item in row["components"]
    }


def button_id(message: Message, move: str) -> str:
    """The custom_id of a results page's "prev" or "next" button."""
    (found,) = [
        item["custom_id"]
        for row in message.components
        for item in row["components"]
        if item["custom_id"].split(":")[1] == move
    ]
    return str(found)
