"""Links: URLs taken from sources are checked once here, and every Markdown link Paperboy renders
is built by `markdown_link`, so paper text can never supply a link target or a link label that
hides where it goes."""

from __future__ import annotations

import logging
import re

from yarl import URL

from bot.text import inert

log = logging.getLogger(__name__)

# Characters that could end a Markdown link target early or open another link: a URL holding
# one of them is dropped, never escaped (there is no escaping that every client honours).
_UNSAFE = re.compile(r"[\s()\[\]<>\"'`\\\x00-\x1f\x7f]")
MAX_URL_LENGTH = 2048


def safe_url(value: object, *, what: str = "URL") -> str | None:
    """`value` re-serialised if it is an http(s) URL with a host and nothing that could break a
    Markdown link; otherwise None, with one warning line naming `what` (nothing for no value)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        log.warning("Dropping %s: not text (%s)", what, type(value).__name__)
        return None
    text = value.strip()
    reason = _refusal(text)
    if reason is None:
        try:
            url = URL(text)
        except (TypeError, ValueError) as exc:
            reason = f"unparseable ({exc})"
        else:
            if url.scheme not in ("http", "https"):
                reason = "not http(s)"
            elif not url.host or url.user is not None or url.password is not None:
                reason = "no host, or a user name before it"
            else:
                text = str(url)
                reason = _refusal(text)
    if reason is not None:
        log.warning("Dropping %s %r: %s", what, value[:200], reason)
        return None
    return text


def _refusal(text: str) -> str | None:
    if not text:
        return "empty"
    if len(text) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    if _UNSAFE.search(text):
        return "contains whitespace, quotes, brackets or control characters"
    return None


def markdown_link(label: str, url: str, *, preview: bool = True) -> str:
    """`[label](url)` with the label made literal (no Markdown, no mentions).

    A URL that fails `safe_url` renders the label alone, so a bad stored value shows as text
    rather than as a link. `preview=False` wraps the target in <> so Discord shows no preview.
    """
    text = inert(label)
    target = safe_url(url, what="link target")
    if target is None:
        return text
    return f"[{text}](<{target}>)" if not preview else f"[{text}]({target})"
