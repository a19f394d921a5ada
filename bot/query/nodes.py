"""The parsed query tree, its canonical rendering and its anchor terms."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache

from bot.query.text import PART_RE, TEXT_FIELDS, compound_key, stem

# document field -> how the user writes it
FIELD_NAMES = {
    "title": "title",
    "abstract": "abstract",
    "authors": "author",
    "categories": "cat",
    "like": "like",
}
LIKE = "like"  # the pseudo-field of `like:<arXiv id>`: papers similar to that one


@dataclass(frozen=True, slots=True)
class Leaf:
    """A word, phrase or prefix, optionally scoped to one field (`None`: title+abstract+keywords).

    `words` are lower-case compound tokens; several words form a phrase. A prefix has one word.
    A `like:` leaf has the field LIKE and one word, the versionless arXiv id.
    """

    field: str | None
    words: tuple[str, ...]
    prefix: bool = False
    keys: tuple[str, ...] = dc_field(init=False, compare=False, repr=False)
    spans: tuple[int, ...] = dc_field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # match keys: a plain word is stemmed, a compound has each part stemmed; prefixes stay raw
        plain = self.prefix or self.field == LIKE
        keys = self.words if plain else tuple(_key(w) for w in self.words)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "spans", tuple(len(PART_RE.findall(w)) for w in self.words))

    @property
    def fields(self) -> tuple[str, ...]:
        """The document fields this leaf looks in."""
        return TEXT_FIELDS if self.field is None else (self.field,)

    @property
    def label(self) -> str:
        """The term as shown to users, without its field: `diffusion`, `"a b"`, `quantiz*`."""
        if self.prefix:
            return self.words[0] + "*"
        if len(self.words) > 1:
            return '"' + " ".join(self.words) + '"'
        return self.words[0]

    def render(self) -> str:
        """Canonical text of this leaf, field included."""
        scope = "" if self.field is None else FIELD_NAMES[self.field] + ":"
        return scope + self.label


@lru_cache(maxsize=100_000)
def make_leaf(field: str | None, words: tuple[str, ...], prefix: bool = False) -> Leaf:
    """The leaf, shared: the same word in thousands of subscriptions is one object (leaves are
    immutable; 100k subscriptions hold ~90k leaves but only a few thousand different ones)."""
    return Leaf(field, words, prefix)


def _key(word: str) -> str:
    return stem(word) if word.isalnum() else compound_key(word)


@dataclass(frozen=True, slots=True)
class Not:
    """Papers that do not match `child`."""

    child: Node


@dataclass(frozen=True, slots=True)
class And:
    """Papers matching every child."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Papers matching at least one child."""

    children: tuple[Node, ...]


Node = Leaf | Not | And | Or


def make_and(children: list[Node]) -> Node:
    """An AND node, flattened, without duplicate children, collapsed when it has one child."""
    if len(children) == 1 and not isinstance(children[0], And):
        return children[0]  # most terms of a parsed query: nothing to flatten or compare
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, And) else (c,))
    flat = list(dict.fromkeys(flat))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def make_or(children: list[Node]) -> Node:
    """An OR node, flattened, without duplicate children, collapsed when it has one child."""
    if len(children) == 1 and not isinstance(children[0], Or):
        return children[0]
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, Or) else (c,))
    flat = list(dict.fromkeys(flat))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def make_not(child: Node) -> Node:
    """A negation; a double negation cancels out."""
    return child.child if isinstance(child, Not) else Not(child)


def render(node: Node, top: bool = True) -> str:
    """Canonical query text: top-level alternatives joined by `, `, nested ones by ` OR `."""
    if isinstance(node, Leaf):
        return node.render()
    if isinstance(node, Not):
        inner = render(node.child, top=False)
        return "-(" + inner + ")" if isinstance(node.child, And | Or) else "-" + inner
    if isinstance(node, And):
        return " ".join(render(c, top=False) for c in node.children)
    if top:
        return ", ".join(render(c, top=False) for c in node.children)
    return "(" + " OR ".join(render(c, top=False) for c in node.children) + ")"


def leaves(node: Node, positive: bool = True) -> list[tuple[Leaf, bool]]:
    """Every leaf in query order, with whether it is positive (not under a NOT)."""
    if isinstance(node, Leaf):
        return [(node, positive)]
    if isinstance(node, Not):
        return leaves(node.child, not positive)
    return [pair for c in node.children for pair in leaves(c, positive)]


def anchors(node: Node) -> tuple[Leaf, ...] | None:
    """Leaves at least one of which every matching paper contains (`None`: no such set).

    A phrase is anchored on its longest word, which it cannot match without.
    """
    if isinstance(node, Leaf):
        if len(node.words) == 1:
            return (node,)
        longest = max(node.words, key=len)
        return (Leaf(node.field, (longest,)),)
    if isinstance(node, Not):
        return None
    found = [anchors(c) for c in node.children]
    if isinstance(node, Or):
        if any(a is None for a in found):
            return None
        return tuple(dict.fromkeys(leaf for a in found if a for leaf in a))
    options = [a for a in found if a is not None]
    if not options:
        return None
    # fewest anchors first, then exact words over prefixes, then longer (rarer) words
    return min(
        options, key=lambda a: (len(a), sum(x.prefix for x in a), -sum(len(x.label) for x in a))
    )
