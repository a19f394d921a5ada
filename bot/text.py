"""Text hygiene for paper titles and abstracts: clean source text (`clean_text`), fold it to the
one form it is matched in (`fold`), and make it safe for Discord (escaping, mentions, truncating).
Tokenising folded text for the query language lives in `bot.query.text`."""

from __future__ import annotations

import html
import re
import unicodedata

ZWSP = "\u200b"

# C0/C1 control characters other than whitespace: they never belong in a title and some
# terminals and clients render them as garbage.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# Characters that Discord's Markdown treats specially anywhere in a line.
_MD_INLINE = re.compile(r"([\\*_~`|\[\]])")
# Line-start syntax: headings (#, -#), block quotes (>), lists (-, +, 1.).
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>\-+])|(\d+)\.)", re.MULTILINE)
# Discord does not render Markdown inside bare URLs, and a backslash there would break the link.
# Brackets are not part of the URL, so they are escaped and a URL can never carry a masked link.
_URL = re.compile(r"https?://[^\s<>\"'\[\]]+")

_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
# <@123>, <@!123>, <@&123> (users, roles), <#123> (channels), </cmd:123> (slash commands).
_ANGLE_MENTION = re.compile(r"<(?=[@#/])")


# A run of escaped ampersands ("&amp;amp;amp;…", also numeric and without the semicolon) is
# one ampersand however deep the escaping: one linear pass instead of one unescape per level.
_AMP_RUN = re.compile(r"&(?:(?:amp|AMP);?|#0*38;?|#[xX]0*26;?)+")
# Feeds escape at most twice in practice; the run collapse above handles any deeper "&amp;".
MAX_UNESCAPE_PASSES = 3

# Longest text kept from a source, per field (arXiv caps abstracts at 1,920 characters): a
# runaway value is cut at parse time, never stored, matched or rendered whole.
TITLE_LIMIT = 1_000
ABSTRACT_LIMIT = 10_000
NAME_LIMIT = 300  # one author or keyword
SUMMARY_LIMIT = 2_000
MAX_AUTHORS = 3_000  # physics collaborations really do list thousands
MAX_KEYWORDS = 50


def _clean_once(s: str) -> str:
    s = unicodedata.normalize("NFC", html.unescape(s))
    # HF escapes every dollar sign in abstracts as "\$"; LaTeX wants the bare "$".
    s = s.replace("\\$", "$")
    s = _CONTROL.sub("", s)
    return " ".join(s.split())


def clean_text(s: str | None, limit: int | None = None) -> str:
    """Collapse whitespace, unescape entities and HF's `\\$` (keeping LaTeX as written), compose
    Unicode (NFC) and cut to `limit` characters; linear in the length of `s`."""
    if not s:
        return ""
    # Feeds sometimes escape twice ("&amp;lt;"): a few passes reach a fixed point for any real
    # text; a bounded number keeps hostile input ("&a&#109;p;…") from costing a pass per level.
    s = _AMP_RUN.sub("&", s)
    for _ in range(MAX_UNESCAPE_PASSES):
        cleaned = _clean_once(s)
        if cleaned == s:
            break
        s = cleaned
    return truncate(s, limit) if limit is not None else s


def fold(s: str) -> str:
    """The one form text is matched in, for papers, the full-text index and queries alike:
    compatibility-composed (NFKC: `ﬁ` is `fi`, full-width is ASCII) and fully case-folded
    (`ß` is `ss`, `İ` is `i`, not `i` plus a combining dot)."""
    if s.isascii():  # nearly every paper: skip the Unicode tables
        return s.lower()
    # casefold("İ") is "i̇" (i + U+0307), which a tokenizer splits in two; "İ" means "I" here
    s = unicodedata.normalize("NFKC", s).replace("İ", "I")
    return unicodedata.normalize("NFKC", s.casefold())


def escape_markdown(s: str) -> str:
    """Backslash-escape Discord Markdown so paper text renders literally (URLs left intact)."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(s):
        parts.append(_escape_plain(s[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_escape_plain(s[last:]))
    return _MD_LINE_START.sub(_escape_line_start, "".join(parts))


def _escape_line_start(m: re.Match[str]) -> str:
    # Discord only honours a backslash before punctuation, so "1." becomes "1\." not "\1.".
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\."


def _escape_plain(s: str) -> str:
    return _MD_INLINE.sub(r"\\\1", s)


def neutralise_mentions(s: str) -> str:
    """Make `@everyone`, `@here` and `<@…>`/`<#…>` mentions inert with a zero-width space."""
    # Belt and braces: the Discord layer also sends allowed_mentions=none, but text that can
    # never form a mention stays safe wherever it is pasted.
    s = _MASS_MENTION.sub(lambda m: "@" + ZWSP + m.group(1), s)
    return _ANGLE_MENTION.sub("<" + ZWSP, s)


# Every character some rewrite of inert() starts from, but line starts (checked on their own)
_INERT_TRIGGER = re.compile(r"[\\*_~`|\[\]@<]")


def inert(s: str) -> str:
    """Paper or user text made literal for Discord: Markdown escaped and mentions neutralised
    (the one composition every renderer uses)."""
    if not _INERT_TRIGGER.search(s) and not _MD_LINE_START.search(s):
        # nothing to rewrite, as with most titles and "Matched" lines: two scans, not five
        # (a thousand DM digests render ~25,000 of them at the slot)
        return s
    return neutralise_mentions(escape_markdown(s))


def truncate(s: str, n: int, ellipsis: str = "…") -> str:
    """Shorten `s` to at most `n` characters, cutting on a word boundary and adding `ellipsis`."""
    if len(s) <= n:
        return s
    if n <= len(ellipsis):
        return ellipsis[: max(n, 0)]
    room = n - len(ellipsis)
    cut = s[:room]
    # Prefer the last word boundary, unless that throws away more than a third of the room
    # (one very long "word", such as a URL, would otherwise leave almost nothing).
    space = cut.rfind(" ")
    if s[room] != " " and space >= room * 2 // 3:
        cut = cut[:space]
    # A trailing backslash would escape the ellipsis once rendered as Markdown.
    cut = cut.rstrip().rstrip("\\").rstrip(" ,;:")
    return cut + ellipsis
