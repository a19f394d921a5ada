"""`paperboy export` / `paperboy import`: a community's setup moves to an empty database intact,
importing twice adds nothing, and a bad file changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from bot.store import dm_schedules as dm_repo
from bot.store import feeds as feeds_repo
from bot.store import transfer as repo
from bot.store.dm_schedules import DmSchedule
from tests.support import NOW, make_feed, subscribe

GUILD_A, GUILD_B = 1001, 2002


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env or paperboy.db from the checkout


async def seed(db: Path) -> None:
    async with await Store.open(db) as store:
        await make_feed(store, 11, guild_id=GUILD_A, tz="Asia/Tokyo", schedule="07:30")
        await make_feed(store, 12, guild_id=GUILD_A, days="weekdays")
        await make_feed(store, 21, guild_id=GUILD_B)
        await store.run(feeds_repo.update_feed, 12, sources="arxiv:cs.CL+cs.LG", paused=True)
        await subscribe(store, 11, "diffusion", guild_id=GUILD_A)
        await subscribe(store, 11, '"masked diffusion"', guild_id=GUILD_A)
        await subscribe(store, 21, "agents", guild_id=GUILD_B)
        await subscribe(store, 11, "llm quantiz*", user=501, guild_id=GUILD_A)
        await subscribe(store, 11, "rlhf", user=502, guild_id=GUILD_A, dm=True)
        await subscribe(store, 21, "vision", user=501, guild_id=GUILD_B)
        await subscribe(store, 21, "robots", user=503, guild_id=GUILD_B, dm=True)
        await store.run(
            dm_repo.save_schedule,
            502,
            DmSchedule("06:15", "Europe/Paris", "weekdays", paused=True),
            NOW,
        )
        await store.run(dm_repo.save_schedule, 503, DmSchedule("21:00", "UTC", "daily"), NOW)


def contents(db: Path, guild: int | None = None) -> dict[str, list[dict[str, object]]]:
    async def read() -> dict[str, list[dict[str, object]]]:
        async with await Store.open(db) as store:
            return await store.run(repo.export_rows, guild)

    return asyncio.run(read())


def use_db(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    monkeypatch.setenv("PAPERBOY_DB", str(db))


def test_export_then_import_into_an_empty_database_reproduces_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    old, new, file = tmp_path / "old.db", tmp_path / "new.db", tmp_path / "lab.json"
    asyncio.run(seed(old))
    use_db(monkeypatch, old)
    assert main(["export", str(file)]) == 0
    out = capsys.readouterr().out
    assert "3 feeds, 3 channel subscriptions, 4 personal subscriptions, 2 dm schedules" in out
    document = json.loads(file.read_text())
    assert document["version"] == 1

    use_db(monkeypatch, new)
    assert main(["import", str(file)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "feeds: 3 added, 0 skipped (already there)",
        "channel subscriptions: 3 added, 0 skipped (already there)",
        "personal subscriptions: 4 added, 0 skipped (already there)",
        "DM schedules: 2 added, 0 skipped (already there)",
    ]
    assert contents(new) == contents(old)
    feed = contents(new)["feeds"][1]
    assert (feed["days"], feed["sources"], feed["paused"]) == (
        "weekdays",
        "arxiv:cs.CL+cs.LG",
        True,
    )
    assert contents(new)["dm_schedules"][0] == {
        "user_id": 502,
        "schedule_time": "06:15",
        "timezone": "Europe/Paris",
        "days": "weekdays",
        "paused": True,
    }

    # Idempotent: the same file again adds nothing and duplicates nothing.
    assert main(["import", str(file)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "feeds: 0 added, 3 skipped (already there)"
    assert contents(new) == contents(old)


def test_export_of_one_guild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    old, file = tmp_path / "old.db", tmp_path / "b.json"
    asyncio.run(seed(old))
    use_db(monkeypatch, old)
    assert main(["export", str(file), "--guild", str(GUILD_B)]) == 0
    document = json.loads(file.read_text())
    assert [f["channel_id"] for f in document["feeds"]] == [21]
    assert [s["query"] for s in document["channel_subscriptions"]] == ["agents"]
    assert [s["query"] for s in document["personal_subscriptions"]] == ["vision", "robots"]
    # only the schedules of the server's members with a DM subscription there
    assert [s["user_id"] for s in document["dm_schedules"]] == [503]
    use_db(monkeypatch, tmp_path / "new.db")
    assert main(["import", str(file)]) == 0
    assert contents(tmp_path / "new.db") == contents(old, GUILD_B)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(version=9), "has export version 9"),
        (lambda d: d.pop("version"), "not a Paperboy export"),
        (lambda d: d["feeds"][0].update(timezone="Mars/Base"), "feeds[0]: Mars/Base is not a"),
        (lambda d: d["feeds"][1].update(sources="rss"), "feeds[1]: Unknown source rss"),
        (
            lambda d: d["channel_subscriptions"][2].update(query='"unclosed'),
            "channel_subscriptions[2]: unclosed quote",
        ),
        (lambda d: d["personal_subscriptions"][0].pop("user_id"), "missing 'user_id'"),
        (lambda d: d["dm_schedules"][0].update(days="weekly:mon"), "dm_schedules[0]: days must"),
        (lambda d: d["dm_schedules"][1].update(schedule_time="25:00"), "dm_schedules[1]:"),
    ],
)
def test_a_bad_export_is_refused_in_one_line_and_nothing_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, change, expected: str
) -> None:
    old, file = tmp_path / "old.db", tmp_path / "x.json"
    asyncio.run(seed(old))
    use_db(monkeypatch, old)
    assert main(["export", str(file)]) == 0
    document = json.loads(file.read_text())
    change(document)
    file.write_text(json.dumps(document))
    capsys.readouterr()
    use_db(monkeypatch, tmp_path / "new.db")
    assert main(["import", str(file)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err
    assert not (tmp_path / "new.db").exists()
