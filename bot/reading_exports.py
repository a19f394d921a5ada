"""A reading list exported: BibTeX (`paperboy-saved.bib`, one `@misc` per paper) and Markdown."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.store.reading_list import SavedPaper
from bot.text import escape_markdown

BIBTEX_FILE = "paperboy-saved.bib"
MARKDOWN_FILE = "paperboy-saved.md"

# LaTeX's special characters inside a BibTeX field; the backslash first, so the escapes added
# for the others are not escaped again
_BIBTEX_ESCAPES = (
    ("\\", r"\textbackslash{}"),
    ("{", r"\{"),
    ("}", r"\}"),
    ("$", r"\$"),
    ("&", r"\&"),
    ("%", r"\%"),
    ("#", r"\#"),
    ("_", r"\_"),
    ("^", r"\textasciicircum{}"),
    ("~", r"\textasciitilde{}"),
)
_PLACEHOLDER = "\x00"


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX field: `&`, `%`, `$`, `#`, `_`, `{`, `}`, `~`, `^`, `\\`
    escaped, whitespace collapsed."""
    out = " ".join(text.split())
    # escape the backslash to a placeholder first: its escape holds braces escaped next
    out = out.replace("\\", _PLACEHOLDER)
    for char, escaped in _BIBTEX_ESCAPES[1:]:
        out = out.replace(char, escaped)
    return out.replace(_PLACEHOLDER, _BIBTEX_ESCAPES[0][1])


def _ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits of `text` (accents dropped: `Müller` -> `muller`)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def year_of(paper: SavedPaper) -> str:
    """The year of the first version: its date, else the id's YYMM (`2106.09685` -> 2021)."""
    if paper.published is not None:
        return str(paper.published.year)
    match = re.match(r"(?:.*/)?(\d{2})\d{2}", paper.paper_id)
    if not match:
        return ""
    yy = int(match.group(1))
    return str(1900 + yy if yy >= 91 else 2000 + yy)


def citation_key(paper: SavedPaper) -> str:
    """first author's last name + year + first title word, e.g. `hu2021lora`."""
    surname = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else ""
    words = [w for w in (_ascii_word(t) for t in paper.title.split()) if w]
    return (_ascii_word(surname) or "anon") + year_of(paper) + (words[0] if words else "paper")


def bibtex_entry(paper: SavedPaper, key: str) -> str:
    """One `@misc` entry."""
    fields = [
        ("title", "{" + bibtex_escape(paper.title) + "}"),  # double braces keep its capitals
        ("author", " and ".join(bibtex_escape(a) for a in paper.authors)),
        ("year", year_of(paper)),
        ("eprint", bibtex_escape(paper.paper_id)),
        ("archivePrefix", "arXiv"),
        ("primaryClass", bibtex_escape(paper.categories[0]) if paper.categories else ""),
        ("url", paper.abs_url),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}"


def to_bibtex(papers: Sequence[SavedPaper]) -> str:
    """The reading list as BibTeX, keys made unique with a, b, … suffixes."""
    seen: dict[str, int] = {}
    entries = []
    for paper in papers:
        key = citation_key(paper)
        n = seen.get(key, 0)
        seen[key] = n + 1
        entries.append(bibtex_entry(paper, key + (_suffix(n + 1) if n else "")))  # b, c, …
    return "\n\n".join(entries) + "\n"


def _suffix(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def to_markdown(papers: Sequence[SavedPaper]) -> str:
    """The reading list as a Markdown list: linked title, authors, year, arXiv id."""
    lines = ["# Reading list (Paperboy)", ""]
    for paper in papers:
        authors = ", ".join(paper.authors[:3]) + (" et al." if len(paper.authors) > 3 else "")
        year = year_of(paper)
        tail = " · ".join(
            x for x in (escape_markdown(authors), year, f"arXiv:{paper.paper_id}") if x
        )
        lines.append(f"- [{escape_markdown(paper.title)}]({paper.abs_url}) — {tail}")
    return "\n".join(lines) + "\n"
