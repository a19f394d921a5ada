"""The README is a contract: every setting is documented, and its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    documented = set(re.findall(r"^\| `PAPERBOY_([A-Z_]+)` \|", README, re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from the README"
    assert documented - fields == set(), "README documents settings that do not exist"


def test_documented_defaults_match_the_code() -> None:
    for name, default in re.findall(r"^\| `PAPERBOY_([A-Z_]+)` \| `([^`]*)` \|", README, re.M):
        actual = Settings.model_fields[name.lower()].default
        shown = str(actual).lower() if isinstance(actual, bool) else str(actual)
        assert shown == default, f"PAPERBOY_{name}: README says {default}, code says {shown}"


def test_quickstart_commands_are_the_makefile_targets() -> None:
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert "make run" in README and "make test" in README
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    assert "make test" in ci


def test_cli_commands_in_readme_exist(capsys: pytest.CaptureFixture[str]) -> None:
    used = set(re.findall(r"paperboy (\w+)", README))
    assert used
    for command in used:  # `paperboy COMMAND --help` answers (exit 0); an unknown one exits 2
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args([command, "--help"])
        assert exited.value.code == 0, f"README uses `paperboy {command}`, which does not exist"
    capsys.readouterr()
