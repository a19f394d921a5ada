"""Recursive-descent parser: comma < OR < AND (implicit) < NOT, fields and parentheses."""

from __future__ import annotations

import re

from bot.arxiv_ids import normalise_id
from bot.query.errors import MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, QueryError
from bot.query.lexer import FIELD_ALIASES, Token, lex
from bot.query.nodes import LIKE, Leaf, Node, anchors, make_and, make_leaf, make_not, make_or
from bot.query.text import PART_RE, tokenize

_STARTS = ("word", "phrase", "field", "(", "NOT", "-")
_USER_FIELD = {v: k for k, v in FIELD_ALIASES.items()}
MIN_PREFIX = 3


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = lex(text)
        self.pos = 0
        self.scope: str | None = None  # the field in force (set by `field:` before a term/group)
        self.end_column = len(text) + 1
        self.depth = 0  # parenthesis depth
        self.top_operands: list[tuple[Node, int]] = []  # depth-0 alternatives and their columns
        self.anchors: tuple[Leaf, ...] = ()  # the whole query's, once parsed

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query")
        node = self.alternatives()
        tok = self.peek()
        if tok is not None:  # only a stray ')' can stop the top level early
            raise QueryError(f"unbalanced ')' at column {tok.column}", tok.column)
        found: list[Leaf] = []
        for operand, column in self.top_operands:
            anchored = anchors(operand)
            if anchored is None:
                # it could only be evaluated by scanning (and would match) nearly every paper
                raise QueryError(
                    f"only exclusions at column {column} — an exclusion alone would match "
                    "almost every paper, so add a word the paper must contain (e.g. `llm -survey`)",
                    column,
                )
            found += anchored
        # the tree is the OR of these operands (flattened, duplicates dropped), so its anchors
        # are theirs, in order, each once: no second walk of the tree
        self.anchors = tuple(dict.fromkeys(found))
        return node

    def alternatives(self) -> Node:
        alts = [self.comma_operand(None)]
        while (tok := self.peek()) is not None and tok.kind == ",":
            self.next()
            alts.append(self.comma_operand(tok))
        return make_or(alts)

    def comma_operand(self, comma: Token | None) -> Node:
        tok = self.peek()
        if tok is None or tok.kind not in _STARTS:
            if comma is not None:
                where = comma.column
                raise QueryError(f"',' needs an alternative on both sides at column {where}", where)
            if tok is not None and tok.kind == ",":
                where = tok.column
                raise QueryError(f"',' needs an alternative on both sides at column {where}", where)
        return self.or_expr()

    def or_expr(self) -> Node:
        first = self.peek()
        if first is not None and first.kind == "OR":
            raise QueryError(
                f"OR needs a term on both sides at column {first.column}", first.column
            )
        alts = [self.operand()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.next()
            nxt = self.peek()
            if nxt is None or nxt.kind not in _STARTS:
                raise QueryError(
                    f"OR needs a term on both sides at column {tok.column}", tok.column
                )
            alts.append(self.operand())
        return make_or(alts)

    def operand(self) -> Node:
        nxt = self.peek()
        column = nxt.column if nxt is not None else self.end_column
        node = self.and_expr()
        if self.depth == 0:
            self.top_operands.append((node, column))
        return node

    def and_expr(self) -> Node:
        terms = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind in (*_STARTS, "AND"):
            if tok.kind == "AND":
                self.next()
                nxt = self.peek()
                if nxt is None or nxt.kind not in _STARTS:
                    where = tok.column
                    raise QueryError(f"AND needs a term on both sides at column {where}", where)
            terms.append(self.unary())
        return make_and(terms)

    def unary(self) -> Node:
        # a loop, not recursion: `------x` must not cost a stack frame per '-'
        negations = 0
        while True:
            tok = self.peek()
            if tok is None:
                end = self.end_column
                raise QueryError(f"missing term at the end (column {end})", end)
            if tok.kind not in ("-", "NOT"):
                break
            self.next()
            if self.peek() is None:
                what = "'-'" if tok.kind == "-" else "NOT"
                raise QueryError(f"{what} needs a term after it at column {tok.column}", tok.column)
            negations += 1
        node = self.primary()
        return make_not(node) if negations % 2 else node

    def primary(self) -> Node:
        tok = self.next()
        if tok.kind == "field":
            field = self.scope
            if field is not None and field != tok.text:
                raise QueryError(
                    f"'{_USER_FIELD[tok.text]}:' cannot be used inside "
                    f"'{_USER_FIELD[field]}:' at column {tok.column}",
                    tok.column,
                )
            if tok.text == LIKE:
                return self.like(tok)
            if self.peek() is None or self.peek().kind not in _STARTS:  # type: ignore[union-attr]
                raise QueryError(
                    f"'{_USER_FIELD[tok.text]}:' needs a word, phrase or (group) after it "
                    f"at column {tok.column}",
                    tok.column,
                )
            self.scope = tok.text
            try:
                return self.unary()
            finally:
                self.scope = field
        if tok.kind == "(":
            inner = self.peek()
            if inner is None:
                raise QueryError(f"unclosed '(' at column {tok.column}", tok.column)
            if inner.kind == ")":
                raise QueryError(f"empty parentheses at column {tok.column}", tok.column)
            if self.depth >= MAX_QUERY_DEPTH:
                raise QueryError(
                    f"too many nested parentheses at column {tok.column}"
                    f" (at most {MAX_QUERY_DEPTH} deep)",
                    tok.column,
                )
            self.depth += 1
            node = self.alternatives()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(f"unclosed '(' at column {tok.column}", tok.column)
            self.next()
            return node
        if tok.kind == "word":
            return self.word(tok, self.scope)
        if tok.kind == "phrase":
            words = tuple(tokenize(tok.text))
            if not words:
                raise QueryError(f"empty phrase at column {tok.column}", tok.column)
            return make_leaf(self.scope, words)
        if tok.kind == ")":
            raise QueryError(f"unbalanced ')' at column {tok.column}", tok.column)
        if tok.kind in ("OR", "AND"):
            raise QueryError(
                f"{tok.kind} needs a term on both sides at column {tok.column}", tok.column
            )
        raise QueryError(
            f"',' needs an alternative on both sides at column {tok.column}", tok.column
        )

    def like(self, field: Token) -> Node:
        """`like:<arXiv id>`: one id, no group, phrase or prefix."""
        tok = self.peek()
        arxiv_id = normalise_id(tok.text) if tok is not None and tok.kind == "word" else None
        if arxiv_id is None:
            raise QueryError(
                f"'like:' needs an arXiv id such as like:2106.09685 at column {field.column}",
                field.column,
            )
        self.next()
        return Leaf(LIKE, (arxiv_id,))

    def word(self, tok: Token, field: str | None) -> Node:
        text = tok.text
        if "*" in text[:-1]:
            raise QueryError(f"'*' must end a word at column {tok.column}", tok.column)
        if text.endswith("*"):
            body = tokenize(text[:-1])
            letters = sum(len(p) for p in PART_RE.findall(text[:-1]))
            minimum = 1 if field == "categories" else MIN_PREFIX  # few categories: short is fine
            if len(body) > 1:
                raise QueryError(
                    f"prefix '{text}' must be a single word at column {tok.column}", tok.column
                )
            if letters < minimum:
                raise QueryError(
                    f"prefix '{text}' at column {tok.column} is too short"
                    f" (at least {MIN_PREFIX} letters before *)",
                    tok.column,
                )
            return make_leaf(field, (body[0],), prefix=True)
        words = tuple(tokenize(text))
        if not words:
            raise QueryError(
                f"'{text}' has no letters or digits at column {tok.column}", tok.column
            )
        return make_leaf(field, words)


def parse_anchored(text: str) -> tuple[Node, tuple[Leaf, ...]]:
    """Parse query text into a tree and its anchors (`nodes.anchors` of it, found while
    parsing); raises QueryError (also for exclusion-only alternatives)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"query is too long ({len(text)} characters, at most {MAX_QUERY_LENGTH})")
    if (plain := _plain_words(text)) is not None:
        return plain
    try:
        parser = _Parser(text)
        return parser.parse(), parser.anchors
    except RecursionError:  # a safety net: the depth limit above should make this unreachable
        raise QueryError("query is nested too deeply") from None


# Anything but plain words: a quote, a bracket, a comma, a field or a prefix.
_NOT_PLAIN = re.compile(r'["(),:*]')
_OPERATORS = frozenset(("OR", "AND", "NOT"))


def _plain_words(text: str) -> tuple[Node, tuple[Leaf, ...]] | None:
    """The tree and anchors of `w1 w2 ...` or `w1 OR w2 OR ...` (plain words, none negated),
    built without lexing or descending; None for any other text, which the parser reads.

    Most subscriptions look like this (half of the benchmark's), and a cold start parses a
    hundred thousand: this builds the very tree and anchors the parser would (a test holds
    the two equal on random texts) in half the time.
    """
    if _NOT_PLAIN.search(text):
        return None
    words = text.split()  # str.split() splits on exactly the spaces the lexer skips
    alternatives = len(words) > 1 and words[1] == "OR"
    if alternatives:
        if len(words) % 2 == 0 or any(w != "OR" for w in words[1::2]):
            return None
        words = words[::2]
    leaves: list[Node] = []
    for word in words:
        if word[0] == "-" or word in _OPERATORS:
            return None
        parts = tokenize(word)
        if not parts:  # no letters or digits: the parser says so
            return None
        leaves.append(make_leaf(None, tuple(parts)))
    if not leaves:
        return None
    if alternatives:  # each word is a top-level operand, anchored on itself
        found = [anchor for leaf in leaves for anchor in anchors(leaf) or ()]
        return make_or(leaves), tuple(dict.fromkeys(found))
    tree = make_and(leaves)
    return tree, tuple(dict.fromkeys(anchors(tree) or ()))
