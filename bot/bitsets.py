"""Sets of papers as Python ints (bit i = paper i of a batch), and the few operations on them
that the matcher and the feeds' shared match need beyond `&`, `|` and `^`."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress

_BIT_BYTES = bytes.maketrans(b"01", b"\x00\x01")


def bit_indices(mask: int) -> list[int]:
    """Indices of the set bits of a non-negative int, ascending."""
    count = mask.bit_count()
    if count <= 4:
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out
    start = (mask & -mask).bit_length() - 1
    digits = bin(mask >> start)[:1:-1]  # least significant bit first
    if count * 4 >= len(digits):
        # dense (a popular term): one byte per bit, filtered by compress(), is all C
        flags = digits.encode().translate(_BIT_BYTES)
        return list(compress(range(start, start + len(digits)), flags))
    out, i = [], digits.find("1")
    while i >= 0:
        out.append(i + start)
        i = digits.find("1", i + 1)
    return out


def partition(mask: int, splitters: Sequence[int]) -> list[int]:
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


class BitCounter:
    """A count per paper, kept as bit slices (slice k holds bit k of every paper's count), so
    adding a whole set of papers at once is a few big-int operations, not a loop over papers."""

    def __init__(self) -> None:
        self._slices: list[int] = []

    def add(self, papers: int, weight: int = 1) -> None:
        """Add `weight` to the count of every paper in the set."""
        if weight == 1:  # nearly every call (a query with one subscriber): no call per slice
            slices, k, carry = self._slices, 0, papers
            while carry:
                if k == len(slices):
                    slices.append(carry)
                    return
                slices[k], carry = slices[k] ^ carry, slices[k] & carry
                k += 1
            return
        k = 0
        while weight:
            if weight & 1:
                self._add_at(papers, k)
            weight >>= 1
            k += 1

    def _add_at(self, carry: int, k: int) -> None:
        slices = self._slices
        slices.extend([0] * (k - len(slices)))  # a weight's high bit can start past the top
        while carry:  # ripple-carry addition, all papers in parallel
            if k == len(slices):
                slices.append(carry)
                return
            slices[k], carry = slices[k] ^ carry, slices[k] & carry
            k += 1

    def count(self, index: int) -> int:
        """The count of paper `index`."""
        return sum(((s >> index) & 1) << k for k, s in enumerate(self._slices))

    def top(self, papers: int, k: int) -> tuple[int, int, int]:
        """The papers of `papers` ranked in the first `k` by count, ties kept.

        Returns (above, tied, threshold): `above` holds the papers counting more than the
        k-th highest count, `tied` those counting exactly that (`threshold`); together they
        are at least `min(k, number of papers)` papers. Walks the slices from the top bit down,
        never paper by paper.
        """
        k = min(k, papers.bit_count())
        if k <= 0:
            return 0, 0, 0
        above, tied, threshold = 0, papers, 0
        for bit in range(len(self._slices) - 1, -1, -1):
            with_bit = tied & self._slices[bit]
            if (above | with_bit).bit_count() >= k:
                tied, threshold = with_bit, threshold | (1 << bit)  # the k-th has this bit
            else:
                above |= with_bit  # all of these rank above the k-th
                tied &= ~self._slices[bit]
        return above, tied, threshold
