"""Text hygiene: cleaning source text and making it safe to post on Discord."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.text import ZWSP, clean_text, escape_markdown, inert, neutralise_mentions, truncate


def test_clean_text_collapses_whitespace_and_unescapes() -> None:
    raw = "  Deep\n\n   learning &amp; friends:\t&lt;b&gt; &#233;t&eacute;\u00a0 "
    assert clean_text(raw) == "Deep learning & friends: <b> été"


def test_clean_text_undoes_hf_dollar_escaping_but_keeps_latex() -> None:
    raw = r"costs \$O(n^2)\$ with \'Etienne's \textbf{trick} at 4\$\times\$RTX"
    assert clean_text(raw) == r"costs $O(n^2)$ with \'Etienne's \textbf{trick} at 4$\times$RTX"


def test_clean_text_handles_double_escaped_entities() -> None:
    assert clean_text("a &amp;lt; b &amp;amp; c") == "a < b & c"


def test_clean_text_drops_control_characters_and_empty_input() -> None:
    assert clean_text("a\x00b\x1bc") == "abc"
    assert clean_text(None) == ""
    assert clean_text(" \n\t ") == ""


@given(st.text())
def test_clean_text_is_idempotent_and_has_no_stray_whitespace(s: str) -> None:
    once = clean_text(s)
    assert clean_text(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert not re.search(r"[\n\t\r]", once)


def test_escape_markdown_escapes_inline_and_line_start_syntax() -> None:
    text = "# Title *bold* _it_ ~~s~~ `code` ||spoiler|| [link](x) a\\b\n> quote\n- item\n1. first"
    assert escape_markdown(text) == (
        "\\# Title \\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\`code\\` \\|\\|spoiler\\|\\| "
        "\\[link\\](x) a\\\\b\n\\> quote\n\\- item\n1\\. first"
    )


def test_escape_markdown_leaves_urls_intact() -> None:
    text = "code at https://github.com/ML-GSAI/SMDM_v2/blob/main/x_y.py for x_1"
    assert escape_markdown(text) == (
        "code at https://github.com/ML-GSAI/SMDM_v2/blob/main/x_y.py for x\\_1"
    )


@given(st.text())
def test_escape_markdown_only_adds_backslashes(s: str) -> None:
    # Each backslash in the output is either one we added or an original one we escaped, so
    # dropping one backslash before every character gives the text back: nothing is lost.
    assume("http" not in s)  # URLs are deliberately left unescaped
    escaped = escape_markdown(s)
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL) == s


_MARKUP = ["a", " ", "\n", "1.", "#", ">", "-", "+", "*", "_", "~", "`", "|", "[", "]", "\\"]
_MARKUP += ["@everyone", "@here", "<@1>", "<#2>", "</c:3>", "http://x.org/a_b", "a@b.org"]


@given(st.lists(st.sampled_from(_MARKUP)).map("".join))
def test_inert_returns_plain_text_as_it_is_and_escapes_the_rest(s: str) -> None:
    # its shortcut for text with nothing to rewrite must agree with the full composition
    assert inert(s) == neutralise_mentions(escape_markdown(s))
    assert inert("Sparse robots (title), +3 more") == "Sparse robots (title), +3 more"


def test_neutralise_mentions_defuses_every_kind_of_ping() -> None:
    text = "@everyone @here @Everyone <@123> <@!45> <@&67> <#89> </cmd:1> mail a@b.org"
    out = neutralise_mentions(text)
    assert "@everyone" not in out.lower()
    assert "@here" not in out.lower()
    assert not re.search(r"<[@#/]", out)
    assert out.replace(ZWSP, "") == text  # nothing but zero-width spaces was added
    assert "a@b.org" in out


_PIECES = ["@", "<", "#", "&", "!", "/", "e", "everyone", "EVERYONE", "here", "1", ZWSP]


@given(st.lists(st.sampled_from(_PIECES)).map("".join))
def test_neutralised_text_can_never_mention(s: str) -> None:
    out = neutralise_mentions(s)
    assert not re.search(r"@(everyone|here)", out, re.IGNORECASE)
    assert not re.search(r"<[@#/]", out)
    assert neutralise_mentions(out) == out


def test_truncate_cuts_on_word_boundary() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("hello wonderful world of papers", 20) == "hello wonderful…"
    assert truncate("hello wonderful world", 16) == "hello wonderful…"  # cut right at a space
    # trailing punctuation before the ellipsis is dropped
    assert truncate("one, two, three", 10, ellipsis="...") == "one..."


def test_truncate_hard_cuts_one_long_word_and_tiny_limits() -> None:
    assert truncate("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghi…"
    assert truncate("abcdef", 1) == "…"
    assert truncate("abcdef", 0) == ""


def test_truncate_never_leaves_a_dangling_escape() -> None:
    assert truncate("a\\* b\\*c d", 5) == "a\\*…"
    assert not truncate(escape_markdown("x * y * z * w"), 6).endswith("\\…")


@given(st.text(), st.integers(min_value=0, max_value=300))
def test_truncate_respects_the_limit(s: str, n: int) -> None:
    out = truncate(s, n)
    assert len(out) <= n
    if len(s) <= n:
        assert out == s
