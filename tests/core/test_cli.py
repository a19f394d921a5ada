"""The `paperboy` command end to end on the bundled sample day, offline."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from bot.cli import main
from bot.sources.sample import load_sample_day


@pytest.fixture(autouse=True)
def db_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("PAPERBOY_DB", str(db))
    monkeypatch.chdir(tmp_path)  # no stray .env or paperboy.db from the checkout
    return db


def test_preview_sample_shows_matching_papers_with_links_and_reasons(capsys) -> None:
    assert main(["preview", "--sample", "diffusion"]) == 0
    out = capsys.readouterr().out
    _, papers = load_sample_day()
    expected = [p for p in papers if "diffusion" in (p.title + p.abstract).lower()]
    assert expected, "the sample day should contain diffusion papers"
    assert f"{len(expected)} of {len(papers)} papers match" in out
    for paper in expected:
        assert paper.abs_url in out
    assert "TL;DR:" in out and "Matched: diffusion" in out


def test_preview_no_match_suggests_broader_query(capsys) -> None:
    assert main(["preview", "--sample", "superconductivity"]) == 0
    assert "Nothing matched" in capsys.readouterr().out


def test_invalid_query_is_one_line_and_exit_2(capsys) -> None:
    assert main(["preview", "--sample", '"unclosed']) == 2
    err = capsys.readouterr().err
    assert err.startswith("paperboy: invalid query: unclosed quote at column 1")
    assert err.count("\n") == 1


def test_ingest_sample_then_search(capsys, db_in_tmp: Path) -> None:
    assert main(["ingest", "--sample"]) == 0
    capsys.readouterr()
    assert db_in_tmp.exists()
    assert main(["search", "masked diffusion", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "https://arxiv.org/abs/" in out
    assert "*" in out  # matched words emphasised (plain-text style when not a terminal)
    # the same ingest again adds nothing new and duplicates nothing
    assert main(["ingest", "--sample"]) == 0


def test_search_empty_store_says_so(capsys) -> None:
    assert main(["search", "diffusion"]) == 0
    assert "No stored paper matches" in capsys.readouterr().out


def test_console_script_runs_as_a_new_user_would(tmp_path: Path) -> None:
    env = {**os.environ, "PAPERBOY_DB": str(tmp_path / "sub.db")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "paperboy"), "preview", "--sample", "diffusion"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "https://arxiv.org/abs/" in result.stdout


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_file_that_is_not_a_database_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], db_in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_in_tmp.write_bytes(b"this is not SQLite " * 500)
    err = _one_line_exit_2(["search", "diffusion"], capsys)
    assert err.startswith(f"paperboy: {db_in_tmp} cannot be used as Paperboy's database: ")
    monkeypatch.setenv("PAPERBOY_DISCORD_TOKEN", "not-a-real-token")
    assert "cannot be used" in _one_line_exit_2(["run"], capsys)
    assert db_in_tmp.read_bytes() == b"this is not SQLite " * 500  # nothing changed


def test_an_unreadable_path_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], db_in_tmp: Path
) -> None:
    db_in_tmp.mkdir()  # a directory where the file should be
    assert "cannot be used" in _one_line_exit_2(["search", "diffusion"], capsys)


def test_a_database_from_a_newer_paperboy_is_refused(
    capsys: pytest.CaptureFixture[str], db_in_tmp: Path
) -> None:
    assert main(["ingest", "--sample"]) == 0
    capsys.readouterr()
    db = sqlite_utils.Database(db_in_tmp)
    db["_sqlite_migrations"].insert(
        {"migration_set": "paperboy", "name": "9999_from_the_future", "applied_at": "2099"}
    )
    db.close()
    err = _one_line_exit_2(["search", "diffusion"], capsys)
    assert err == (
        f"paperboy: {db_in_tmp} was written by a newer Paperboy (schema 9999_from_the_future):"
        " upgrade Paperboy, or point PAPERBOY_DB at another file\n"
    )


def test_a_corrupted_page_fails_the_startup_integrity_check(
    capsys: pytest.CaptureFixture[str], db_in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ingest", "--sample"]) == 0
    capsys.readouterr()
    db = sqlite_utils.Database(db_in_tmp)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    # an index page: nothing reads it at start-up, so only the integrity check can notice
    (page,) = db.execute("SELECT pageno FROM dbstat WHERE name = 'papers_published'").fetchone()
    db.close()
    data = bytearray(db_in_tmp.read_bytes())
    start = (page - 1) * page_size
    data[start + 8 : start + page_size] = b"\x7f" * (page_size - 8)  # cells point nowhere
    db_in_tmp.write_bytes(bytes(data))
    assert main(["search", "diffusion"]) == 0  # commands that don't check still work
    capsys.readouterr()
    monkeypatch.setenv("PAPERBOY_DISCORD_TOKEN", "not-a-real-token")
    err = _one_line_exit_2(["run"], capsys)
    assert err.startswith(f"paperboy: {db_in_tmp} failed its integrity check (")
    assert err.endswith("restore a backup\n") and len(err) < 400


@pytest.mark.parametrize("fresh", [True, False], ids=["migrating", "writing"])
def test_a_database_locked_past_the_busy_timeout_is_one_line(
    capsys, db_in_tmp: Path, monkeypatch: pytest.MonkeyPatch, fresh: bool
) -> None:
    if not fresh:
        assert main(["ingest", "--sample"]) == 0  # migrated: only the ingest's write waits
        capsys.readouterr()
    else:
        sqlite_utils.Database(db_in_tmp).execute("PRAGMA journal_mode=wal")
    monkeypatch.setenv("PAPERBOY_DB_BUSY_TIMEOUT", "0.2")
    other = sqlite3.connect(db_in_tmp, isolation_level=None)  # another process's writer
    other.execute("BEGIN IMMEDIATE")
    try:
        assert main(["ingest", "--sample"]) == 1  # worth a retry (cron runs it again)
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err
    assert err == (
        f"paperboy: {db_in_tmp} is locked by another process (waited 0.2 s):"
        " try again, or raise PAPERBOY_DB_BUSY_TIMEOUT\n"
    )


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_busy_timeout_is_one_line_and_exit_2(
    capsys, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PAPERBOY_DB_BUSY_TIMEOUT", value)
    assert main(["ingest", "--sample"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("paperboy: PAPERBOY_DB_BUSY_TIMEOUT: ") and err.count("\n") == 1
