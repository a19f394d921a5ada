"""The digest builder: which of a channel's candidate papers go out, in what order, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Literal, NamedTuple

from bot.models import Paper
from bot.query import Match, MatchedTerm
from bot.summarize import tldr

DEFAULT_CAP = 25
# A paper's "Matched:" line names the terms of its first few matching queries (the channel's
# own subscriptions first, then members' oldest first) and counts the rest: a popular paper can
# match dozens, and a line listing all of them buried its summary (or overflowed the embed).
WHY_QUERIES = 5


class Subscriber(NamedTuple):
    """Who a subscription belongs to: the channel itself, or one member (who gets mentioned).

    A tuple of strings and ints: the garbage collector stops scanning it, and a shared match
    holds one per subscription (100,000 objects it would otherwise walk on every full pass).
    """

    kind: Literal["channel", "personal"]
    subscription_id: int
    user_id: int | None = None
    normal: str = ""


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One paper in a digest, with its summary and the reasons it was picked."""

    paper: Paper
    tldr: str
    why: str  # e.g. 'diffusion (title), "masked diffusion" (abstract), +3 more'
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


def explain(matches: Iterable[Match], more: int = 0) -> str:
    """Why a paper matched, each term once with the fields it was found in.

    E.g. `diffusion (title, abstract), "masked diffusion" (abstract)`, merged over every
    subscription that matched the paper; `more` matching queries left unexplained add `+N more`.
    """
    return describe_terms(chain.from_iterable(m.terms for m in matches), more)


def describe_terms(terms: Iterable[MatchedTerm], more: int = 0) -> str:
    """`explain` of the matches' terms in order (repeats are dropped)."""
    fields: dict[str, list[str]] = {}
    for term, field in dict.fromkeys(terms):  # each (term, field) once, deduped in C
        fields.setdefault(term, []).append(field)
    # a `like:` term is already a sentence: `similar to "LoRA: …" (0.41)`
    parts = [
        term if where == ["like"] else f"{term} ({', '.join(where)})"
        for term, where in fields.items()
    ]
    if more:
        parts.append(f"+{more} more")
    return ", ".join(parts)


class Reason(NamedTuple):
    """Why a shown paper is in a digest, and who it mentions for it."""

    why: str
    mention_user_ids: tuple[int, ...]  # ascending


def reason_of(hits: Sequence[tuple[Subscriber, Match]]) -> Reason:
    """The reason given by the subscriptions that matched a paper, each with why it matched:
    the terms of the first `WHY_QUERIES` matching queries, and everyone it mentions."""
    by_query: dict[object, Match] = {}  # the subscribers of one query share its match
    for sub, match in hits:
        by_query.setdefault(sub.normal or (sub.kind, sub.subscription_id), match)
    explained = list(by_query.values())[:WHY_QUERIES]
    return Reason(
        explain(explained, len(by_query) - len(explained)),
        tuple(sorted({s.user_id for s, _ in hits if s.kind == "personal" and s.user_id})),
    )


def _recency(paper: Paper) -> datetime:
    return paper.published or paper.first_seen or datetime.min.replace(tzinfo=UTC)


def _standing(paper: Paper) -> tuple[int, datetime]:
    """How papers matched by equally many subscriptions are ordered (descending), before id."""
    return paper.upvotes or 0, _recency(paper)


def tie_order(papers: Sequence[Paper]) -> list[int]:
    """Each paper's place in the order digests show papers of equal count: more upvotes first,
    then the more recent, then by id (the order `digest_of_counted` gives them)."""
    order = sorted(range(len(papers)), key=lambda i: papers[i].id)
    order.sort(key=lambda i: _standing(papers[i]), reverse=True)
    places = [0] * len(papers)
    for place, i in enumerate(order):
        places[i] = place
    return places


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
    return digest_of_counted(
        counted, lambda shown: [reason_of(matches[p.id]) for p in shown], cap=cap
    )


def digest_of_counted(
    counted: Sequence[tuple[Paper, int]],
    reasons_of: Callable[[Sequence[Paper]], Sequence[Reason]],
    *,
    cap: int = DEFAULT_CAP,
    total: int | None = None,
    summary: Callable[[Paper], str] = tldr,
) -> Digest:
    """`build_digest` for papers whose matching subscriptions are already counted: only the
    papers shown are asked why they matched (`reasons_of`, all at once, in the order given).
    `counted` may leave out papers that rank below the first `cap` if `total` says how many
    candidates there were in all. `summary` lets a caller planning many digests reuse summaries.
    """
    # Rank on what is cheap to know, then summarise and explain only the papers shown: a broad
    # subscription can match hundreds of papers of which the digest shows `cap`.
    ranked = sorted(counted, key=lambda r: r[0].id)
    ranked.sort(key=lambda r: (r[1], *_standing(r[0])), reverse=True)
    shown = ranked[:cap]
    entries = [
        DigestEntry(
            paper=paper,
            tldr=summary(paper),
            why=reason.why,
            subscription_count=count,
            mention_user_ids=reason.mention_user_ids,
        )
        for (paper, count), reason in zip(shown, reasons_of([p for p, _ in shown]), strict=True)
    ]
    total = len(ranked) if total is None else total
    return Digest(entries=tuple(entries), overflow=max(0, total - cap))
