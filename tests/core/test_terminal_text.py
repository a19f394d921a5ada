"""The command line's preview text: a readable date and a follow-up command that runs as shown."""

from __future__ import annotations

import shlex
from datetime import date

from bot.query import parse
from bot.sources.sample import load_sample_day
from bot.terminal import Style, render_digest

PLAIN = Style(bold=("", ""), dim=("", ""))


def test_preview_header_dates_like_the_digest() -> None:
    _, papers = load_sample_day()
    text = render_digest(parse("diffusion"), papers, date(2025, 8, 5), style=PLAIN, cap=25)
    assert text.startswith("5 Aug 2025 · diffusion · ")


def test_overflow_hint_is_a_command_the_shell_runs_as_written() -> None:
    _, papers = load_sample_day()
    query = parse('"language models" OR model')
    text = render_digest(query, papers, date(2025, 8, 5), style=PLAIN, cap=1)
    (hint,) = [line for line in text.splitlines() if line.startswith("+")]
    command = hint.split("`")[1]
    assert shlex.split(command) == ["paperboy", "search", query.normal]
