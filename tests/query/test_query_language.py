"""Every rule of the query language, checked against a fixed set of hand-written papers."""

from __future__ import annotations

import pytest

from bot.query import Match, MatchedTerm, parse
from tests.query.support import PAPERS

ALL = {p.id for p in PAPERS}

TABLE = [
    # AND, phrase, OR, comma, NOT
    ("diffusion language", {"mdlm"}),
    ('"masked diffusion"', {"mdlm"}),
    ('"diffusion masked"', set()),
    ("diffusion OR quantization", {"mdlm", "survey", "int4"}),
    ('llm quantization, "mixture of experts"', {"int4", "moe"}),
    ("mixture of experts", {"moe"}),
    ("diffusion -survey", {"mdlm"}),
    ("diffusion NOT survey", {"mdlm"}),
    ('diffusion -"diffusion models"', {"mdlm"}),
    ("(diffusion OR quantization) -(survey OR int4)", {"mdlm"}),
    ("diffusion AND language", {"mdlm"}),
    # fields
    ("title:transformer", {"url"}),
    ("abstract:url", {"url"}),
    ("title:(rl OR url)", {"rlhf", "url"}),
    ("author:lecun", {"mdlm"}),
    ("lecun", {"lecunabs"}),  # unscoped terms don't look at authors
    ('author:"yann lecun"', {"mdlm"}),
    ('author:"lecun yann"', set()),
    ("author:yann", {"mdlm", "quantizer"}),
    ('author:"lecun ada"', set()),  # phrases never span two authors
    ("cat:cs.CL", {"mdlm", "moe"}),
    ("cat:CS.cl", {"mdlm", "moe"}),
    ("cat:cs.*", ALL - {"quantizer"}),
    ("cat:cs.c*", {"mdlm", "url", "gpt4o", "moe", "survey"}),
    ("cat:cs.LG quantization", {"int4"}),
    ("reinforcement", {"rlhf"}),  # keywords are searched too (and abstract)
    ("title:reinforcement", set()),
    # case, word boundaries, compound tokens
    ("DIFFUSION", {"mdlm", "survey"}),
    ("rl", {"rlhf"}),
    ("RL", {"rlhf"}),
    ("url", {"url"}),
    ("GPT-4", {"rlhf"}),
    ("gpt-4o", {"gpt4o"}),
    ("gpt", {"rlhf", "gpt4o"}),
    ("int4", {"int4"}),
    ("cs.CL", {"moe"}),
    ("energy-based", {"lecunabs"}),
    ("energy", {"lecunabs"}),
    ('"gpt-4o on vision"', {"gpt4o"}),
    # plurals both ways
    ("models", {"mdlm", "survey", "int4", "gpt4o", "lecunabs"}),
    ("model", {"mdlm", "survey", "int4", "gpt4o", "lecunabs"}),
    ("transformer", {"mdlm", "url"}),
    ("transformers", {"mdlm", "url"}),
    ("study", {"studies", "mdlm"}),
    ('"case study"', {"studies"}),
    ("quantizer", {"quantizer"}),
    ("llm", {"int4"}),
    # prefix
    ("quantiz*", {"int4", "quantizer"}),
    ("gpt-4*", {"rlhf", "gpt4o"}),
    ("title:quantiz*", {"int4", "quantizer"}),
]


@pytest.mark.parametrize(("query", "expected"), TABLE)
def test_query_selects_expected_papers(query: str, expected: set[str]) -> None:
    q = parse(query)
    assert {p.id for p in PAPERS if q.matches(p)} == expected


def test_match_says_which_terms_matched_where() -> None:
    q = parse('diffusion "masked diffusion" -survey')
    match = q.matches(PAPERS[0])
    assert match == Match(
        terms=(
            MatchedTerm("diffusion", "title"),
            MatchedTerm("diffusion", "abstract"),
            MatchedTerm("diffusion", "keywords"),
            MatchedTerm('"masked diffusion"', "title"),
            MatchedTerm('"masked diffusion"', "abstract"),
            MatchedTerm('"masked diffusion"', "keywords"),
        )
    )
    assert match.describe().startswith("diffusion (title), diffusion (abstract), diffusion (key")


def test_match_lists_only_satisfied_alternatives() -> None:
    match = parse("author:lecun OR quantization, cat:cs.CL").matches(PAPERS[0])
    assert match is not None
    assert match.describe() == "lecun (authors), cs.cl (categories)"


def test_highlight_terms_are_positive_text_terms() -> None:
    q = parse('Diffusion "Masked Diffusion" quantiz* -survey cat:cs.CL author:lecun')
    assert q.highlight_terms() == ["diffusion", "masked diffusion", "quantiz*", "lecun"]


NORMALS = [
    ("Diffusion   LANGUAGE", "diffusion language"),
    ("a OR b c", "a, b c"),
    ("(a OR b) c", "(a OR b) c"),
    ("a AND b", "a b"),
    ("NOT x y", "-x y"),
    ('title:(a "B  c")', 'title:a title:"b c"'),
    ("x -(-y)", "x y"),
    ("x x y", "x y"),
    ('"single"', "single"),
    ("-(a b) c", "-(a b) c"),
    ("cat:cs.*", "cat:cs*"),
    ("Author:LeCun", "author:lecun"),
    ('llm quantization, "mixture of experts"', 'llm quantization, "mixture of experts"'),
]


@pytest.mark.parametrize(("query", "normal"), NORMALS)
def test_normal_form(query: str, normal: str) -> None:
    assert parse(query).normal == normal
    assert parse(normal).normal == normal


def test_same_normal_form_means_duplicate() -> None:
    assert parse("LLM  quantization") == parse("llm AND quantization")
    assert parse("llm") != parse("llm quantization")
