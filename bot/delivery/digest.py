"""The digest builder: which of a channel's candidate papers go out, in what order, and why."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.models import Paper
from bot.query import Match
from bot.summarize import tldr

DEFAULT_CAP = 25


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Who a subscription belongs to: the channel itself, or one member (who gets mentioned)."""

    kind: Literal["channel", "personal"]
    subscription_id: int
    user_id: int | None = None
    normal: str = ""


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One paper in a digest, with its summary and the reasons it was picked."""

    paper: Paper
    tldr: str
    why: str  # e.g. 'diffusion (title), "masked diffusion" (abstract)'
    subscription_count: int
    mention_user_ids: tuple[int, ...]  # members whose personal subscriptions matched


@dataclass(frozen=True, slots=True)
class Digest:
    """A channel's digest for one run: the entries to post and how many more matched."""

    entries: tuple[DigestEntry, ...]
    overflow: int

    @property
    def matched(self) -> int:
        """How many papers matched in all (posted or not)."""
        return len(self.entries) + self.overflow


def explain(matches: Sequence[Match]) -> str:
    """Why a paper matched, each term once with the fields it was found in.

    E.g. `diffusion (title, abstract), "masked diffusion" (abstract)`, merged over every
    subscription that matched the paper.
    """
    fields: dict[str, list[str]] = {}
    for match in matches:
        for term in match.terms:
            seen = fields.setdefault(term.term, [])
            if term.field not in seen:
                seen.append(term.field)
    # a `like:` term is already a sentence: `similar to "LoRA: …" (0.41)`
    return ", ".join(
        term if where == ["like"] else f"{term} ({', '.join(where)})"
        for term, where in fields.items()
    )


def _recency(paper: Paper) -> datetime:
    return paper.published or paper.first_seen or datetime.min.replace(tzinfo=UTC)


def build_digest(
    candidates: Sequence[Paper],
    matches: Mapping[str, Sequence[tuple[Subscriber, Match]]],
    *,
    cap: int = DEFAULT_CAP,
) -> Digest:
    """Order the candidate papers that matched, cap them, and say why each was picked.

    Papers matching more subscriptions come first, then more Hugging Face upvotes, then the
    more recent; ties fall back to the id so the order is stable across runs.
    """
    counted = [
        (paper, len({(s.kind, s.subscription_id) for s, _ in hits}))
        for paper in candidates
        if (hits := matches.get(paper.id))
    ]
    return digest_of_counted(counted, lambda shown: [matches[p.id] for p in shown], cap=cap)


def digest_of_counted(
    counted: Sequence[tuple[Paper, int]],
    hits_of: Callable[[Sequence[Paper]], Sequence[Sequence[tuple[Subscriber, Match]]]],
    *,
    cap: int = DEFAULT_CAP,
    total: int | None = None,
    summary: Callable[[Paper], str] = tldr,
) -> Digest:
    """`build_digest` for papers whose matching subscriptions are already counted: only the
    papers shown are asked for their matches (`hits_of`, all at once, in the order given).
    `counted` may leave out papers that rank below the first `cap` if `total` says how many
    candidates there were in all. `summary` lets a caller planning many digests reuse summaries.
    """
    # Rank on what is cheap to know, then summarise and explain only the papers shown: a broad
    # subscription can match hundreds of papers of which the digest shows `cap`.
    ranked = sorted(counted, key=lambda r: r[0].id)
    ranked.sort(key=lambda r: (r[1], r[0].upvotes or 0, _recency(r[0])), reverse=True)
    shown = ranked[:cap]
    entries = []
    for (paper, count), hits in zip(shown, hits_of([p for p, _ in shown]), strict=True):
        entries.append(
            DigestEntry(
                paper=paper,
                tldr=summary(paper),
                why=explain([m for _, m in hits]),
                subscription_count=count,
                mention_user_ids=tuple(
                    sorted({s.user_id for s, _ in hits if s.kind == "personal" and s.user_id})
                ),
            )
        )
    total = len(ranked) if total is None else total
    return Digest(entries=tuple(entries), overflow=max(0, total - cap))
