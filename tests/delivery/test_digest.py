"""The digest builder: order, cap, overflow, explanations and mentions."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery.digest import Subscriber, build_digest
from bot.models import Paper
from bot.query import parse


def paper(pid: str, title: str, upvotes: int | None = None, day: int = 20) -> Paper:
    return Paper(
        id=pid,
        title=title,
        abstract=f"An abstract about {title.lower()}.",
        upvotes=upvotes,
        published=datetime(2026, 11, day, tzinfo=UTC),
        sources=frozenset({"hf"}),
    )


PAPERS = [
    paper("2611.00001", "Diffusion for robots", upvotes=5, day=21),
    paper("2611.00002", "Diffusion language models", upvotes=50, day=20),
    paper("2611.00003", "Language agents", upvotes=500, day=19),
    paper("2611.00004", "Diffusion language agents", upvotes=1, day=18),
    paper("2611.00005", "Unrelated optics", upvotes=999, day=22),
    paper("2611.00006", "Diffusion again", upvotes=5, day=22),
]

CHANNEL = Subscriber("channel", 1, None, "diffusion")
ALICE = Subscriber("personal", 2, 111, "language")
BOB = Subscriber("personal", 3, 222, "agents")


def matches_for(subscribers: list[tuple[Subscriber, str]]):
    found: dict[str, list] = {}
    for p in PAPERS:
        for sub, text in subscribers:
            m = parse(text).matches(p)
            if m is not None:
                found.setdefault(p.id, []).append((sub, m))
    return found


SUBS = [(CHANNEL, "diffusion"), (ALICE, "language"), (BOB, "agents")]


def test_order_more_subscriptions_then_upvotes_then_recency() -> None:
    digest = build_digest(PAPERS, matches_for(SUBS), cap=25)
    assert [e.paper.id for e in digest.entries] == [
        "2611.00004",  # three subscriptions
        "2611.00003",  # two, 500 upvotes
        "2611.00002",  # two, 50 upvotes
        "2611.00006",  # one, 5 upvotes, newer
        "2611.00001",  # one, 5 upvotes, older
    ]
    assert digest.overflow == 0 and digest.matched == 5


def test_mentions_only_personal_subscribers_whose_query_matched() -> None:
    digest = build_digest(PAPERS, matches_for(SUBS))
    by_id = {e.paper.id: e for e in digest.entries}
    assert by_id["2611.00004"].mention_user_ids == (111, 222)
    assert by_id["2611.00002"].mention_user_ids == (111,)
    assert by_id["2611.00001"].mention_user_ids == ()  # only the channel's subscription


def test_why_lists_each_matched_term_once() -> None:
    digest = build_digest(
        PAPERS, matches_for([*SUBS, (Subscriber("personal", 9, 333), "diffusion")])
    )
    entry = next(e for e in digest.entries if e.paper.id == "2611.00004")
    assert entry.why.count("diffusion") == 1
    assert "language" in entry.why and "agents" in entry.why
    assert entry.subscription_count == 4


def test_cap_and_overflow() -> None:
    digest = build_digest(PAPERS, matches_for(SUBS), cap=2)
    assert [e.paper.id for e in digest.entries] == ["2611.00004", "2611.00003"]
    assert digest.overflow == 3 and digest.matched == 5


def test_unmatched_papers_are_left_out_and_tldr_is_filled() -> None:
    digest = build_digest(PAPERS, matches_for(SUBS))
    assert "2611.00005" not in {e.paper.id for e in digest.entries}
    assert all(e.tldr for e in digest.entries)


def test_why_names_the_first_five_matching_queries_and_counts_the_rest() -> None:
    words = ["diffusion", "language", "agents", "models", "abstract", "about", "an", "lower"]
    subs = [(Subscriber("personal", n, 100 + n, word), word) for n, word in enumerate(words)]
    # a second member on the first query: one query, so it adds a mention but not a "+N"
    subs.append((Subscriber("personal", 99, 999, "diffusion"), "diffusion"))
    digest = build_digest(PAPERS, matches_for(subs))
    entry = next(e for e in digest.entries if e.paper.id == "2611.00004")
    # "models" and "lower" are not in this paper: six of the eight queries match it
    assert entry.why == (
        "diffusion (title, abstract), language (title, abstract), agents (title, abstract),"
        " abstract (abstract), about (abstract), +1 more"
    )
    assert entry.mention_user_ids == (100, 101, 102, 104, 105, 106, 999)
    assert entry.subscription_count == 7
