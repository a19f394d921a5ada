"""The messages a digest is made of, as plain data: header, thread name, one message per paper,
DM batches. Discord-free: the Discord layer only turns these specs into API calls."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from bot.delivery.digest import DigestEntry
from bot.destinations import Destination
from bot.limits import (
    ACTION_ROWS_PER_MESSAGE,
    AUTHOR_LIMIT,
    EMBED_COLOUR,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE_LIMIT,
    MENTIONED_USERS_LIMIT,
    MESSAGE_LIMIT,
    NONCE_LENGTH,
    THREAD_NAME_LIMIT,
)
from bot.links import markdown_link
from bot.models import Paper
from bot.text import inert, neutralise_mentions, truncate

HEADER_TITLE_LIMIT = 120  # one line per paper in the header stays readable
MATCHED_LIMIT = 600  # a paper's "Matched:" line, before escaping: the TL;DR keeps most room
PAPERS_PER_DM_MESSAGE = min(EMBEDS_PER_MESSAGE, ACTION_ROWS_PER_MESSAGE)


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message to send: text, embeds (Discord's JSON form), who may be pinged, its nonce."""

    content: str
    embeds: tuple[dict[str, Any], ...] = ()
    mention_user_ids: tuple[int, ...] = ()
    nonce: str = ""
    paper_ids: tuple[str, ...] = field(default=())  # the papers this message delivers

    def to_json(self) -> str:
        """Serialise for the deliveries ledger (so a retry sends exactly this message)."""
        return json.dumps(
            {
                "content": self.content,
                "embeds": list(self.embeds),
                "mentions": list(self.mention_user_ids),
                "nonce": self.nonce,
                "papers": list(self.paper_ids),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> MessageSpec:
        """The spec stored by `to_json`."""
        data = json.loads(text)
        return cls(
            content=data["content"],
            embeds=tuple(data["embeds"]),
            mention_user_ids=tuple(data["mentions"]),
            nonce=data["nonce"],
            paper_ids=tuple(data.get("papers", ())),
        )


def nonce_for(*parts: object) -> str:
    """A deterministic message nonce (≤ 25 chars) for the same logical message, across restarts."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:NONCE_LENGTH]


def safe(text: str) -> str:
    """Paper text made inert for Discord: no Markdown effects and no mentions."""
    return inert(text)


def date_label(day: date) -> str:
    """`26 Nov 2026` (no leading zero, English month, whatever the locale)."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{day.day} {months[day.month - 1]} {day.year}"


def thread_name(day: date) -> str:
    """The name of a day's digest thread or forum post."""
    return truncate(f"Papers · {date_label(day)}", THREAD_NAME_LIMIT)


def _count(n: int) -> str:
    return f"{n} new paper" + ("" if n == 1 else "s")


def header_text(day: date, titles: Sequence[tuple[str, str]], overflow: int) -> str:
    """The digest header: date and count, a linked title per paper, and the overflow hint.

    `titles` are (title, url) pairs in digest order. Stays within one message; titles that do
    not fit are summarised as "…and N more in the thread".
    """
    # The count is every paper that matched; when the cap cut some, say how many are shown.
    first = f"📰 **Papers · {date_label(day)}** — {_count(len(titles) + overflow)}"
    if overflow:
        first += f" (the top {len(titles)} below)"
    tail = f"+{overflow} more matched — /search finds them" if overflow else ""
    lines = [first]
    budget = MESSAGE_LIMIT - len(first) - (len(tail) + 1 if tail else 0) - 40
    for index, (title, url) in enumerate(titles, start=1):
        # <url> keeps Discord from unfurling a preview for every link.
        line = f"{index}. {markdown_link(truncate(title, HEADER_TITLE_LIMIT), url, preview=False)}"
        if len(line) + 1 > budget:
            lines.append(f"…and {len(titles) - index + 1} more in the thread")
            break
        lines.append(line)
        budget -= len(line) + 1
    if tail:
        lines.append(tail)
    return "\n".join(lines)


def authors_text(authors: Sequence[str], limit: int = 80) -> str:
    """Authors as one line, trimmed to "First Author et al." when long."""
    if not authors:
        return ""
    joined = ", ".join(authors)
    if len(authors) <= 3 and len(joined) <= limit:
        return joined
    if len(authors) == 1:
        return truncate(joined, limit)
    return truncate(f"{authors[0].strip()} et al.", AUTHOR_LIMIT)


def paper_links(paper: Paper, *, with_abs: bool = False) -> str:
    """`[abs ·] PDF · HF · code · project` as Markdown links (only those that exist): the one
    links line of every paper card, in digests and in /paper."""
    links = [("abs", paper.abs_url)] if with_abs else []
    links += [("PDF", paper.pdf_url), ("HF", paper.hf_url)]
    if paper.code_url:
        links.append(("code", paper.code_url))
    if paper.project_url:
        links.append(("project", paper.project_url))
    return " · ".join(markdown_link(name, url) for name, url in links)


def links_text(entry: DigestEntry) -> str:
    """The links line of a digest entry's paper."""
    return paper_links(entry.paper)


@lru_cache(maxsize=4096)
def _paper_card(paper: Paper) -> tuple[str, str, str]:
    """The parts of a paper's embed that depend on the paper alone (title, links, authors), made
    once for every feed and member that gets the paper: a thousand DM digests render the same
    few hundred papers."""
    title = truncate(safe(paper.title), EMBED_TITLE_LIMIT)
    links = paper_links(paper)[:FIELD_VALUE_LIMIT]
    # Embed author names render no Markdown; mentions never fire in embeds, but keep it inert.
    authors = neutralise_mentions(authors_text(paper.authors))
    return title, links, authors


@lru_cache(maxsize=4096)
def _safe_tldr(tldr: str) -> str:
    """A TL;DR made inert, once per paper (it is the same wherever the paper goes)."""
    return safe(tldr)


def paper_embed(entry: DigestEntry) -> dict[str, Any]:
    """The embed for one paper: linked title, authors, TL;DR, why it matched, links, upvotes."""
    paper = entry.paper
    title, links, authors = _paper_card(paper)
    description = _safe_tldr(entry.tldr)
    # cut before escaping, so no escape is cut in half; a why names at most WHY_QUERIES
    # queries, but five long ORs still leave the TL;DR no room
    matched = f"**Matched:** {safe(truncate(entry.why, MATCHED_LIMIT))}" if entry.why else ""
    room = EMBED_DESCRIPTION_LIMIT - len(matched) - 2
    description = truncate(description, max(room, 0))
    embed: dict[str, Any] = {
        "type": "rich",
        "title": title,
        "url": paper.abs_url,
        "description": "\n\n".join(p for p in (description, matched) if p),
        "color": EMBED_COLOUR,
        "fields": [{"name": "Links", "value": links}],
        "footer": {"text": _footer(entry)},
    }
    if authors:
        embed["author"] = {"name": authors}
    if paper.thumbnail:
        embed["thumbnail"] = {"url": paper.thumbnail}
    return embed


def _footer(entry: DigestEntry) -> str:
    parts = [f"arXiv {entry.paper.id}"]
    if entry.paper.upvotes:
        noun = "upvote" if entry.paper.upvotes == 1 else "upvotes"
        parts.append(f"▲ {entry.paper.upvotes} {noun}")
    return " · ".join(parts)


def embed_length(embed: dict[str, Any]) -> int:
    """Characters Discord counts toward the 6,000 per-message embed total."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", "")) + len(
        embed.get("author", {}).get("name", "")
    )
    for fld in embed.get("fields", []):
        total += len(fld.get("name", "")) + len(fld.get("value", ""))
    return total


def mention_text(user_ids: Sequence[int]) -> str:
    """`<@id> <@id>` for the members whose personal subscriptions matched."""
    return " ".join(f"<@{uid}>" for uid in user_ids)


PART_MARK = "#"  # "2611.00001#2": the ledger row of a paper's second message (more mentions)


def part_id(paper_id: str, part: int) -> str:
    """The ledger key of a paper's `part`-th message (2, 3, …) carrying further mentions."""
    return f"{paper_id}{PART_MARK}{part}"


def is_part(ledger_paper_id: str) -> bool:
    """True for a continuation message's ledger key, which delivers no paper of its own."""
    return PART_MARK in ledger_paper_id


def mention_chunks(user_ids: Sequence[int]) -> list[tuple[int, ...]]:
    """The members to mention, split so each message stays within Discord's limits: at most
    100 users in `allowed_mentions` and 2,000 characters of content (prefix included)."""
    chunks: list[tuple[int, ...]] = []
    current: list[int] = []
    length = len(CONTINUATION_PREFIX)
    for uid in dict.fromkeys(user_ids):  # each member once, in order
        mention = len(f"<@{uid}>") + 1
        if current and (len(current) >= MENTIONED_USERS_LIMIT or length + mention > MESSAGE_LIMIT):
            chunks.append(tuple(current))
            current, length = [], len(CONTINUATION_PREFIX)
        current.append(uid)
        length += mention
    if current:
        chunks.append(tuple(current))
    return chunks


CONTINUATION_PREFIX = "↳ "


def paper_message(destination: Destination, entry: DigestEntry) -> MessageSpec:
    """The thread (or channel) message for one paper, mentioning (the first of) its subscribers."""
    return paper_messages(destination, entry)[0]


def paper_messages(destination: Destination, entry: DigestEntry) -> list[MessageSpec]:
    """The messages for one paper: its embed mentioning its subscribers, then, when they are too
    many for one message, follow-ups mentioning the rest — each member exactly once."""
    chunks = mention_chunks(entry.mention_user_ids) or [()]
    paper_id = entry.paper.id
    specs = [
        MessageSpec(
            content=mention_text(chunks[0]),
            embeds=(paper_embed(entry),),
            mention_user_ids=chunks[0],
            nonce=nonce_for(destination, paper_id),
            paper_ids=(paper_id,),
        )
    ]
    for part, chunk in enumerate(chunks[1:], start=2):
        key = part_id(paper_id, part)
        specs.append(
            MessageSpec(
                content=CONTINUATION_PREFIX + mention_text(chunk),
                mention_user_ids=chunk,
                nonce=nonce_for(destination, key),
                paper_ids=(key,),
            )
        )
    return specs


def header_message(
    destination: Destination,
    run_key: object,
    day: date,
    entries: Sequence[DigestEntry],
    overflow: int,
) -> MessageSpec:
    """The digest's header message (pings nobody)."""
    titles = [(e.paper.title, e.paper.abs_url) for e in entries]
    return MessageSpec(
        content=header_text(day, titles, overflow),
        nonce=nonce_for(destination, run_key, "header"),
    )


def dm_messages(
    destination: Destination, day: date, entries: Sequence[DigestEntry]
) -> list[MessageSpec]:
    """A user's daily DM: their matches, ≤ 5 papers (each with its row of buttons: Discord allows
    5 action rows a message) and ≤ 6,000 embed characters a message."""
    batches: list[list[tuple[DigestEntry, dict[str, Any]]]] = []
    size = 0
    for entry in entries:
        embed = paper_embed(entry)
        length = embed_length(embed)
        if (
            not batches
            or len(batches[-1]) >= PAPERS_PER_DM_MESSAGE
            or size + length > EMBED_TOTAL_LIMIT
        ):
            batches.append([])
            size = 0
        batches[-1].append((entry, embed))
        size += length
    specs: list[MessageSpec] = []
    for index, batch in enumerate(batches):
        ids = tuple(e.paper.id for e, _ in batch)
        heading = f"📰 Your papers · {date_label(day)} — {_count(len(entries))}"
        if len(batches) > 1:
            heading += f" ({index + 1}/{len(batches)})"
        specs.append(
            MessageSpec(
                content=heading,
                embeds=tuple(embed for _, embed in batch),
                nonce=nonce_for(destination, *ids),
                paper_ids=ids,
            )
        )
    return specs
