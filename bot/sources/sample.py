"""The sample day shipped with Paperboy, for `--sample` previews and ingests without network."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

from bot.models import Paper
from bot.sources.arxiv import parse_rss, select_papers
from bot.sources.huggingface import parse_daily_papers

SAMPLE_DAY = date(2025, 8, 5)
HF_SAMPLE = "hf-daily-sample.json"
ARXIV_SAMPLE = "arxiv-sample.xml"


def load_sample_day() -> tuple[date, list[Paper]]:
    """The sample day and its papers (HF list + arXiv listing through the real parsers), merged."""
    data = resources.files("bot").joinpath("sample_data")
    hf = parse_daily_papers(
        json.loads(data.joinpath(HF_SAMPLE).read_text(encoding="utf-8")), hf_date=SAMPLE_DAY
    )
    # The same selection as a default ArxivSource: new submissions and cross-lists only.
    arxiv = select_papers(parse_rss(data.joinpath(ARXIV_SAMPLE).read_bytes()))
    papers: dict[str, Paper] = {}
    for paper in [*hf, *arxiv]:
        seen = papers.get(paper.id)
        papers[paper.id] = seen.merged_with(paper) if seen else paper
    return SAMPLE_DAY, list(papers.values())
