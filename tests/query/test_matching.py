"""The indexed matcher returns exactly what brute force returns, with the same explanations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bitsets import BitCounter, bit_indices
from bot.matching import (
    GroupedResult,
    MatchGroup,
    Result,
    SubscriptionMatcher,
    reference_match,
)
from bot.models import Paper
from bot.query import MatchedTerm, Query, QueryError, parse
from tests.query.support import PAPERS, papers, query_texts


def _queries(texts: list[str]) -> list[Query]:
    out = []
    for t in texts:
        try:
            out.append(parse(t))
        except QueryError:
            continue
    return out


def _expanded(grouped: GroupedResult[int]) -> Result[int]:
    """The per-subscriber form, written out here rather than with the matcher's own expand()."""
    return {pid: [(k, g.match) for g in groups for k in g.keys] for pid, groups in grouped.items()}


@st.composite
def batches(draw: st.DrawFn) -> list[Paper]:
    n = draw(st.integers(1, 15))
    return [draw(papers(pid=f"p{i}")) for i in range(n)]


@given(st.lists(query_texts(), min_size=1, max_size=25), batches())
@settings(max_examples=300, deadline=None)
def test_matcher_equals_brute_force(texts: list[str], batch: list[Paper]) -> None:
    queries = _queries(texts)
    subs = [(i, q) for i, q in enumerate(queries + queries[:3])]  # some duplicates
    expected = reference_match(subs, batch)
    matcher = SubscriptionMatcher(subs)
    assert _expanded(matcher.match_grouped(batch)) == expected
    assert matcher.match(batch) == expected


@given(st.lists(query_texts(), min_size=1, max_size=25), batches())
@settings(max_examples=300, deadline=None)
def test_bitsets_and_their_terms_equal_brute_force(texts: list[str], batch: list[Paper]) -> None:
    """What shared planning reads: each query's papers as a bitset, and why each matched as
    the terms whose bitsets hold it (each term once, in the brute force's order)."""
    subs = list(enumerate(_queries(texts)))
    expected = reference_match(subs, batch)
    found: dict[str, list[tuple[int, tuple[MatchedTerm, ...]]]] = {}
    for bits in SubscriptionMatcher(subs).match_bitsets(batch):
        for i in bit_indices(bits.mask):
            terms = [term for term, where in bits.terms() if where >> i & 1]
            found.setdefault(batch[i].id, []).extend(
                (key, tuple(dict.fromkeys(terms))) for key in bits.keys
            )
    assert {pid: sorted(hits) for pid, hits in found.items()} == {
        pid: sorted((key, m.terms) for key, m in hits) for pid, hits in expected.items()
    }


@given(st.lists(query_texts(), min_size=1, max_size=25))
@settings(max_examples=100, deadline=None)
def test_matcher_equals_brute_force_on_hand_written_papers(texts: list[str]) -> None:
    subs = list(enumerate(_queries(texts)))
    matcher = SubscriptionMatcher(subs)
    assert _expanded(matcher.match_grouped(PAPERS)) == reference_match(subs, PAPERS)


def test_match_reports_subscribers_and_reasons() -> None:
    subs = [
        ("alice", parse("diffusion -survey")),
        ("bob", parse("LLM quantization, cat:cs.CL")),
        ("carol", parse("diffusion  NOT survey")),  # same normal form as alice's
        ("dave", parse("nothing-matches-this")),
    ]
    result = SubscriptionMatcher(subs).match(PAPERS)
    assert set(result) == {"mdlm", "int4", "moe"}
    assert [k for k, _ in result["mdlm"]] == ["alice", "carol", "bob"]
    assert result["int4"][0][1].terms == (
        MatchedTerm("llm", "title"),
        MatchedTerm("quantization", "title"),
        MatchedTerm("quantization", "abstract"),
        MatchedTerm("quantization", "keywords"),
    )
    assert result["moe"][0][1].describe() == "cs.cl (categories)"


def test_identical_queries_are_indexed_once() -> None:
    matcher = SubscriptionMatcher([(i, parse("LLM" if i % 2 else "llm")) for i in range(1000)])
    assert matcher.distinct_queries == 1
    assert len(matcher.match(PAPERS)["int4"]) == 1000


def test_grouped_result_holds_one_group_per_distinct_query() -> None:
    subs = [("alice", parse("diffusion")), ("bob", parse("llm")), ("carol", parse("Diffusion"))]
    grouped = SubscriptionMatcher(subs).match_grouped(PAPERS)
    (group,) = grouped["mdlm"]
    assert group == MatchGroup(("alice", "carol"), group.match)
    assert group.match.describe().startswith("diffusion (title")
    # every paper matched by the query shares its subscribers' tuple rather than a copy
    diffusion_groups = [g for found in grouped.values() for g in found if "alice" in g.keys]
    assert len(diffusion_groups) >= 2
    assert all(g.keys is diffusion_groups[0].keys for g in diffusion_groups)


def test_empty_inputs() -> None:
    assert SubscriptionMatcher([]).match(PAPERS) == {}
    assert SubscriptionMatcher([]).match_grouped(PAPERS) == {}
    assert SubscriptionMatcher([(1, parse("llm"))]).match([]) == {}


@given(st.sets(st.integers(0, 3000)))
def test_bit_indices(indices: set[int]) -> None:
    assert bit_indices(sum(1 << i for i in indices)) == sorted(indices)


@given(st.lists(st.tuples(st.sets(st.integers(0, 300)), st.integers(1, 40)), max_size=30))
def test_bit_counter_counts_each_paper_like_a_loop(adds: list[tuple[set[int], int]]) -> None:
    counter = BitCounter()
    expected: dict[int, int] = {}
    for members, weight in adds:
        counter.add(sum(1 << i for i in members), weight)
        for i in members:
            expected[i] = expected.get(i, 0) + weight
    assert all(counter.count(i) == expected.get(i, 0) for i in range(301))


@given(
    st.lists(st.tuples(st.sets(st.integers(0, 60)), st.integers(1, 9)), max_size=12),
    st.sets(st.integers(0, 60)),
    st.integers(1, 70),
)
def test_bit_counter_top_holds_exactly_the_papers_ranked_in_the_first_k(
    adds: list[tuple[set[int], int]], wanted: set[int], k: int
) -> None:
    counter = BitCounter()
    for members, weight in adds:
        counter.add(sum(1 << i for i in members), weight)
    above, tied, threshold = counter.top(sum(1 << i for i in wanted), k)
    counts = sorted((counter.count(i) for i in wanted), reverse=True)
    kth = counts[min(k, len(counts)) - 1] if counts else 0
    assert threshold == kth
    assert set(bit_indices(above)) == {i for i in wanted if counter.count(i) > kth}
    assert set(bit_indices(tied)) == {i for i in wanted if counter.count(i) == kth}
