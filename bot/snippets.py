"""Snippets: a window of an abstract around the matched words, with those words emphasised."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence


def term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """A regex finding the query's words in text, allowing the plural forms the matcher folds."""
    parts: list[str] = []
    for term in sorted({t.strip().lower() for t in terms if t.strip()}, key=len, reverse=True):
        if term.endswith("*"):
            parts.append(re.escape(term[:-1]) + r"[\w-]*")
            continue
        words = [re.escape(w) for w in term.split()]
        last = words[-1]
        if last.endswith("ies"):
            last = last[:-3] + "(?:y|ies)"
        elif last.endswith("y"):
            last = last[:-1] + "(?:y|ies)"
        else:
            last = re.sub(r"(?:es|s)$", "", last) + "(?:es|s)?"
        parts.append(r"\s+".join([*words[:-1], last]))
    if not parts:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w])", re.IGNORECASE)


def make_snippet(
    text: str,
    terms: Sequence[str],
    *,
    width: int = 220,
    mark: tuple[str, str] = ("**", "**"),
    escape: Callable[[str], str] = lambda s: s,
) -> str:
    """Up to `width` characters of `text` around the first matched word, matches wrapped in `mark`.

    `escape` is applied to the plain text between marks (e.g. Markdown escaping for Discord), so
    the marks themselves are the only formatting in the result.
    """
    text = " ".join(text.split())
    pattern = term_pattern(terms)
    hits = list(pattern.finditer(text)) if pattern else []
    start = 0
    if hits and hits[0].start() > width // 3:
        start = text.rfind(" ", 0, hits[0].start() - width // 4) + 1
    end = min(len(text), start + width)
    if end < len(text):
        end = max(text.rfind(" ", start, end), start + 1)
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for hit in hits:
        if hit.start() < start or hit.end() > end:
            continue
        out.append(escape(text[cursor : hit.start()]))
        out.append(mark[0] + escape(hit.group(0)) + mark[1])
        cursor = hit.end()
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)
