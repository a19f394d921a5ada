"""arXiv listings: parse the RSS feed (rss.arxiv.org) into Papers, fetch the latest listing."""

from __future__ import annotations

import logging
import re

# The stdlib parser rather than defusedxml (not a dependency): the feed URL is configured by the
# operator and points at arXiv, a trusted host, and Python's bundled expat refuses the classic
# entity-expansion bombs anyway.
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot.arxiv_ids import normalise_id
from bot.models import Paper
from bot.sources.http import RetryingClient, SourceError
from bot.text import ABSTRACT_LIMIT, MAX_AUTHORS, NAME_LIMIT, TITLE_LIMIT, clean_text, truncate

log = logging.getLogger(__name__)

ARXIV_RSS_URL = "https://rss.arxiv.org/rss"
NEW_TYPES = frozenset({"new", "cross"})
REPLACEMENT_TYPES = frozenset({"replace", "replace-cross"})
MAX_CATEGORIES = 20

# "arXiv:2203.01250v3 Announce Type: replace-cross \nAbstract: We consider ..."
_PREFIX = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce\s+Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
# "A, B, and C" / "A and B": commas, an Oxford "and", or a lone " and ".
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


class _BadItem(ValueError):
    """One feed item cannot be turned into a Paper."""


def parse_rss(xml_text: str | bytes) -> list[tuple[Paper, str]]:
    """Each item of an arXiv RSS 2.0 feed as (paper, announce type); bad items are skipped."""
    try:
        root = ET.fromstring(xml_text)
    except (ET.ParseError, ValueError) as exc:
        raise SourceError("arXiv RSS", f"malformed XML ({exc})") from exc
    channel = root.find("channel")
    if _local(root.tag) != "rss" or channel is None:
        raise SourceError("arXiv RSS", f"not an RSS feed (root element <{_local(root.tag)}>)")
    items: list[tuple[Paper, str]] = []
    for index, item in enumerate(channel.iter("item")):
        try:
            items.append(_parse_item(item))
        except _BadItem as exc:
            log.warning("Skipping arXiv RSS item %d: %s", index, exc)
    return items


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_item(item: ET.Element) -> tuple[Paper, str]:
    # Match children by local name so a changed namespace URI doesn't blank every field.
    fields: dict[str, list[str]] = {}
    for child in item:
        fields.setdefault(_local(child.tag), []).append("".join(child.itertext()))

    def first(name: str) -> str:
        return fields.get(name, [""])[0].strip()

    description = first("description")
    prefix = _PREFIX.match(description)
    arxiv_id = None
    for candidate in (first("guid"), first("link"), prefix.group("id") if prefix else ""):
        arxiv_id = normalise_id(candidate) if candidate else None
        if arxiv_id:
            break
    if arxiv_id is None:
        raise _BadItem(f"no arXiv id (guid {first('guid')!r})")
    announce = (first("announce_type") or (prefix.group("type") if prefix else "")).lower()
    if not announce:
        raise _BadItem(f"{arxiv_id} has no announce type")
    title = clean_text(first("title"), TITLE_LIMIT)
    if not title:
        raise _BadItem(f"{arxiv_id} has no title")
    abstract = clean_text(description[prefix.end() :] if prefix else description, ABSTRACT_LIMIT)
    paper = Paper(
        id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=_authors(fields.get("creator", [])),
        categories=_categories(fields.get("category", [])),
        # pubDate is the announcement day. For new papers and cross-lists that is (within a day)
        # the first version's date; for replacements it is the revision's, so it is left unset.
        published=_pub_date(first("pubDate")) if announce in NEW_TYPES else None,
        sources=frozenset({"arxiv"}),
    )
    return paper, announce


def _authors(creators: Iterable[str]) -> tuple[str, ...]:
    names: list[str] = []
    for creator in creators:
        for name in _AUTHOR_SPLIT.split(clean_text(creator)):
            name = name.strip()
            if name:
                names.append(truncate(name, NAME_LIMIT))
            if len(names) == MAX_AUTHORS:
                return tuple(names)
    return tuple(names)


def _categories(values: Iterable[str]) -> tuple[str, ...]:
    found = (clean_text(c, NAME_LIMIT) for c in values)
    return tuple(dict.fromkeys(c for c in found if c))[:MAX_CATEGORIES]


def _pub_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def select_papers(
    items: Iterable[tuple[Paper, str]], include_replacements: bool = False
) -> list[Paper]:
    """Keep new submissions and cross-lists (and replacements if asked), one Paper per id."""
    wanted = NEW_TYPES | REPLACEMENT_TYPES if include_replacements else NEW_TYPES
    papers: dict[str, Paper] = {}
    for paper, announce in items:
        if announce not in wanted:
            continue
        # Cross-lists repeat across categories; merging keeps the union of their categories.
        seen = papers.get(paper.id)
        papers[paper.id] = seen.merged_with(paper) if seen else paper
    return list(papers.values())


class ArxivSource:
    """Today's arXiv announcements for some categories, from the RSS feed."""

    def __init__(
        self,
        client: RetryingClient,
        base_url: str = ARXIV_RSS_URL,
        categories: Sequence[str] = (),
        include_replacements: bool = False,
    ) -> None:
        self.client = client
        self._base = base_url.rstrip("/")
        self.categories = tuple(c.strip() for c in categories if c.strip())
        self.include_replacements = include_replacements

    @property
    def feed_url(self) -> str:
        """The one feed URL covering every category (arXiv joins them with `+`)."""
        return f"{self._base}/{'+'.join(self.categories)}"

    async def fetch_new(self) -> list[Paper]:
        """Papers announced in the latest listing for the categories, deduplicated on id."""
        if not self.categories:
            return []
        # One request for all categories: arXiv asks for few requests, and one feed also
        # collapses cross-lists that would otherwise come back once per category.
        body = await self.client.get_bytes(
            self.feed_url, accept="application/rss+xml, application/xml"
        )
        try:
            items = parse_rss(body)
        except SourceError as exc:
            raise SourceError(self.feed_url, exc.reason) from exc
        return select_papers(items, self.include_replacements)
