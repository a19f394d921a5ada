"""Tokenising paper text the same way queries are tokenised: compound tokens, parts and plurals.

A *compound token* is a run of letters/digits joined by `-`, `.`, `+` or `/` with a letter or digit
on both sides (`gpt-4o`, `cs.cl`, `3.5`); its *parts* are the letter/digit runs (`gpt`, `4o`). A
plain word is its own single part. Every part occupies one position, so phrases are checked on
parts (as SQLite FTS5's unicode61 tokenizer sees the text); a compound also records where it starts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from operator import not_

from bot.models import Paper
from bot.text import fold

TOKEN_RE = re.compile(r"[^\W_]+(?:[-.+/][^\W_]+)*")
PART_RE = re.compile(r"[^\W_]+")

# "like" is not text: it holds the ids of the `like:` papers this one is similar to (empty
# unless `bot/similarity.py` scored the paper against them)
FIELDS = ("title", "abstract", "keywords", "authors", "categories", "like")
TEXT_FIELDS = ("title", "abstract", "keywords")  # where an unscoped term looks

_SIBILANT_E = ("se", "xe", "ze", "che", "she")
_NO_TOKENS: frozenset[str] = frozenset()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Fold a lower-case word to its plural-insensitive key (`models`, `model` -> `model`).

    Rules, applied the same way to text and queries so they stay symmetric:
    1. `-ies` -> `-y` (5+ letters: `studies` -> `study`); otherwise strip a final `-s` (4+ letters)
       unless the word ends in `ss`, `us` or `is` (`class`, `corpus`, `analysis` stay).
    2. A final `e` after s/x/z/ch/sh is dropped, which makes `-es` plurals meet their singular
       (`matches` -> `matche` -> `match`, `cases` -> `case` -> `cas`, `case` -> `cas`).
    """
    w = word
    if len(w) >= 5 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) >= 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) >= 4 and w.endswith(_SIBILANT_E):
        w = w[:-1]
    return w


@lru_cache(maxsize=100_000)
def compound_key(token: str) -> str:
    """The match key of a lower-case compound token: each part stemmed, separators kept."""
    return PART_RE.sub(lambda m: stem(m.group()), token)


# Joins a compound key's parts into one full-text token (`cs.cl` -> `csǂcl`): a letter (so
# SQLite's tokenizer keeps it inside the token) that no paper's categories contain.
JOINER = "\u01c2"
GAP = JOINER  # alone, the token between two items of a field, which no ASCII query matches


def joined_key(key: str) -> str:
    """A compound match key as one full-text token (`cs.cl` -> `csǂcl`)."""
    return JOINER.join(PART_RE.findall(key))


def tokenize(text: str) -> list[str]:
    """Split text into folded compound tokens (`GPT-4o, models.` -> `gpt-4o`, `models`)."""
    return TOKEN_RE.findall(fold(text))


def index_text(items: tuple[str, ...] | list[str]) -> str:
    """What the full-text index holds for a field: its folded parts, space-separated, with a
    `GAP` token between items (two authors, two keywords).

    SQLite's unicode61 tokenizer splits text its own way (it keeps combining marks inside a
    token, where we split); giving it our parts means it sees exactly the tokens the matcher
    sees, so the FTS pre-filter can never miss a paper the matcher would match. The gap sits
    where `FieldText` leaves one, so a phrase finds the same positions in both.
    """
    return f" {GAP} ".join(map(_index_item, items))


def _index_item(item: str) -> str:
    # ASCII text needs no splitting: SQLite's tokenizer finds exactly our parts in it (runs of
    # letters and digits, lower-cased), and nearly every paper is ASCII
    if item.isascii():
        return item
    return " ".join(PART_RE.findall(fold(item)))


class FieldText:
    """One field of a paper, tokenised: part keys by position, compound starts, raw tokens."""

    __slots__ = ("_positions", "compounds", "keys", "raw", "stems")

    def __init__(self, items: tuple[str, ...] | list[str], keep_raw: bool = True) -> None:
        """Tokenise the field's items; `keep_raw=False` skips the raw tokens (only prefix
        terms read them: a batch keeps them for the fields some query has a prefix on)."""
        stems: list[str] = []
        compounds: list[tuple[int, str]] = []
        raw: set[str] = set()
        # comprehensions and map() rather than one Python loop per token: papers are long
        for n, item in enumerate(items):
            if n:
                stems.append("")  # a gap: phrases never span two authors or two keywords
            tokens = TOKEN_RE.findall(fold(item))
            if keep_raw:
                raw.update(tokens)
            parts = tokens
            joined = list(compress(range(len(tokens)), map(not_, map(str.isalnum, tokens))))
            if joined:
                # a compound's parts take its place (a second regex pass over the whole text
                # cost more: nearly every abstract has a hyphen somewhere)
                parts, start, shift = tokens[:], len(stems), 0
                for i in joined:
                    tok = tokens[i]
                    pieces = PART_RE.findall(tok)
                    at = i + shift  # where the token sits in `parts` now
                    compounds.append((start + at, compound_key(tok)))
                    parts[at : at + 1] = pieces
                    shift += len(pieces) - 1
                if keep_raw:
                    raw.update(parts)
            stems.extend(map(stem, parts))
        self.stems = stems
        self.compounds = compounds
        self.raw: AbstractSet[str] = raw or _NO_TOKENS  # never changed after this
        keys = set(stems)
        keys.discard("")
        keys.update(key for _, key in compounds)
        self.keys: AbstractSet[str] = keys  # never changed after this
        self._positions: dict[str, set[int]] = {}

    @classmethod
    def of_keys(cls, keys: frozenset[str]) -> FieldText:
        """A field holding exactly these keys and no text (the `like` field)."""
        made = cls(())
        made.keys = keys
        return made

    def positions(self, key: str) -> set[int]:
        """Positions where a part key occurs, or where a compound key starts."""
        found = self._positions.get(key)
        if found is None:
            found = set()
            if key.isalnum():
                stems, at = self.stems, -1
                try:
                    while True:  # list.index scans in C
                        at = stems.index(key, at + 1)
                        found.add(at)
                except ValueError:
                    pass
            else:
                found.update(i for i, c in self.compounds if c == key)
            self._positions[key] = found
        return found

    def for_phrases(self) -> FieldText:
        """This field with only what `phrase_at` reads (a batch index keeps thousands)."""
        slim = FieldText.__new__(FieldText)
        slim.stems, slim.compounds = self.stems, self.compounds
        slim.raw = slim.keys = frozenset()
        slim._positions = {}
        return slim

    def has_phrase(self, keys: tuple[str, ...], spans: tuple[int, ...]) -> bool:
        """Whether the keys occur adjacent and in order (a compound key spans several parts)."""
        return all(k in self.keys for k in keys) and self.phrase_at(keys, spans)

    def phrase_at(self, keys: tuple[str, ...], spans: tuple[int, ...]) -> bool:
        """`has_phrase` for a field known to hold every key."""
        for start in self.positions(keys[0]):
            at = start + spans[0]
            for key, span in zip(keys[1:], spans[1:], strict=True):
                if at not in self.positions(key):
                    break
                at += span
            else:
                return True
        return False

    def has_prefix(self, prefix: str) -> bool:
        """Whether any raw (unstemmed) token starts with the prefix."""
        return any(tok.startswith(prefix) for tok in self.raw)


@dataclass(frozen=True, slots=True)
class Document:
    """A paper's searchable fields, tokenised once and reused by every query."""

    id: str
    fields: dict[str, FieldText]
    # `like:` paper id -> cosine similarity, for the ids this paper is similar to
    similar: Mapping[str, float] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.id)


def paper_document(
    paper: Paper, fields: Collection[str] = FIELDS, raw_fields: Collection[str] = FIELDS
) -> Document:
    """Tokenise a paper's title, abstract, keywords, authors and categories for matching (only
    `fields`, when a query looks at fewer: tokenising an abstract it won't read is wasted; raw
    tokens only for `raw_fields`, those a prefix term looks in). The `like` field starts
    empty: `bot/likes.py` fills in the similarities a `like:` query needs."""
    items = {
        "title": lambda: (paper.title,),
        "abstract": lambda: (paper.abstract,),
        "keywords": lambda: paper.ai_keywords,
        "authors": lambda: paper.authors,
        "categories": lambda: paper.categories,
        "like": lambda: (),
    }
    return Document(id=paper.id, fields={f: FieldText(items[f](), f in raw_fields) for f in fields})


def word_forms(key: str) -> list[str]:
    """Every lower-case word whose stem is `key` (used to widen FTS queries to plurals)."""
    candidates = [key, key + "e", key + "s", key + "es"]
    if key.endswith("y"):
        candidates.append(key[:-1] + "ies")
    return [c for c in dict.fromkeys(candidates) if stem(c) == key]
