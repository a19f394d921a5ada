"""The ops modules stay Discord-free (so `paperboy backup` & co. never load discord), and the
metrics the bot bumps itself: papers ingested and source failures per source."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from bot.ingest import IngestReport, SourceResult
from bot.ops.metrics import Metrics
from bot.store.ops_stats import OpsSnapshot


def test_cli_and_ops_modules_never_import_discord() -> None:
    code = (
        "import sys, bot.cli, bot.ops.commands, bot.ops.backup, bot.ops.transfer, "
        "bot.ops.health, bot.ops.metrics, bot.ops.doctor, bot.ops.dblock\n"
        "loaded = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "print(loaded)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render(OpsSnapshot(), None, datetime(2026, 11, 26, tzinfo=UTC)).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_ingest_reports_count_new_papers_and_failures_per_source() -> None:
    metrics = Metrics()
    metrics.record_ingest(
        IngestReport((SourceResult("hf", fetched=40, new=12), SourceResult("arxiv", error="503")))
    )
    metrics.record_ingest(IngestReport((SourceResult("hf", fetched=40, new=3),)))
    found = samples(metrics)
    assert found[("paperboy_papers_ingested_total", (("source", "hf"),))] == 15
    assert found[("paperboy_source_failures_total", (("source", "arxiv"),))] == 1
    assert ("paperboy_papers_ingested_total", (("source", "arxiv"),)) not in found
    # Two bots in one process (the tests) never share counts.
    assert ("paperboy_papers_ingested_total", (("source", "hf"),)) not in samples(Metrics())
