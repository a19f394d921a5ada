"""TL;DRs: Hugging Face's one-line `ai_summary` when there is one, else a short extract of the
abstract that ends on a sentence boundary."""

from __future__ import annotations

import re

from bot.models import Paper

TLDR_LIMIT = 300

# Abbreviations whose period does not end a sentence (lower-case, without the period).
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "et al",
    "etc",
    "fig",
    "figs",
    "eq",
    "eqs",
    "vs",
    "cf",
    "approx",
    "resp",
    "sec",
    "no",
    "al",
    "dr",
    "prof",
    "ref",
    "refs",
    "tab",
}
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z0-9\"'(\[$\\])")
# Sentences that state the contribution or the result say most in the fewest words.
_CUES = re.compile(
    r"\b(we (propose|introduce|present|show|find|develop|release|demonstrate)|"
    r"our (method|model|approach|results)|outperform\w*|state[- ]of[- ]the[- ]art|"
    r"achiev\w+|improv\w+)\b",
    re.IGNORECASE,
)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, not breaking on abbreviations like "e.g." or "et al."."""
    sentences: list[str] = []
    start = 0
    for end in _SENTENCE_END.finditer(text):
        words = text[start : end.start()].split()
        last_word = words[-1].lower().rstrip(".") if words else ""
        tail = " ".join(words[-2:]).lower().rstrip(".")
        if last_word in _ABBREVIATIONS or tail in _ABBREVIATIONS or len(last_word) == 1:
            continue
        sentences.append(text[start : end.end()].strip())
        start = end.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def _cut_on_word(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def extractive_summary(abstract: str, limit: int = TLDR_LIMIT) -> str:
    """The most informative sentences of an abstract, in their original order, within `limit`."""
    sentences = split_sentences(" ".join(abstract.split()))
    if not sentences:
        return ""
    # Rank: contribution cues first, then earlier sentences (abstracts lead with the point).
    ranked = sorted(
        range(len(sentences)),
        key=lambda i: (not _CUES.search(sentences[i]), i),
    )
    chosen: list[int] = []
    used = 0
    for i in ranked:
        cost = len(sentences[i]) + (1 if chosen else 0)
        if used + cost <= limit:
            chosen.append(i)
            used += cost
    if not chosen:  # even the best sentence is too long: cut it on a word
        return _cut_on_word(sentences[ranked[0]], limit)
    return " ".join(sentences[i] for i in sorted(chosen))


def tldr(paper: Paper, limit: int = TLDR_LIMIT) -> str:
    """A short summary of the paper for digests and previews."""
    if paper.ai_summary and paper.ai_summary.strip():
        return _cut_on_word(" ".join(paper.ai_summary.split()), limit)
    return extractive_summary(paper.abstract, limit)
