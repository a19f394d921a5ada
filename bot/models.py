"""Plain data shared by every part of Paperboy: papers and subscriptions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

Source = Literal["hf", "arxiv"]


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

    def merged_with(self, other: Paper) -> Paper:
        """Combine two copies of one paper (e.g. from HF and arXiv), keeping every known field."""
        if other.id != self.id:
            raise ValueError(f"cannot merge {self.id} with {other.id}")

        def pick(a: object, b: object) -> object:
            return a if a not in (None, (), "") else b

        firsts = [d for d in (self.first_seen, other.first_seen) if d is not None]
        return replace(
            self,
            # the longer text is the more complete one (HF sometimes truncates, arXiv never)
            title=max(self.title, other.title, key=len),
            abstract=max(self.abstract, other.abstract, key=len),
            authors=self.authors or other.authors,
            categories=tuple(dict.fromkeys(self.categories + other.categories)),
            published=pick(self.published, other.published),  # type: ignore[arg-type]
            hf_date=pick(self.hf_date, other.hf_date),  # type: ignore[arg-type]
            code_url=pick(self.code_url, other.code_url),  # type: ignore[arg-type]
            project_url=pick(self.project_url, other.project_url),  # type: ignore[arg-type]
            upvotes=max(
                (u for u in (self.upvotes, other.upvotes) if u is not None), default=None
            ),
            ai_summary=pick(self.ai_summary, other.ai_summary),  # type: ignore[arg-type]
            ai_keywords=self.ai_keywords or other.ai_keywords,
            thumbnail=pick(self.thumbnail, other.thumbnail),  # type: ignore[arg-type]
            sources=self.sources | other.sources,
            first_seen=min(firsts) if firsts else None,
        )
