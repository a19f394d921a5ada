"""Matching a batch of new papers against every subscription without trying every pair.

Subscriptions are deduplicated by normal form and indexed by their *anchors* (terms at least one of
which any matching paper contains). For a batch we build an inverted index key -> bitset of papers
(a Python int, bit i = paper i), pick the queries whose anchors occur in the batch, and evaluate
each with bitset algebra (AND/OR/AND-NOT of the leaves' bitsets). Phrases are confirmed against
token positions only for papers that hold all their words. Cost grows with the terms that occur in
the batch and the candidate queries, not with subscriptions x papers.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Generic, TypeVar

from bot.models import Paper
from bot.query import Document, Match, MatchedTerm, Query, paper_document
from bot.query.evaluate import explain, match_document
from bot.query.nodes import And, Leaf, Node, Not, Or, leaves
from bot.query.text import FIELDS, TEXT_FIELDS

K = TypeVar("K")
Result = dict[str, list[tuple[K, Match]]]


def bit_indices(mask: int) -> list[int]:
    """Indices of the set bits of a non-negative int, ascending."""
    if mask.bit_count() <= 8:
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out
    digits = bin(mask)[:1:-1]  # least significant bit first
    out, i = [], digits.find("1")
    while i >= 0:
        out.append(i)
        i = digits.find("1", i + 1)
    return out


class BatchIndex:
    """An inverted index of one batch of papers: field -> key -> bitset of papers."""

    def __init__(self, docs: Sequence[Document]) -> None:
        self.docs = docs
        self.all = (1 << len(docs)) - 1
        postings: dict[str, dict[str, list[int]]] = {f: {} for f in FIELDS}
        for i, doc in enumerate(docs):
            for f, text in doc.fields.items():
                index = postings[f]
                for key in text.keys:
                    ids = index.get(key)
                    if ids is None:
                        index[key] = [i]
                    else:
                        ids.append(i)
        self.masks = {
            f: {k: _mask(ids) for k, ids in index.items()} for f, index in postings.items()
        }
        self._raw: dict[str, tuple[list[str], dict[str, int]]] = {}
        self._prefix: dict[tuple[str, str], int] = {}

    def has_key(self, field: str, key: str) -> bool:
        """Whether any paper has the key (a stemmed word or compound) in the field."""
        return key in self.masks[field]

    def prefix_mask(self, field: str, prefix: str) -> int:
        """Papers with a raw token starting with `prefix` in the field."""
        cached = self._prefix.get((field, prefix))
        if cached is not None:
            return cached
        if field not in self._raw:  # built only when some query has a prefix on this field
            raw: dict[str, list[int]] = {}
            for i, doc in enumerate(self.docs):
                for tok in doc.fields[field].raw:
                    raw.setdefault(tok, []).append(i)
            self._raw[field] = (sorted(raw), {t: _mask(ids) for t, ids in raw.items()})
        tokens, masks = self._raw[field]
        mask, at = 0, bisect_left(tokens, prefix)
        while at < len(tokens) and tokens[at].startswith(prefix):
            mask |= masks[tokens[at]]
            at += 1
        self._prefix[(field, prefix)] = mask
        return mask

    def leaf_mask(self, leaf: Leaf, field: str) -> int:
        """Papers containing the leaf in the field."""
        if leaf.prefix:
            return self.prefix_mask(field, leaf.keys[0])
        index = self.masks[field]
        if len(leaf.keys) == 1:
            return index.get(leaf.keys[0], 0)
        mask = self.all
        for key in leaf.keys:
            mask &= index.get(key, 0)
            if not mask:
                return 0
        for i in bit_indices(mask):  # hold every word: check they are adjacent
            if not self.docs[i].fields[field].has_phrase(leaf.keys, leaf.spans):
                mask ^= 1 << i
        return mask


def _mask(ids: list[int]) -> int:
    mask = 0
    for i in ids:
        mask |= 1 << i
    return mask


class SubscriptionMatcher(Generic[K]):
    """All subscriptions, indexed by anchor terms, ready to match batches of papers."""

    def __init__(self, subscriptions: Iterable[tuple[K, Query]]) -> None:
        self._queries: list[Query] = []
        self._keys: list[list[K]] = []
        by_normal: dict[str, int] = {}
        for key, query in subscriptions:
            qid = by_normal.setdefault(query.normal, len(self._queries))
            if qid == len(self._queries):
                self._queries.append(query)
                self._keys.append([])
            self._keys[qid].append(key)
        # identical leaves of different queries share one id, so one bitset per batch
        self._leaf_ids: dict[int, int] = {}
        interned: dict[Leaf, int] = {}
        self._words: dict[str | None, dict[str, list[int]]] = {}
        self._prefixes: dict[tuple[str | None, str], list[int]] = {}
        for qid, query in enumerate(self._queries):
            for leaf, _ in leaves(query.tree):
                self._leaf_ids[id(leaf)] = interned.setdefault(leaf, len(interned))
            for anchor in query.anchors:
                if anchor.prefix:
                    self._prefixes.setdefault((anchor.field, anchor.keys[0]), []).append(qid)
                else:
                    group = self._words.setdefault(anchor.field, {})
                    group.setdefault(anchor.keys[0], []).append(qid)

    @property
    def distinct_queries(self) -> int:
        """How many different normal forms are subscribed."""
        return len(self._queries)

    def match(self, papers: Sequence[Paper | Document]) -> Result[K]:
        """Paper id -> (subscription key, why) for every paper matching at least one subscription.

        Each paper's list is grouped by query (in order of first subscription) then key order.
        """
        docs = [p if isinstance(p, Document) else paper_document(p) for p in papers]
        batch = BatchIndex(docs)
        hits: list[list[tuple[K, Match]]] = [[] for _ in docs]
        leaf_cache: dict[int, tuple[int, ...]] = {}
        for qid in sorted(self._candidates(batch)):
            self._evaluate(qid, batch, leaf_cache, hits)
        return {doc.id: found for doc, found in zip(docs, hits, strict=True) if found}

    def _candidates(self, batch: BatchIndex) -> set[int]:
        found: set[int] = set()
        for group, anchors in self._words.items():
            fields = TEXT_FIELDS if group is None else (group,)
            present = [batch.masks[f] for f in fields]
            if len(anchors) <= sum(map(len, present)):
                for key, qids in anchors.items():
                    if any(key in p for p in present):
                        found.update(qids)
            else:  # fewer distinct terms in the batch than anchors: walk the batch instead
                for p in present:
                    for key in p:
                        hit = anchors.get(key)
                        if hit:
                            found.update(hit)
        for (group, prefix), qids in self._prefixes.items():
            fields = TEXT_FIELDS if group is None else (group,)
            if any(batch.prefix_mask(f, prefix) for f in fields):
                found.update(qids)
        return found

    def _evaluate(
        self,
        qid: int,
        batch: BatchIndex,
        leaf_cache: dict[int, tuple[int, ...]],
        hits: list[list[tuple[K, Match]]],
    ) -> None:
        tree = self._queries[qid].tree
        node_masks: dict[int, int] = {}
        splitters: list[int] = []  # bitsets that can change the explanation

        def field_masks(leaf: Leaf) -> tuple[int, ...]:
            lid = self._leaf_ids[id(leaf)]
            masks = leaf_cache.get(lid)
            if masks is None:
                masks = tuple(batch.leaf_mask(leaf, f) for f in leaf.fields)
                leaf_cache[lid] = masks
            return masks

        def ev(node: Node, positive: bool) -> int:
            if isinstance(node, Leaf):
                masks = field_masks(node)
                if positive:
                    splitters.extend(masks)
                mask = 0
                for m in masks:
                    mask |= m
            elif isinstance(node, Not):
                mask = batch.all & ~ev(node.child, not positive)
            elif isinstance(node, And):
                mask = batch.all
                for child in node.children:
                    mask &= ev(child, positive)
            else:
                assert isinstance(node, Or)
                mask = 0
                for child in node.children:
                    m = ev(child, positive)
                    splitters.append(m)
                    mask |= m
            node_masks[id(node)] = mask
            return mask

        if isinstance(tree, Leaf):  # the common case, without the generic walk
            masks = field_masks(tree)
            root = 0
            for m in masks:
                root |= m
            splitters.extend(masks)
        else:
            root = ev(tree, True)
        if not root:
            return
        keys = self._keys[qid]
        flat = _flat_leaves(tree)
        for group in _partition(root, splitters):
            bit = group & -group  # any paper of the group stands for all of it
            if flat is not None:  # leaves ANDed (NOTs add nothing): every present field counts
                why = Match(
                    tuple(
                        dict.fromkeys(
                            MatchedTerm(leaf.label, f)
                            for leaf in flat
                            for f, m in zip(leaf.fields, field_masks(leaf), strict=True)
                            if m & bit
                        )
                    )
                )
            else:

                def satisfied(n: Node, bit: int = bit) -> bool:
                    return bool(node_masks[id(n)] & bit)

                def fields_of(leaf: Leaf, bit: int = bit) -> tuple[str, ...]:
                    masks = field_masks(leaf)
                    return tuple(f for f, m in zip(leaf.fields, masks, strict=True) if m & bit)

                why = explain(tree, satisfied, fields_of)
            pairs = [(k, why) for k in keys]
            papers = bit_indices(group)
            # the fan-out is one list.extend per (query, paper): keep the loop in C
            deque(map(list.extend, map(hits.__getitem__, papers), repeat(pairs)), maxlen=0)


def _flat_leaves(tree: Node) -> list[Leaf] | None:
    """The positive leaves of a leaf or an AND of leaves and NOTs, else None (needs a walk)."""
    if isinstance(tree, Leaf):
        return [tree]
    if isinstance(tree, And) and all(isinstance(c, Leaf | Not) for c in tree.children):
        return [c for c in tree.children if isinstance(c, Leaf)]
    return None


def _partition(mask: int, splitters: list[int]) -> list[int]:
    """Split `mask` into groups of papers that agree on every splitter (in or out of it)."""
    groups = [mask]
    for s in dict.fromkeys(splitters):
        split: list[int] = []
        for g in groups:
            inside = g & s
            if inside and inside != g:
                split += (inside, g ^ inside)
            else:
                split.append(g)
        groups = split
    return groups


def reference_match(
    subscriptions: Iterable[tuple[K, Query]], papers: Sequence[Paper | Document]
) -> Result[K]:
    """Brute force: every query against every paper (same shape and order as the matcher)."""
    docs = [p if isinstance(p, Document) else paper_document(p) for p in papers]
    grouped: dict[str, tuple[Query, list[K]]] = {}
    for key, query in subscriptions:
        grouped.setdefault(query.normal, (query, []))[1].append(key)
    out: Result[K] = {}
    for query, keys in grouped.values():
        for doc in docs:
            why = match_document(query.tree, doc)
            if why is not None:
                out.setdefault(doc.id, []).extend((k, why) for k in keys)
    return out
