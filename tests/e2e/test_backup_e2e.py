"""`paperboy backup` while the bot posts a digest, `paperboy restore` refused while it runs and
accepted after, and the restored database finishing the digest without posting anything twice."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.discord.runner import run_bot
from bot.store import Store
from bot.store import deliveries as ledger
from tests.e2e.lab import running, seeded_lab
from tests.fakediscord import FakeDiscord

PAPERS = ["https://arxiv.org/abs/2611.00001", "https://arxiv.org/abs/2611.00002"]


def read_backup(copy: Path) -> list[tuple[str, str]]:
    """The copy's deliveries; it must be one self-contained file (no WAL beside it)."""
    assert not Path(f"{copy}-wal").exists()
    with closing(sqlite3.connect(copy)) as conn:
        return conn.execute("SELECT paper_id, state FROM deliveries ORDER BY paper_id").fetchall()


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))  # as from a shell, beside the bot


async def test_backup_during_a_digest_restores_every_delivery(
    discord_at_fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    monkeypatch.setenv("PAPERBOY_DB", str(lab.settings.db))
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "backup.db"
    # Slow posts, so the backup lands between the header and the papers in its thread.
    fake.delay_responses("POST", "/channels/{id}/messages", seconds=1.0, times=3)
    async with running(lab.settings, fake) as bot:
        assert bot.scheduler is not None
        digest = asyncio.create_task(bot.scheduler.run_feed_now(lab.channel.id))
        await fake.wait_for_message(lambda m: m.channel is lab.channel)
        assert await cli("backup", str(copy)) == 0
        assert "integrity ok" in capsys.readouterr().out
        assert (await digest).posted == 2
        # A running bot holds the database: restoring under it is refused, nothing changes.
        assert await cli("restore", str(copy)) == 2
        assert "in use by a running Paperboy" in capsys.readouterr().err
        sent = await bot.store.run(ledger.deliveries_to, f"channel:{lab.channel.id}")
        assert {d.state for d in sent} == {"sent"}

    # The copy is one self-contained file holding every delivery of the digest.
    backed_up = read_backup(copy)
    assert [p for p, _ in backed_up] == ["2611.00001", "2611.00002"]
    assert "pending" in {state for _, state in backed_up}  # taken mid-digest

    assert await cli("restore", str(copy)) == 0
    async with await Store.open(lab.settings.db) as store:
        restored = await store.run(ledger.deliveries_to, f"channel:{lab.channel.id}")
    assert sorted(d.paper_id for d in restored) == ["2611.00001", "2611.00002"]

    # The restored bot finishes whatever the backup had pending, without posting twice.
    async with running(lab.settings, fake) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(lab.channel.id)
    (header,) = fake.messages_in(lab.channel)
    assert header.thread is not None
    urls = [e["url"] for m in fake.messages_in(header.thread) for e in m.embeds]
    assert sorted(urls) == PAPERS


async def test_a_second_bot_on_the_same_database_refuses_to_start(
    discord_at_fake: FakeDiscord, tmp_path: Path, capsys
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path)
    async with running(lab.settings, fake):
        assert await run_bot(lab.settings) == 1
    assert "in use by a running Paperboy" in capsys.readouterr().err


def test_restore_refuses_a_file_that_is_not_a_paperboy_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "live.db"))
    (tmp_path / "notes.txt").write_text("hello")
    with closing(sqlite3.connect(tmp_path / "other.db")) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert main(["restore", str(tmp_path / "notes.txt")]) == 2
    assert "is not a readable SQLite database" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "other.db")]) == 2
    assert "not a Paperboy database" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.db")]) == 2
    assert "no database file at" in capsys.readouterr().err
    assert not (tmp_path / "live.db").exists()
    assert main(["backup", str(tmp_path / "b.db")]) == 1
    assert "no database at" in capsys.readouterr().err
