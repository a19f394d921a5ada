"""How similar two papers are, for `like:<arXiv id>`: TF-IDF vectors of title, abstract and
Hugging Face keywords, compared by cosine, behind a small `Scorer` protocol.

The document frequencies come from Paperboy's own stored papers (the full-text index keeps them:
see `bot/store/similarity.py`), so no model and no network are needed. Another scorer (a local
embedding model, say) only has to implement `Scorer.similarities` and name its threshold.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Paper
from bot.query import Document, Match, MatchedTerm
from bot.query.text import PART_RE, FieldText, stem
from bot.text import fold, truncate

# Chosen on the held-apart pairs in tests/fixtures/similarity_pairs.json (README, "Reading list
# and similar papers"): the midpoint between the least similar related pair and the most similar
# unrelated one, rounded down.
TFIDF_THRESHOLD = 0.09
TITLE_WEIGHT = 2  # a title word counts as often as this: titles say what a paper is about
COMMON_FLOOR = 50  # below this many papers, no word counts as too common to narrow on
TOP_TERMS = 20  # the terms that stand for a paper when full-text search narrows candidates
LIKE_TITLE_LIMIT = 40  # `similar to "LoRA: Low-Rank Adaptation…"`

# Function words and the boilerplate of abstracts: they say nothing about a paper's topic, and
# dropping them keeps unrelated papers from looking alike through "we propose a novel method".
STOPWORDS = frozenset(
    """a about above across after again against all also although am among an and another any
    are as at be because been before being below between both but by can could did do does doing
    done down during each either et etc even ever every few for from further had has have having
    he her here hers him his how however i if in into is it its itself just many may me might
    more most much must my no nor not now of off often on once one only or other our ours out over
    own per rather same several she should since so some such than that the their theirs them
    then there these they this those through thus to too two under until up upon us very via was
    we were what when where whether which while who whom whose why will with within without would
    yet you your al approach approaches based demonstrate experiment experiments extensive
    furthermore method methods moreover new novel paper propose proposed proposes result results
    show shows significantly state study task tasks use used uses using work""".split()  # noqa: SIM905
)

# term -> how many stored papers contain it, and how many papers are stored
Frequencies = Callable[[Collection[str]], tuple[Mapping[str, int], int]]
Vector = dict[str, float]


def paper_terms(paper: Paper) -> Counter[str]:
    """The paper's topic words with their counts (title words count double)."""
    counts: Counter[str] = Counter()
    for text, weight in (
        (paper.title, TITLE_WEIGHT),
        (paper.abstract, 1),
        (" , ".join(paper.ai_keywords), 1),
    ):
        for part in PART_RE.findall(fold(text)):
            if len(part) > 1 and not part.isdigit() and part not in STOPWORDS:
                counts[part] += weight
    return counts


def tfidf_vector(counts: Mapping[str, int], df: Mapping[str, int], total: int) -> Vector:
    """Unit-length TF-IDF weights: (1 + ln tf) x (ln((N + 1) / (df + 1)) + 1)."""
    weights = {
        term: (1.0 + math.log(tf)) * (math.log((total + 1) / (df.get(term, 0) + 1)) + 1.0)
        for term, tf in counts.items()
    }
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The cosine of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


class Scorer(Protocol):
    """Scores papers against reference papers; only pairs at or above `threshold` are kept."""

    threshold: float

    def similarities(
        self, refs: Sequence[Paper], papers: Sequence[Paper]
    ) -> dict[str, dict[str, float]]:
        """Paper id -> reference id -> similarity in [0, 1], for pairs at or above threshold
        (a paper is always similar to itself, with 1.0)."""
        ...


class TfidfScorer:
    """Cosine similarity of TF-IDF vectors, with document frequencies from `frequencies`."""

    def __init__(self, frequencies: Frequencies, threshold: float = TFIDF_THRESHOLD) -> None:
        self.frequencies = frequencies
        self.threshold = threshold

    def vectors(self, papers: Sequence[Paper]) -> dict[str, Vector]:
        """Each paper's unit TF-IDF vector, by id (one frequency look-up for them all).

        Words are folded to their plural-insensitive stem (`policies`, `policy`); the index
        counts papers per written form, so a stem's frequency is its most frequent form's.
        """
        return self._vectors(papers)[0]

    def _vectors(self, papers: Sequence[Paper]) -> tuple[dict[str, Vector], dict[str, int]]:
        """The vectors, and each stem's document frequency across them (for a global order)."""
        counts = {p.id: paper_terms(p) for p in papers}
        raw_df, total = self.frequencies({t for c in counts.values() for t in c})
        out: dict[str, Vector] = {}
        every: dict[str, int] = {}
        for pid, raw in counts.items():
            stems: Counter[str] = Counter()
            df: dict[str, int] = {}
            for term, tf in raw.items():
                key = stem(term)
                stems[key] += tf
                df[key] = max(df.get(key, 0), raw_df.get(term, 0))
            out[pid] = tfidf_vector(stems, df, total)
            for key, n in df.items():
                every[key] = max(every.get(key, 0), n)
        return out, every

    def similarities(
        self, refs: Sequence[Paper], papers: Sequence[Paper]
    ) -> dict[str, dict[str, float]]:
        """Paper id -> reference id -> cosine, for pairs at or above the threshold.

        Exact, without trying every pair (prefix filtering, as in Bayardo et al.'s All-Pairs):
        with each vector's terms in one global order, rarest first, a vector's *prefix* is what
        remains after cutting the longest tail whose weights' norm stays below the threshold.
        Two unit vectors whose cosine reaches the threshold share a term in both prefixes (else
        every shared term lies in one tail, and the cosine is below that tail's norm), so
        references are indexed under their prefixes, papers look up only theirs (rare terms:
        short lists), and the pairs found are scored in full.
        """
        if not refs or not papers:
            return {}
        vectors, df = self._vectors([*refs, *papers])
        limit = self.threshold**2

        def prefix(vector: Vector) -> list[str]:
            ordered = sorted(vector, key=lambda t: (df.get(t, 0), t))
            tail, keep = 0.0, len(ordered)
            while keep and tail + vector[ordered[keep - 1]] ** 2 < limit:
                keep -= 1
                tail += vector[ordered[keep]] ** 2
            return ordered[:keep]

        postings: dict[str, list[int]] = {}
        ref_vectors = [vectors[ref.id] for ref in refs]
        for index, vector in enumerate(ref_vectors):
            for term in prefix(vector):
                postings.setdefault(term, []).append(index)
        ref_ids = {ref.id for ref in refs}
        out: dict[str, dict[str, float]] = {}
        for paper in papers:
            vector = vectors[paper.id]
            terms = vector.keys()
            found = set().union(*(postings[t] for t in prefix(vector) if t in postings))
            kept: dict[str, float] = {}
            for index in found:
                other = ref_vectors[index]
                score = sum([vector[t] * other[t] for t in terms & other.keys()])
                if score >= self.threshold:
                    kept[refs[index].id] = min(1.0, score)
            if paper.id in ref_ids:
                kept[paper.id] = 1.0
            if kept:
                out[paper.id] = kept
        return out

    def top_terms(self, paper: Paper, limit: int = TOP_TERMS) -> list[str]:
        """The written forms of the paper's heaviest terms that other stored papers also hold,
        heaviest first: what a similar paper most likely shares with it (a word only this
        paper uses weighs most and finds nothing)."""
        counts = paper_terms(paper)
        df, total = self.frequencies(set(counts))
        shared = {t: c for t, c in counts.items() if df.get(t, 0) > 1}
        # a word in more than 1% of the papers narrows little and costs full-text search a long
        # list to rank (at a million papers, seconds): narrow on the rarer ones when there are
        rare = {t: c for t, c in shared.items() if df[t] <= max(COMMON_FLOOR, total // 100)}
        vector = tfidf_vector(rare or shared, df, total)
        return sorted(vector, key=lambda t: (-vector[t], t))[:limit]


@dataclass(frozen=True, slots=True)
class Likes:
    """The `like:` papers of some queries and how similar each scored paper is to them."""

    refs: Mapping[str, Paper] = field(default_factory=dict)
    scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def document(self, doc: Document) -> Document:
        """The paper's document with its `like` field filled in."""
        similar = self.scores.get(doc.id)
        if not similar:
            return doc
        fields = {**doc.fields, "like": FieldText.of_keys(frozenset(similar))}
        return Document(doc.id, fields, similar)

    def explain(self, paper_id: str, match: Match) -> Match:
        """`match` with each `like:` term said in words: `similar to "LoRA: …" (0.41)`."""
        if not any(t.field == "like" for t in match.terms):
            return match
        return Match(tuple(self.explain_terms(paper_id, match.terms)))

    def explain_terms(self, paper_id: str, terms: Iterable[MatchedTerm]) -> list[MatchedTerm]:
        """`explain` of a list of terms."""
        similar = self.scores.get(paper_id, {})
        return [
            MatchedTerm(self.describe(t.term, similar.get(t.term, 0.0)), "like")
            if t.field == "like"
            else t
            for t in terms
        ]

    def describe(self, ref_id: str, score: float) -> str:
        """`similar to "<title, cut>" (0.41)`."""
        ref = self.refs.get(ref_id)
        title = truncate(ref.title, LIKE_TITLE_LIMIT) if ref else f"arXiv:{ref_id}"
        return f'similar to "{title}" ({score:.2f})'

    def is_similar(self, paper_id: str, ref_ids: Collection[str]) -> bool:
        """Whether the paper is (one of, or) similar to any of `ref_ids`."""
        similar = self.scores.get(paper_id, {})
        return paper_id in ref_ids or any(r in similar for r in ref_ids)


def score_likes(scorer: Scorer, refs: Sequence[Paper], papers: Sequence[Paper]) -> Likes:
    """Score `papers` against the reference papers."""
    return Likes({r.id: r for r in refs}, scorer.similarities(refs, papers))
