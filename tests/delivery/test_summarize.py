"""TL;DRs: HF's ai_summary when present, else an extract ending on a sentence boundary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.models import Paper
from bot.summarize import TLDR_LIMIT, extractive_summary, split_sentences, tldr

ABSTRACT = (
    "Large language models (LLMs) are strong, e.g. on GSM8K. However, Smith et al. show flaws "
    "in Fig. 2 of prior work. We propose MaskGen, a masked diffusion model that reaches 3.5 "
    "points higher accuracy. Experiments on 12 benchmarks confirm it. Our method outperforms "
    "autoregressive baselines by a wide margin while using half the compute. We release code."
)


def test_sentences_do_not_break_on_abbreviations_or_decimals() -> None:
    sentences = split_sentences(ABSTRACT)
    assert sentences[0] == "Large language models (LLMs) are strong, e.g. on GSM8K."
    assert sentences[1] == "However, Smith et al. show flaws in Fig. 2 of prior work."
    assert "3.5 points" in sentences[2]
    assert len(sentences) == 6


def test_ai_summary_wins() -> None:
    paper = Paper(id="1", title="t", abstract=ABSTRACT, ai_summary="  A one-line   summary. ")
    assert tldr(paper) == "A one-line summary."


def test_extract_prefers_contribution_sentences_and_ends_on_a_sentence() -> None:
    summary = tldr(Paper(id="1", title="t", abstract=ABSTRACT))
    assert len(summary) <= TLDR_LIMIT
    assert summary.endswith(".")
    assert "We propose MaskGen" in summary
    assert "Our method outperforms" in summary
    # the chosen sentences keep their order in the abstract
    assert summary.index("We propose") < summary.index("Our method")


def test_one_overlong_sentence_is_cut_on_a_word() -> None:
    text = "We propose " + " ".join(["something"] * 80) + "."
    summary = extractive_summary(text)
    assert len(summary) <= TLDR_LIMIT and summary.endswith("…")
    assert not summary[:-1].endswith(" ")


def test_empty_abstract() -> None:
    assert tldr(Paper(id="1", title="t", abstract="")) == ""


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_extract_is_bounded_and_never_fails(text: str) -> None:
    assert len(extractive_summary(text)) <= TLDR_LIMIT
