"""Feed source lists: `hf`, `arxiv:cs.CL`, `hf, arxiv:cs.LG+cs.CV`."""

from __future__ import annotations

import pytest

from bot.feed_sources import SourcesError, parse_sources
from bot.models import Paper


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("hf", "hf"),
        ("arxiv", "arxiv"),
        ("arxiv:cs.CL", "arxiv:cs.CL"),
        ("HF, arXiv:cs.lg+CS.CV", "hf, arxiv:cs.CV+cs.LG"),
        ("hf arxiv", "hf, arxiv"),
        ("arxiv: cs.CL + cs.LG", "arxiv:cs.CL+cs.LG"),
        ("arxiv:physics.optics+q-bio.NC", "arxiv:physics.optics+q-bio.NC"),
    ],
)
def test_valid_lists_normalise(text: str, normal: str) -> None:
    assert parse_sources(text).normal == normal
    assert parse_sources(normal).normal == normal


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one source"),
        ("rss", "Unknown source `rss`"),
        ("hf:cs.CL", "`hf` takes no categories"),
        ("arxiv:", "needs categories"),
        ("arxiv:cs.CL+4", "`4` is not an arXiv category"),
    ],
)
def test_invalid_lists_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(SourcesError, match=message) as error:
        parse_sources(text)
    assert "\n" not in str(error.value)


def test_accepts_filters_by_source_and_category() -> None:
    hf_only = Paper(id="1", title="t", abstract="a", sources=frozenset({"hf"}))
    arxiv_cl = Paper(
        id="2", title="t", abstract="a", categories=("cs.CL",), sources=frozenset({"arxiv"})
    )
    arxiv_cv = Paper(
        id="3", title="t", abstract="a", categories=("cs.CV",), sources=frozenset({"arxiv"})
    )
    both = Paper(
        id="4", title="t", abstract="a", categories=("cs.CV",), sources=frozenset({"hf", "arxiv"})
    )
    cl = parse_sources("arxiv:cs.CL")
    assert [p.id for p in (hf_only, arxiv_cl, arxiv_cv, both) if cl.accepts(p)] == ["2"]
    hf = parse_sources("hf")
    assert [p.id for p in (hf_only, arxiv_cl, arxiv_cv, both) if hf.accepts(p)] == ["1", "4"]
    everything = parse_sources("hf, arxiv")
    assert all(everything.accepts(p) for p in (hf_only, arxiv_cl, arxiv_cv, both))
