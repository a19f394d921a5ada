"""Plain data shared by every part of Paperboy: papers and subscriptions."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Literal, TypeVar

Source = Literal["hf", "arxiv"]
T = TypeVar("T")


def _known(first: T | None, second: T | None) -> T | None:
    """The first value that is actually known (not None or empty)."""
    return first if first not in (None, "") else second


@dataclass(frozen=True, slots=True)
class Paper:
    """One research paper, normalised from any source; `id` is the arXiv id without version."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published: datetime | None = None  # first version on arXiv (UTC)
    hf_date: date | None = None  # the day Hugging Face listed it in Daily Papers
    code_url: str | None = None
    project_url: str | None = None
    upvotes: int | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    thumbnail: str | None = None
    sources: frozenset[str] = field(default_factory=frozenset)
    first_seen: datetime | None = None  # set by the store on first insert (UTC)

    @property
    def abs_url(self) -> str:
        """The arXiv abstract page."""
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        """The arXiv PDF."""
        return f"https://arxiv.org/pdf/{self.id}"

    @property
    def hf_url(self) -> str:
        """The Hugging Face paper page (exists for every arXiv id)."""
        return f"https://huggingface.co/papers/{self.id}"

    def _holds(self, other: Paper) -> bool:
        """Whether merging `other` in would change nothing: every field equal (each merge rule
        below keeps a value merged with itself), categories without repeats, first_seen no
        earlier."""
        if other.first_seen is not None and (
            self.first_seen is None or other.first_seen < self.first_seen
        ):
            return False
        if not all(getattr(self, name) == getattr(other, name) for name in _MERGED_FIELDS):
            return False
        return len(set(self.categories)) == len(self.categories)

    def merged_with(self, other: Paper) -> Paper:
        """Combine two copies of one paper (e.g. from HF and arXiv), keeping every known field."""
        if other.id != self.id:
            raise ValueError(f"cannot merge {self.id} with {other.id}")

        if self._holds(other):
            return self  # the usual re-ingest: a copy with nothing new, merged without copying
        firsts = [d for d in (self.first_seen, other.first_seen) if d is not None]
        return replace(
            self,
            # the longer text is the more complete one (HF sometimes truncates, arXiv never)
            title=max(self.title, other.title, key=len),
            abstract=max(self.abstract, other.abstract, key=len),
            authors=self.authors or other.authors,
            categories=tuple(dict.fromkeys(self.categories + other.categories)),
            published=_known(self.published, other.published),
            hf_date=_known(self.hf_date, other.hf_date),
            code_url=_known(self.code_url, other.code_url),
            project_url=_known(self.project_url, other.project_url),
            upvotes=max((u for u in (self.upvotes, other.upvotes) if u is not None), default=None),
            ai_summary=_known(self.ai_summary, other.ai_summary),
            ai_keywords=self.ai_keywords or other.ai_keywords,
            thumbnail=_known(self.thumbnail, other.thumbnail),
            sources=self.sources | other.sources,
            first_seen=min(firsts) if firsts else None,
        )


# what `merged_with` combines (id must match; first_seen is the earliest, not a merge of values)
_MERGED_FIELDS = tuple(f.name for f in fields(Paper) if f.name not in ("id", "first_seen"))
