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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from itertools import compress, repeat
from typing import Generic, NamedTuple, TypeVar

from bot.bitsets import bit_indices, partition
from bot.models import Paper
from bot.query import Document, Match, MatchedTerm, Query, paper_document
from bot.query.evaluate import match_document
from bot.query.nodes import And, Leaf, Node, Not, Or, leaves
from bot.query.text import FIELDS, TEXT_FIELDS, FieldText

K = TypeVar("K")
# An explanation term of a query is a code, leaf id * len(FIELDS) + index in leaf.fields: it
# names one (leaf, field) across all queries. Its guards (the ids of the OR branches it needs)
# are kept only for queries that have any: a tuple per term cost 20 MB at 100k subscriptions.
_NO_GUARDS: tuple[int, ...] = ()


class MatchGroup(NamedTuple, Generic[K]):
    """Every subscriber of one distinct query, and why the query matched a paper.

    `keys` is built once per distinct query when the matcher is built and shared by all its groups;
    one group is shared by every paper of the batch that the query matches for the same reason.
    """

    keys: tuple[K, ...]
    match: Match


Result = dict[str, list[tuple[K, Match]]]
GroupedResult = dict[str, list[MatchGroup[K]]]


class QueryBits(Generic[K]):
    """One query's matches in a batch: its keys, every paper it matched (bit i = paper i), and
    the papers each of its terms explains, so a digest can say why it shows a paper.

    A batch holds tens of thousands: no per-instance closures or lists, so a new batch adds
    little for the garbage collector to walk.
    """

    __slots__ = ("_matcher", "_qid", "_term_masks", "_terms", "keys", "mask")

    def __init__(
        self,
        keys: tuple[K, ...],
        mask: int,
        matcher: SubscriptionMatcher[K],
        qid: int,
        term_masks: tuple[int, ...],
    ) -> None:
        self.keys = keys
        self.mask = mask
        self._matcher = matcher
        self._qid = qid
        self._term_masks = term_masks
        self._terms: tuple[tuple[MatchedTerm, int], ...] | None = None

    def terms(self) -> tuple[tuple[MatchedTerm, int], ...]:
        """The query's explanation terms, each with the papers it explains: the match of paper
        i is the terms whose papers hold bit i (what `match()` would say for it)."""
        if self._terms is None:  # tuples of strings and ints: the collector won't walk them
            terms = self._matcher.terms_of(self._qid)
            self._terms = tuple(zip(terms, self._term_masks, strict=True))
        return self._terms


def explained_groups(
    papers: int, term_masks: Sequence[int], explain: Callable[[Sequence[int], int], Match]
) -> list[tuple[int, Match]]:
    """`papers` in groups that hold the same terms, each with the explanation (`explain` of the
    term masks and any one paper's bit) it shares; none for no papers."""
    if not papers:
        return []
    return [(group, explain(term_masks, group & -group)) for group in partition(papers, term_masks)]


class BatchIndex:
    """An inverted index of one batch of papers: field -> key -> bitset of papers.

    Documents are read once, as they come, and not kept: only what phrase checks read (each
    field's stems) stays, and raw tokens only for the fields some query has a prefix on. A
    whole document is ~25 KB; a shared batch holds a week of papers.
    """

    def __init__(
        self,
        docs: Iterable[Document],
        prefix_fields: Collection[str] = FIELDS,
        wanted: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        """Index `docs`: every key, or only the keys `wanted` (field -> keys some query looks
        for: a week of papers holds ~60,000 distinct words, most of which nobody asks for)."""
        # straight into bitsets: no per-key lists to allocate (and for the collector to track)
        self.masks: dict[str, dict[str, int]] = {f: {} for f in FIELDS}
        self._raw_masks: dict[str, dict[str, int]] = {f: {} for f in prefix_fields}
        self.phrases: list[dict[str, FieldText]] = []  # per paper: its fields, positions only
        for i, doc in enumerate(docs):
            bit = 1 << i
            for f, text in doc.fields.items():
                index = self.masks[f]
                get = index.get
                for key in text.keys if wanted is None else text.keys & wanted[f]:
                    index[key] = get(key, 0) | bit
                raw = self._raw_masks.get(f)
                if raw is not None:
                    get = raw.get
                    for tok in text.raw:
                        raw[tok] = get(tok, 0) | bit
            self.phrases.append({f: text.for_phrases() for f, text in doc.fields.items()})
        self.size = len(self.phrases)
        self.all = (1 << self.size) - 1
        self._sorted_raw: dict[str, list[str]] = {}
        self._prefix: dict[tuple[str, str], int] = {}

    def prefix_mask(self, field: str, prefix: str) -> int:
        """Papers with a raw token starting with `prefix` in the field."""
        cached = self._prefix.get((field, prefix))
        if cached is not None:
            return cached
        masks = self._raw_masks[field]  # KeyError: the field was not indexed for prefixes
        tokens = self._sorted_raw.get(field)
        if tokens is None:
            tokens = self._sorted_raw[field] = sorted(masks)
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
            if not self.phrases[i][field].phrase_at(leaf.keys, leaf.spans):
                mask ^= 1 << i
        return mask


class SubscriptionMatcher(Generic[K]):
    """All subscriptions, indexed by anchor terms, ready to match batches of papers."""

    def __init__(self, subscriptions: Iterable[tuple[K, Query]]) -> None:
        self._queries: list[Query] = []
        keys: list[list[K]] = []
        by_normal: dict[str, int] = {}
        for key, query in subscriptions:
            qid = by_normal.setdefault(query.normal, len(self._queries))
            if qid == len(self._queries):
                self._queries.append(query)
                keys.append([])
            keys[qid].append(key)
        # one tuple per distinct query, shared by every MatchGroup it yields in every batch
        self._keys: list[tuple[K, ...]] = [tuple(k) for k in keys]
        # identical leaves of different queries share one id, so one bitset per batch
        self._leaf_ids: dict[int, int] = {}
        interned: dict[Leaf, int] = {}
        self._words: dict[str | None, dict[str, list[int]]] = {}
        self._prefixes: dict[tuple[str | None, str], list[int]] = {}
        # each query's explanation terms (see _NO_GUARDS), in explain() order, and their guards
        self._codes: list[tuple[int, ...]] = []
        self._guards: dict[int, tuple[tuple[int, ...], ...]] = {}  # qid -> guards per term
        self._matched_terms: dict[int, MatchedTerm] = {}
        self._terms: dict[int, tuple[MatchedTerm, ...]] = {}  # qid -> its terms, see terms_of
        # per query: _FLAT_AND / _FLAT_OR for an AND of words (some negated) or an OR of words
        # (63 % of the benchmark's distinct queries), matched without the generic tree walk;
        # _NESTED otherwise
        self._shapes = bytes(_shape(query.tree) for query in self._queries)
        for qid, query in enumerate(self._queries):
            for leaf, _ in leaves(query.tree):
                self._leaf_ids[id(leaf)] = interned.setdefault(leaf, len(interned))
            codes: list[int] = []
            guards: list[tuple[int, ...]] = []
            for leaf, leaf_guards in _explaining_leaves(query.tree, ()):
                lid = self._leaf_ids[id(leaf)]
                for i in range(len(leaf.fields)):
                    codes.append(lid * len(FIELDS) + i)
                    guards.append(leaf_guards)
            self._codes.append(tuple(codes))
            if any(guards):
                self._guards[qid] = tuple(guards)
            for anchor in query.anchors:
                if anchor.prefix:
                    self._prefixes.setdefault((anchor.field, anchor.keys[0]), []).append(qid)
                else:
                    group = self._words.setdefault(anchor.field, {})
                    group.setdefault(anchor.keys[0], []).append(qid)
        self._leaves = list(interned)  # by leaf id
        # the fields a batch must keep raw tokens of: those some prefix leaf looks in
        self._prefix_fields = {f for leaf in interned if leaf.prefix for f in leaf.fields}
        # the keys a batch must index, by field: those some leaf (not a prefix) looks for
        wanted: dict[str, set[str]] = {f: set() for f in FIELDS}
        for leaf in interned:
            if not leaf.prefix:
                for f in leaf.fields:
                    wanted[f].update(leaf.keys)
        self._wanted = {f: frozenset(keys) for f, keys in wanted.items()}

    def document(self, paper: Paper) -> Document:
        """The paper tokenised for this matcher (raw tokens only where a prefix looks)."""
        return paper_document(paper, raw_fields=self._prefix_fields)

    @property
    def distinct_queries(self) -> int:
        """How many different normal forms are subscribed."""
        return len(self._queries)

    def match_grouped(self, papers: Sequence[Paper | Document]) -> GroupedResult[K]:
        """Paper id -> the matching queries' subscriber groups, for papers matching any query.

        Each paper's list is in order of the queries' first subscription. Subscribers are not
        expanded: a query's group appears once per paper whatever its number of subscribers.
        """
        docs = [p if isinstance(p, Document) else self.document(p) for p in papers]
        run: _Run[K] = _Run(BatchIndex(docs, self._prefix_fields, self._wanted), self._leaf_ids)
        for qid in sorted(self._candidates(run.batch)):
            self._evaluate(qid, run)
        return {doc.id: found for doc, found in zip(docs, run.hits, strict=True) if found}

    def match_bitsets(self, papers: Iterable[Paper | Document]) -> list[QueryBits[K]]:
        """For each query that matched any of the papers: its subscribers, the papers it matched
        as a bitset (bit i = paper i) and why, worked out when asked.

        No per-paper fan-out, and the papers are tokenised one at a time as the index reads
        them: for callers that count and rank with bitset algebra and explain only the papers
        they show (`bot/delivery/shared_match.py`).
        """
        docs = (p if isinstance(p, Document) else self.document(p) for p in papers)
        run: _Run[K] = _Run(BatchIndex(docs, self._prefix_fields, self._wanted), self._leaf_ids)
        found: list[QueryBits[K]] = []
        for qid in sorted(self._candidates(run.batch)):
            root, masks = self._term_masks(qid, run)
            if root:
                found.append(QueryBits(self._keys[qid], root, self, qid, masks))
        return found

    def match(self, papers: Sequence[Paper | Document]) -> Result[K]:
        """Paper id -> (subscription key, why) for every paper matching at least one subscription.

        Each paper's list is grouped by query (in order of first subscription) then key order.
        """
        return expand(self.match_grouped(papers))

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

    def _evaluate(self, qid: int, run: _Run[K]) -> None:
        keys, hits, indices = self._keys[qid], run.hits.__getitem__, run.indices
        for group, why in self._explained_groups(qid, run):
            # the fan-out is one list.append per (distinct query, paper): keep the loop in C
            entry = MatchGroup(keys, why)
            deque(map(list.append, map(hits, indices(group)), repeat(entry)), maxlen=0)

    def _term_masks(self, qid: int, run: _Run[K]) -> tuple[int, tuple[int, ...]]:
        """The papers the query matches, and for each explanation term the papers it explains."""
        tree = self._queries[qid].tree
        if isinstance(tree, Leaf):  # the common case, without the generic walk
            masks = run.field_masks(tree)
            root = 0
            for m in masks:
                root |= m
            return root, masks
        shape = self._shapes[qid]
        if shape:  # no OR branch to guard: each term's papers are its leaf's, field by field
            assert isinstance(tree, And | Or)
            union, children = run.union_mask, tree.children
            if shape == _FLAT_OR:
                root = 0
                for child in children:
                    root |= union(child)  # type: ignore[arg-type]  # a Leaf: see _shape
            else:
                root = run.batch.all
                for child in children:
                    if type(child) is Leaf:
                        root &= union(child)
                    else:
                        root &= ~union(child.child)  # type: ignore[union-attr, arg-type]
                    if not root:
                        break
            if not root:
                return 0, ()
            field_masks = run.field_masks
            return root, tuple(
                m for child in children if type(child) is Leaf for m in field_masks(child)
            )
        node_masks: dict[int, int] = {}
        root = run.tree_mask(tree, node_masks)
        if not root:
            return 0, ()
        # tree_mask() filled these for every leaf it reached; one it skipped (after an empty
        # AND child) explains nothing: that AND, or one above it, is 0 on its guard path
        leaf_masks = run.leaf_masks
        term_masks = []
        codes = self._codes[qid]
        guards = self._guards.get(qid) or (_NO_GUARDS,) * len(codes)
        for code, term_guards in zip(codes, guards, strict=True):
            lid, i = divmod(code, len(FIELDS))
            fields = leaf_masks.get(lid)
            m = fields[i] if fields is not None else 0
            for g in term_guards:
                m &= node_masks.get(g, 0)
            term_masks.append(m)
        return root, tuple(term_masks)  # a tuple of ints: the collector soon stops tracking it

    def _explained_groups(self, qid: int, run: _Run[K]) -> list[tuple[int, Match]]:
        """The query's matching papers as bitsets, each group sharing one explanation."""
        root, masks = self._term_masks(qid, run)
        return explained_groups(
            root, masks, lambda masks, bit: self.explanation(qid, masks, bit, run.explained)
        )

    def explanation(
        self, qid: int, masks: Sequence[int], bit: int, explained: dict[tuple[int, ...], Match]
    ) -> Match:
        """Why the paper at `bit` matched the query, from the query's term masks."""
        present = tuple(compress(self._codes[qid], [m & bit for m in masks]))
        # the same terms explain the same way in every query: build each Match once per run
        why = explained.get(present)
        if why is None:
            codes = self._codes[qid]
            found = [self._matched_term(c) for c, m in zip(codes, masks, strict=True) if m & bit]
            why = explained[present] = Match(tuple(dict.fromkeys(found)))
        return why

    def terms_of(self, qid: int) -> tuple[MatchedTerm, ...]:
        """The query's explanation terms, parallel to its term masks (made once)."""
        found = self._terms.get(qid)
        if found is None:
            found = self._terms[qid] = tuple(map(self._matched_term, self._codes[qid]))
        return found

    def _matched_term(self, code: int) -> MatchedTerm:
        # one object per (leaf, field) for the matcher's lifetime, made on first use (making them
        # all up front doubled the build); fewer objects outliving a batch means no full GC pass
        found = self._matched_terms.get(code)
        if found is None:
            lid, i = divmod(code, len(FIELDS))
            leaf = self._leaves[lid]
            found = self._matched_terms[code] = MatchedTerm(leaf.label, leaf.fields[i])
        return found


class _Run(Generic[K]):
    """The state of one match() call: the batch, per-leaf bitsets and the growing result."""

    def __init__(self, batch: BatchIndex, leaf_ids: dict[int, int]) -> None:
        self.batch = batch
        self.leaf_ids = leaf_ids
        self.hits: list[list[MatchGroup[K]]] = [[] for _ in range(batch.size)]
        self.leaf_masks: dict[int, tuple[int, ...]] = {}
        self.explained: dict[tuple[int, ...], Match] = {}
        self._indices: dict[int, tuple[int, ...]] = {}
        self._unions: dict[int, int] = {}  # id(leaf) -> union_mask()

    def field_masks(self, leaf: Leaf) -> tuple[int, ...]:
        """The leaf's bitset in each of its fields (computed once per distinct leaf)."""
        lid = self.leaf_ids[id(leaf)]
        masks = self.leaf_masks.get(lid)
        if masks is None:
            masks = tuple(self.batch.leaf_mask(leaf, f) for f in leaf.fields)
            self.leaf_masks[lid] = masks
        return masks

    def indices(self, group: int) -> tuple[int, ...]:
        """The papers of a bitset; queries on the same terms often yield the same groups."""
        found = self._indices.get(group)
        if found is None:
            # a tuple of ints: the collector stops tracking it, so it doesn't add to GC passes
            found = self._indices[group] = tuple(bit_indices(group))
        return found

    def union_mask(self, leaf: Leaf) -> int:
        """Papers containing the leaf in any of its fields."""
        key = id(leaf)  # the matcher's queries hold their leaves: ids are stable for the run
        mask = self._unions.get(key)
        if mask is None:
            mask = 0
            for m in self.field_masks(leaf):
                mask |= m
            self._unions[key] = mask
        return mask

    def tree_mask(self, node: Node, node_masks: dict[int, int]) -> int:
        """Papers satisfying `node`; records the bitset of each node that isn't a leaf in
        `node_masks` (by id: explanation guards read them). An AND stops at its first empty
        child, leaving the rest unrecorded: every guard below it then has it as a guard too,
        or the query matched nothing there."""
        # exact types, not isinstance(): this runs ~100,000 times a batch
        if type(node) is Leaf:
            return self.union_mask(node)
        if type(node) is Not:
            mask = self.batch.all & ~self.tree_mask(node.child, node_masks)
        elif type(node) is And:
            mask = self.batch.all
            for child in node.children:
                mask &= (
                    self.union_mask(child)
                    if type(child) is Leaf
                    else self.tree_mask(child, node_masks)
                )
                if not mask:
                    break
        else:
            assert type(node) is Or
            mask = 0
            for child in node.children:
                mask |= (
                    self.union_mask(child)
                    if type(child) is Leaf
                    else self.tree_mask(child, node_masks)
                )
        node_masks[id(node)] = mask
        return mask


_NESTED, _FLAT_AND, _FLAT_OR = 0, 1, 2


def _shape(tree: Node) -> int:
    """How `_term_masks` evaluates the query (see SubscriptionMatcher._shapes)."""
    if type(tree) is Or and all(type(c) is Leaf for c in tree.children):
        return _FLAT_OR
    if type(tree) is And and all(
        type(c) is Leaf or (type(c) is Not and type(c.child) is Leaf) for c in tree.children
    ):
        return _FLAT_AND
    return _NESTED


def _explaining_leaves(node: Node, guards: tuple[int, ...]) -> list[tuple[Leaf, tuple[int, ...]]]:
    """The leaves explain() reports, in its order, each with the OR branches it must be in.

    A leaf counts (in a field where it occurs) when the paper satisfies every branch in
    `guards` (ids of OR children on its path); the query itself being satisfied, AND children
    always count and nothing under a NOT does.
    """
    if isinstance(node, Leaf):
        return [(node, guards)]
    if isinstance(node, And):
        return [t for c in node.children for t in _explaining_leaves(c, guards)]
    if isinstance(node, Or):
        # a leaf needs no guard of its own: its terms are where it occurs, inside its branch
        return [
            t
            for c in node.children
            for t in _explaining_leaves(c, guards if isinstance(c, Leaf) else (*guards, id(c)))
        ]
    return []


def expand(grouped: Mapping[str, Sequence[MatchGroup[K]]]) -> Result[K]:
    """Per-subscriber form of a grouped result: paper id -> (key, why) for each group's keys."""
    # a group is shared by many papers: build its pairs once, copy them into each paper's list
    pairs: dict[int, list[tuple[K, Match]]] = {}
    out: Result[K] = {}
    for pid, found in grouped.items():
        expanded: list[tuple[K, Match]] = []
        for group in found:
            shared = pairs.get(id(group))
            if shared is None:
                shared = pairs[id(group)] = [(k, group.match) for k in group.keys]
            expanded += shared
        out[pid] = expanded
    return out


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
