"""arXiv identifiers: every form a user pastes reduces to one versionless id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.arxiv_ids import normalise_id, split_version


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2608.09888", "2608.09888"),
        ("2608.09888v2", "2608.09888"),
        ("arXiv:2608.09888v12", "2608.09888"),
        ("ARXIV:2608.09888", "2608.09888"),
        ("  2608.09888\n", "2608.09888"),
        ("1412.1234", "1412.1234"),  # four-digit numbers until 2014
        ("0704.0001", "0704.0001"),  # the first new-style id
        ("https://arxiv.org/abs/2608.09888", "2608.09888"),
        ("http://arxiv.org/abs/2608.09888v3", "2608.09888"),
        ("https://arxiv.org/pdf/2608.09888", "2608.09888"),
        ("https://arxiv.org/pdf/2608.09888v2.pdf", "2608.09888"),
        ("https://www.arxiv.org/abs/2608.09888/", "2608.09888"),
        ("https://export.arxiv.org/abs/2608.09888?context=cs.CL", "2608.09888"),
        ("arxiv.org/abs/2608.09888", "2608.09888"),
        ("https://arxiv.org/html/2608.09888v1", "2608.09888"),
        ("https://huggingface.co/papers/2608.09888", "2608.09888"),
        ("https://huggingface.co/papers/2608.09888#community", "2608.09888"),
        ("<https://arxiv.org/abs/2608.09888>", "2608.09888"),  # Discord's no-embed brackets
        ("oai:arXiv.org:2203.01250v3", "2203.01250"),
        ("https://doi.org/10.48550/arXiv.2608.09888", "2608.09888"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("arXiv:HEP-TH/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("https://arxiv.org/pdf/cond-mat/0102536v1.pdf", "cond-mat/0102536"),
        # the subject class is not part of an old-style id: both spellings are one paper
        ("math.AP/0101001", "math/0101001"),
        ("cond-mat.str-el/0101001v2", "cond-mat/0101001"),
    ],
)
def test_accepted_forms(text: str, expected: str) -> None:
    assert normalise_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "2608.0988",  # a four-digit number after 2014
        "1412.12345",  # a five-digit number before 2015
        "2613.09888",  # month 13
        "0612.1234",  # new style before April 2007
        "2608.09888.1",
        "https://example.com/abs/2608.09888",
        "https://arxiv.org/list/cs.CL/new",
        "hep-th/990100",
        "hep-th/9913001",  # month 13
        "2608.09888 and 2608.09889",
    ],
)
def test_rejected_forms(text: str) -> None:
    assert normalise_id(text) is None


def test_split_version() -> None:
    assert split_version("2608.09888v2") == ("2608.09888", 2)
    assert split_version("2608.09888") == ("2608.09888", None)
    assert split_version("hep-th/9901001v10") == ("hep-th/9901001", 10)
    assert split_version("hep-th/9901001") == ("hep-th/9901001", None)


new_ids = st.builds(
    lambda yymm, num: f"{yymm}.{num:05d}",
    st.integers(15, 99).flatmap(lambda y: st.integers(1, 12).map(lambda m: f"{y:02d}{m:02d}")),
    st.integers(0, 99999),
)
old_ids = st.builds(
    lambda archive, yy, mm, n: f"{archive}/{yy:02d}{mm:02d}{n:03d}",
    st.sampled_from(["hep-th", "math", "cs", "cond-mat", "astro-ph", "quant-ph"]),
    st.sampled_from([91, 95, 99, 0, 3, 7]),
    st.integers(1, 12),
    st.integers(0, 999),
)
wrappers = st.sampled_from(
    [
        "{}",
        "arXiv:{}",
        "https://arxiv.org/abs/{}",
        "https://arxiv.org/pdf/{}.pdf",
        "https://huggingface.co/papers/{}",
        " <https://arxiv.org/abs/{}> ",
    ]
)


@given(st.one_of(new_ids, old_ids), st.none() | st.integers(1, 30), wrappers)
def test_any_wrapped_id_normalises_to_itself(arxiv_id: str, version: int | None, wrap: str) -> None:
    versioned = arxiv_id if version is None else f"{arxiv_id}v{version}"
    assert normalise_id(wrap.format(versioned)) == arxiv_id
    assert split_version(versioned) == (arxiv_id, version)


@given(st.text())
def test_normalise_never_raises_and_is_idempotent(text: str) -> None:
    result = normalise_id(text)
    if result is not None:
        assert normalise_id(result) == result
        assert split_version(result) == (result, None)
