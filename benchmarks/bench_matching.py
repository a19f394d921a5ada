"""Benchmark: 100,000 subscriptions x 2,000 papers through the indexed matcher vs brute force.

    .venv/bin/python benchmarks/bench_matching.py [--subs N] [--papers N] [--sample N] [--seed S]

Everything is generated from a seed: a Zipf-distributed ML vocabulary (real terms first, then a long
tail of synthetic ones), papers with 150-250-word abstracts mixing that vocabulary with filler, and
subscriptions of 1-4 terms using phrases, OR, NOT, commas, fields and prefixes. Brute force runs on
a sample of subscriptions against every paper and is extrapolated; the benchmark asserts that the
matcher gives identical results on that sample. The headline is `match_grouped` (one entry per
distinct query and paper); `match()` (expanded to one pair per subscriber) is timed too.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from bot.matching import SubscriptionMatcher, reference_match
from bot.models import Paper
from bot.query import Query, QueryError, paper_document, parse

REAL_TERMS = """llm llms diffusion transformer transformers attention reasoning agent agents rl
reinforcement learning vision language multimodal benchmark dataset quantization pruning
distillation alignment rlhf dpo preference reward retrieval rag embedding embeddings tokenizer
moe experts sparse lora finetuning fine-tuning pretraining scaling inference decoding speculative
kv-cache memory long-context context video image 3d nerf gaussian splatting segmentation detection
robotics policy manipulation planning navigation speech audio tts asr music graph gnn molecule
protein chemistry math theorem proof code coding program synthesis compiler safety jailbreak
hallucination factuality calibration uncertainty interpretability mechanistic probing sae
steering watermark privacy federated continual curriculum contrastive self-supervised clip vit
mamba ssm rnn convolution cnn gan vae autoencoder flow flow-matching score sampling denoising
editing generation captioning vqa ocr document table chart summarization translation multilingual
low-resource dialogue chatbot instruction instruction-tuning chain-of-thought cot tool-use
web-agent gui evaluation leaderboard arena judge llm-as-a-judge synthetic data-augmentation
gpt-4 gpt-4o claude llama qwen mistral gemini deepseek int4 int8 fp8 bf16 cuda gpu kernel
throughput latency serving compression efficient distributed parallelism optimizer adam sgd
""".split()  # noqa: SIM905
PHRASES = [
    "mixture of experts",
    "large language model",
    "vision language model",
    "diffusion model",
    "chain of thought",
    "reinforcement learning",
    "in-context learning",
    "reward model",
    "direct preference optimization",
    "knowledge distillation",
    "state space model",
    "retrieval augmented generation",
    "masked diffusion",
    "test-time scaling",
    "world model",
    "neural radiance field",
    "gaussian splatting",
    "speculative decoding",
    "kv cache",
    "instruction tuning",
    "self supervised learning",
    "graph neural network",
    "code generation",
]
FILLER = """the of and to in a is we that for this with on as are by our be from an which
results show method approach propose proposed performance paper novel task tasks problem
existing work framework experiments demonstrate significantly across while however using
based new such can both also more than these it its their has have been into two first
state-of-the-art evaluate study analysis improve improves improved effective simple""".split()  # noqa: SIM905
CATEGORIES = [f"cs.{c}" for c in "CL LG CV AI RO SD IR CR NE MA HC SE DC PL".split()] + [  # noqa: SIM905
    "stat.ML",
    "eess.AS",
    "eess.IV",
    "q-bio.QM",
    "math.OC",
    "physics.comp-ph",
]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = ["ra", "to", "ne", "mi", "ka", "lo", "vi", "stra", "qu", "ex", "zen", "dor", "fi"]
    seen = set(REAL_TERMS)
    tail: list[str] = []
    while len(REAL_TERMS) + len(tail) < size:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.1:
            w += f"-{rng.randint(1, 99)}"  # model names like zenka-7
        if w not in seen:
            seen.add(w)
            tail.append(w)
    return REAL_TERMS + tail


class Corpus:
    """A seeded generator of papers and subscriptions over one Zipf-ish vocabulary."""

    def __init__(self, seed: int, vocab_size: int = 6000, head: int = 10) -> None:
        self.rng = random.Random(seed)
        self.vocab = _vocabulary(self.rng, vocab_size)
        ranks = range(len(self.vocab))
        # `head` flattens the top of the paper curve: with 10 the top terms sit in ~70% of papers
        # papers: steep Zipf (a few terms everywhere, a long tail); subscribers pick topics from a
        # flatter curve (more mid-frequency terms). Tuned so the median subscription matches ~0.5%
        # of a batch while popular ones ("llm") match a large share, as real alerts do.
        self.paper_cum = list(itertools.accumulate(1 / (r + head) ** 1.1 for r in ranks))
        self.sub_cum = list(itertools.accumulate(1 / (r + 10) ** 0.5 for r in ranks))
        self.cum = self.paper_cum
        self.names = [self._name() for _ in range(5000)]

    def _name(self) -> str:
        first = self.rng.choice(["Yann", "Ada", "Wei", "Li", "Maria", "Omar", "Sara", "Ken"])
        last = "".join(
            self.rng.choice("bcdfghklmnprstvz") + self.rng.choice("aeiou") for _ in "abc"
        )
        return f"{first} {last.title()}"

    def term(self) -> str:
        """A vocabulary term, frequent ones much more likely (Zipf)."""
        return self.rng.choices(self.vocab, cum_weights=self.cum)[0]

    def paper(self, i: int) -> Paper:
        """A paper: ~10-word title, 150-250-word abstract, keywords, authors, categories."""
        rng = self.rng
        self.cum = self.paper_cum

        def text(n: int, share: float) -> str:
            words: list[str] = []
            while len(words) < n:
                if rng.random() < 0.01:
                    words.extend(rng.choice(PHRASES).split())
                elif rng.random() < share:
                    words.append(self.term())
                else:
                    words.append(rng.choice(FILLER))
            return " ".join(words)

        return Paper(
            id=f"2608.{i:05d}",
            title=text(rng.randint(6, 14), 0.6).title(),
            abstract=text(rng.randint(150, 250), 0.3) + ".",
            authors=tuple(rng.sample(self.names, rng.randint(2, 8))),
            categories=tuple(rng.sample(CATEGORIES, rng.randint(1, 3))),
            ai_keywords=tuple(self.term() for _ in range(rng.randint(3, 6))),
        )

    def query_text(self) -> str:
        """One realistic subscription: mostly 1-2 topical terms, some operators and fields."""
        rng, t = self.rng, self.term
        kind = rng.random()
        if kind < 0.40:
            return t()
        if kind < 0.55:
            return " ".join(t() for _ in range(rng.randint(2, 4)))
        if kind < 0.65:
            return f'"{rng.choice(PHRASES)}"'
        if kind < 0.73:
            return " OR ".join(t() for _ in range(rng.randint(2, 3)))
        if kind < 0.80:
            return f"{t()} -{t()}"
        if kind < 0.85:
            return f"{t()[:5]}*" if len(t()) > 4 else t()
        if kind < 0.90:
            field = rng.choice(["title:", "author:", "cat:"])
            if field == "author:":
                return f'author:"{rng.choice(self.names)}"'
            if field == "cat:":
                return f"cat:{rng.choice(CATEGORIES)} {t()}"
            return f"title:{t()}"
        if kind < 0.95:
            return f'{t()} {t()}, "{rng.choice(PHRASES)}"'
        return f"({t()} OR {t()}) {t()} NOT {t()}"

    def queries(self, n: int) -> list[Query]:
        """n parsed subscriptions (texts that fail to parse are redrawn)."""
        self.cum = self.sub_cum
        out: list[Query] = []
        while len(out) < n:
            try:
                out.append(parse(self.query_text()))
            except QueryError:
                continue
        return out


# name -> Corpus options. "realistic": on arXiv cs the most common topic word (LLM) is in roughly
# a quarter to a third of a day's papers and a typical topic in well under 1%; the heavy corpus
# puts its top ~15 terms in over half of all papers (llm ~70%, diffusion ~65%), which inflates the
# fan-out to ~104 matches per subscription. Two changes only, each for that reason: a larger
# vocabulary (real topical vocabularies run to tens of thousands of terms, so a synthetic tail
# term is rarer) and a flatter head (head=60: the top term lands in ~20-25% of papers). The
# subscription mix and everything else are unchanged. "heavy" is the original corpus, kept as the
# worst case (every subscriber of a head term gets most of the batch).
SCENARIOS = {
    "realistic": {"vocab_size": 30_000, "head": 60},
    "heavy": {"vocab_size": 6_000, "head": 10},
}


@contextmanager
def collector_time() -> Iterator[list[float]]:
    """Seconds the cyclic collector ran inside the block (in [0] on exit); it stays enabled."""
    spent, started = [0.0], [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(on_gc)
    try:
        yield spent
    finally:
        gc.callbacks.remove(on_gc)


def main() -> None:
    """Run the benchmark for each scenario and print labelled figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subs", type=int, default=100_000)
    ap.add_argument("--papers", type=int, default=2_000)
    ap.add_argument("--sample", type=int, default=1_000, help="subscriptions for brute force")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    args = ap.parse_args()
    for name, options in SCENARIOS.items():
        if args.scenario in (name, "all"):
            print(f"== scenario: {name} {options}")
            run(Corpus(args.seed, **options), args)


def run(corpus: Corpus, args: argparse.Namespace) -> None:
    """Generate one corpus, time build/tokenise/match against brute force, print the figures."""
    t0 = time.perf_counter()
    queries = corpus.queries(args.subs)
    papers = [corpus.paper(i) for i in range(args.papers)]
    subs = list(enumerate(queries))
    print(
        f"generated               {len(subs):,} subscriptions x {len(papers):,} papers "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    words = sum(len(p.abstract.split()) for p in papers) / len(papers)
    print(f"mean abstract length    {words:.0f} words")
    per_paper = sum(corpus.vocab[0] in p.abstract.lower().split() for p in papers) / len(papers)
    print(f"top term in abstracts   {per_paper:.0%} of papers ({corpus.vocab[0]!r})")

    t0 = time.perf_counter()
    matcher = SubscriptionMatcher(subs)
    build = time.perf_counter() - t0
    print(f"index build             {build:.3f} s  ({matcher.distinct_queries:,} distinct queries)")

    t0 = time.perf_counter()
    docs = [paper_document(p) for p in papers]
    tokenise = time.perf_counter() - t0
    print(f"tokenise papers         {tokenise:.3f} s  (paper_document, cacheable per paper)")

    with collector_time() as collecting:
        t0 = time.perf_counter()
        grouped = matcher.match_grouped(docs)
        match = time.perf_counter() - t0
    entries = sum(map(len, grouped.values()))
    pairs = sum(len(g.keys) for found in grouped.values() for g in found)
    print(
        f"match_grouped HEADLINE  {match:.3f} s  -> {len(grouped):,} papers matched, "
        f"{entries:,} (distinct query, paper) entries"
    )
    print(
        f"  of which GC passes    {collecting[0]:.3f} s  (the collector stays on; its full pass "
        "scans the whole heap: index, corpus and all)"
    )
    print(
        f"  = subscriber matches   {pairs:,} (subscription, paper), "
        f"{pairs / len(subs):.1f} per subscription"
    )
    del grouped  # so the match() timing below does not also carry it

    t0 = time.perf_counter()
    result = matcher.match(docs)
    expanded = time.perf_counter() - t0
    print(f"match() per-subscriber  {expanded:.3f} s  (match_grouped + expansion to pairs)")
    counts = sorted(Counter(k for found in result.values() for k, _ in found).values())
    median = counts[len(counts) // 2] if counts else 0
    print(
        f"per subscription        median {median} matches among matched; "
        f"{pairs / max(len(result), 1):,.0f} matched subscriptions per paper"
    )
    del result
    print(f"grouped + tokenising    {match + tokenise:.3f} s")
    print(f"total (build+tok+match) {build + tokenise + match:.3f} s")

    sample = subs[: args.sample]
    t0 = time.perf_counter()
    brute = reference_match(sample, docs)
    brute_s = time.perf_counter() - t0
    extrapolated = brute_s * len(subs) / len(sample)
    print(
        f"brute force sample      {brute_s:.3f} s for {len(sample):,} subs x {len(docs):,} papers"
    )
    print(f"brute force, all subs   {extrapolated:.1f} s (extrapolated)")

    print(f"ratio, match_grouped    {extrapolated / match:.0f}x faster than brute force")
    print(f"ratio, match()          {extrapolated / expanded:.0f}x faster than brute force")

    t0 = time.perf_counter()
    sample_matcher = SubscriptionMatcher(sample)
    sample_grouped = sample_matcher.match_grouped(docs)
    print(f"indexed, same sample    {time.perf_counter() - t0:.3f} s (build + match_grouped)")
    flat = {
        pid: [(k, g.match) for g in found for k in g.keys] for pid, found in sample_grouped.items()
    }
    assert flat == brute, "match_grouped disagrees with brute force on the sample"
    assert sample_matcher.match(docs) == brute, "match() disagrees with brute force on the sample"
    print("check                   match_grouped and match() == brute force on the sample: OK")


if __name__ == "__main__":
    main()
