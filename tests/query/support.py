"""Shared data for the query and matcher tests: hand-written papers and hypothesis strategies
for random papers and queries."""

from __future__ import annotations

from hypothesis import strategies as st

from bot.models import Paper


def paper(pid: str, title: str, abstract: str, **kw: object) -> Paper:
    """A paper with only the fields the query language looks at."""
    return Paper(id=pid, title=title, abstract=abstract, **kw)  # type: ignore[arg-type]


PAPERS = [
    paper(
        "mdlm",
        "Masked Diffusion Language Models",
        "We study masked diffusion for text generation. "
        "Our models beat autoregressive transformers.",
        authors=("Yann LeCun", "Ada Lovelace"),
        categories=("cs.CL", "cs.LG"),
        ai_keywords=("diffusion language model", "masked diffusion"),
    ),
    paper(
        "rlhf",
        "Scaling RL for Reasoning",
        "Reinforcement learning (RL) with verifiable rewards improves GPT-4 on math.",
        authors=("Grace Hopper",),
        categories=("cs.LG",),
        ai_keywords=("reinforcement learning",),
    ),
    paper(
        "url",
        "Parsing URL Structures with a Transformer",
        "A transformer reads each URL and classifies it.",
        authors=("Alan Turing",),
        categories=("cs.CR",),
    ),
    paper(
        "gpt4o",
        "Evaluating GPT-4o on Vision Tasks",
        "We compare GPT-4o with open models.",
        categories=("cs.CV",),
    ),
    paper(
        "int4",
        "INT4 Quantization of LLMs",
        "Post-training quantization to int4 keeps accuracy for large language models.",
        categories=("cs.LG",),
        ai_keywords=("quantization",),
    ),
    paper(
        "moe",
        "Mixture of Experts at Scale",
        "Sparse mixture of experts layers route tokens, evaluated on cs.CL benchmarks.",
        categories=("cs.CL",),
    ),
    paper(
        "survey",
        "A Survey of Diffusion Models",
        "This survey covers diffusion in vision.",
        categories=("cs.CV",),
    ),
    paper(
        "studies",
        "Case Studies in Robotics",
        "We present case studies of robot policies.",
        categories=("cs.RO",),
    ),
    paper(
        "quantizer",
        "Learned Quantizers for Speech",
        "A vector quantizer compresses audio.",
        authors=("Yann Dupont",),
        categories=("eess.AS",),
    ),
    paper(
        "lecunabs",
        "On Energy-Based Models",
        "We revisit the work of LeCun on energy models.",
        authors=("Joe Bloggs",),
        categories=("cs.LG",),
    ),
]

# a small vocabulary so random queries and papers share words and matches are common
WORDS = [
    "diffusion",
    "model",
    "models",
    "masked",
    "language",
    "rl",
    "url",
    "gpt-4",
    "gpt-4o",
    "gpt",
    "int4",
    "quantization",
    "quantizer",
    "study",
    "studies",
    "case",
    "cases",
    "cs.cl",
    "class",
    "transformer",
    "transformers",
    "of",
    "experts",
    "mixture",
    "3.5",
    "match",
    "matches",
]
NAMES = ["Yann LeCun", "Ada Lovelace", "Yann Dupont", "Grace Hopper", "Alan Turing"]
CATEGORIES = ["cs.CL", "cs.LG", "cs.CV", "eess.AS", "stat.ML"]
PREFIXES = ["quantiz*", "diff*", "mod*", "gpt-4*", "stud*", "tra*"]


def _text(words: list[str]) -> str:
    return " ".join(words)


@st.composite
def papers(draw: st.DrawFn, pid: str = "p") -> Paper:
    """A random paper whose text is drawn from WORDS (with random case and punctuation)."""

    def words(lo: int, hi: int) -> list[str]:
        raw = draw(st.lists(st.sampled_from(WORDS), min_size=lo, max_size=hi))
        style = draw(st.sampled_from([str.lower, str.upper, str.title]))
        return [style(w) for w in raw]

    punct = draw(st.sampled_from(["", ".", ",", ";"]))
    return paper(
        pid,
        _text(words(1, 6)),
        _text(words(0, 14)) + punct,
        authors=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))),
        categories=tuple(draw(st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True))),
        ai_keywords=tuple(_text(words(1, 3)) for _ in range(draw(st.integers(0, 2)))),
    )


LIKE_IDS = ["2601.00001", "2601.00002", "2601.00003"]  # `like:` papers (scored by the test)


def _leaf(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["word", "word", "word", "phrase", "prefix", "field", "cat", "like"])
    )
    if kind == "like":
        return "like:" + draw(st.sampled_from(LIKE_IDS))
    if kind == "phrase":
        return '"' + " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=3))) + '"'
    if kind == "prefix":
        return draw(st.sampled_from(PREFIXES))
    if kind == "field":
        field = draw(st.sampled_from(["title:", "abstract:", "author:"]))
        if field == "author:":
            return field + draw(st.sampled_from(["yann", "lecun", '"yann lecun"', "hopper"]))
        return field + draw(st.sampled_from(WORDS))
    if kind == "cat":
        return "cat:" + draw(st.sampled_from(["cs.CL", "cs.lg", "cs.*", "eess.AS", "cs.c*"]))
    word = draw(st.sampled_from(WORDS))
    return draw(st.sampled_from([str.lower, str.upper]))(word)


@st.composite
def query_texts(draw: st.DrawFn, depth: int = 2) -> str:
    """A random query string using every operator; it may still be refused (e.g. only NOTs)."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return _leaf(draw)
    parts = draw(st.lists(query_texts(depth - 1), min_size=1, max_size=3))
    op = draw(st.sampled_from([" ", " OR ", ", ", " AND "]))
    text = op.join(parts)
    if draw(st.integers(0, 3)) == 0:
        text = "(" + text + ")"
        if draw(st.booleans()):
            text = draw(st.sampled_from(["-", "NOT ", "title:"])) + text
    if draw(st.integers(0, 4)) == 0:
        text += " -" + _leaf(draw)
    return text
