"""A feed's source list (`hf`, `arxiv:cs.CL`, `hf, arxiv:cs.LG+cs.CV`): parsing and filtering."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import Paper

# arXiv categories look like cs.CL, math.AP, stat.ML, q-bio.NC, hep-th, astro-ph.GA
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[a-z-]+)?$", re.IGNORECASE)
DEFAULT_SOURCES = "hf, arxiv"


class SourcesError(ValueError):
    """A source list that can't be used; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class FeedSources:
    """Which papers a feed takes: Hugging Face's list, and/or arXiv (all or some categories)."""

    hf: bool
    arxiv: bool
    arxiv_categories: frozenset[str]  # empty = every ingested category

    def accepts(self, paper: Paper) -> bool:
        """Whether a paper came from one of these sources."""
        if self.hf and "hf" in paper.sources:
            return True
        if self.arxiv and "arxiv" in paper.sources:
            if not self.arxiv_categories:
                return True
            return any(canonical_category(c) in self.arxiv_categories for c in paper.categories)
        return False

    @property
    def normal(self) -> str:
        """The canonical spelling, as stored and shown."""
        parts = ["hf"] if self.hf else []
        if self.arxiv:
            cats = "+".join(sorted(self.arxiv_categories, key=str.lower))
            parts.append(f"arxiv:{cats}" if cats else "arxiv")
        return ", ".join(parts)

    def describe(self) -> str:
        """A human-readable summary for status messages."""
        parts = ["Hugging Face Daily Papers"] if self.hf else []
        if self.arxiv:
            cats = ", ".join(sorted(self.arxiv_categories)) if self.arxiv_categories else "all"
            parts.append(f"arXiv ({cats})")
        return " + ".join(parts)


def canonical_category(cat: str) -> str:
    """arXiv's spelling of a category: `CS.cl` -> `cs.CL`, `physics.optics` stays."""
    group, _, sub = cat.partition(".")
    if not sub:
        return group.lower()
    return f"{group.lower()}.{sub.upper() if len(sub) == 2 else sub.lower()}"


def parse_sources(text: str) -> FeedSources:
    """Parse a source list such as `hf, arxiv:cs.LG+cs.CV`; SourcesError says what is wrong."""
    hf = arxiv = False
    categories: set[str] = set()
    text = re.sub(r"\s*([+:])\s*", r"\1", text.strip())  # "arxiv: cs.CL + cs.LG" is fine too
    items = [i for i in re.split(r"[,\s]+", text) if i]
    if not items:
        raise SourcesError("Give at least one source: `hf`, `arxiv` or `arxiv:cs.CL+cs.LG`.")
    for item in items:
        name, _, cats = item.partition(":")
        name = name.lower()
        if name in ("hf", "huggingface"):
            if cats:
                raise SourcesError("`hf` takes no categories; use e.g. `hf, arxiv:cs.CL`.")
            hf = True
        elif name == "arxiv":
            arxiv = True
            for cat in filter(None, (c.strip() for c in cats.split("+"))):
                if not _CATEGORY.match(cat):
                    raise SourcesError(
                        f"`{cat}` is not an arXiv category (they look like cs.CL or stat.ML)."
                    )
                categories.add(canonical_category(cat))
            if item.endswith(":") or (cats and not categories):
                raise SourcesError("`arxiv:` needs categories after it, e.g. `arxiv:cs.CL+cs.LG`.")
        else:
            raise SourcesError(
                f"Unknown source `{item}`: use `hf`, `arxiv` or `arxiv:<categories>` "
                "(e.g. `hf, arxiv:cs.LG+cs.CV`)."
            )
    return FeedSources(hf=hf, arxiv=arxiv, arxiv_categories=frozenset(categories))
