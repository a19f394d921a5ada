"""Daily DM digests against a recording poster: batching, exactly once, window, closed DMs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.background import in_background
from bot.config import Settings
from bot.delivery.dms import DmDigester
from bot.delivery.messages import MessageSpec
from bot.delivery.posting import DmClosed, Unavailable
from bot.store import Store, dm_runs
from bot.store import deliveries as ledger
from bot.store import papers as papers_repo
from bot.store.rows import rows
from tests.delivery.support import RecordingPoster
from tests.support import FakeClock, paper, subscribe

ALICE, BOB = 42, 43


class Crash(BaseException):
    """Stands in for the process dying mid-digest (not an Exception: nothing may catch it)."""


def digester(store: Store, poster: RecordingPoster, clock: FakeClock) -> DmDigester:
    return DmDigester(store, poster, Settings(digest_cap=25), clock=clock)


async def add_papers(store: Store, clock: FakeClock, *papers, hours_ago: float = 2) -> None:
    await store.run(papers_repo.upsert_papers, list(papers), clock.now - timedelta(hours=hours_ago))


def dm_papers(poster: RecordingPoster, user_id: int) -> list[str]:
    return [pid for uid, spec in poster.dms if uid == user_id for pid in spec.paper_ids]


class HeldDms(RecordingPoster):
    """A poster holding every DM until `release` is set, noting whose DMs are in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: set[int] = set()
        self.changed = asyncio.Condition()
        self.release = asyncio.Event()

    async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
        async with self.changed:
            self.waiting.add(user_id)
            self.changed.notify_all()
        await self.release.wait()
        return await super().send_dm(user_id, spec)

    async def in_flight(self, store: Store, run: asyncio.Task[Any], count: int) -> None:
        """Wait until `count` members' DMs are held, then check that no more ever start."""
        async with asyncio.timeout(20), self.changed:
            await self.changed.wait_for(lambda: len(self.waiting) == count)
        for _ in range(20):  # any member the bound failed to hold back would be waiting by now
            await store.run(lambda db: None)
        assert len(self.waiting) == count and not run.done()


async def test_one_dm_per_user_with_only_their_matches_and_nothing_twice(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await subscribe(store, 1, "agents", user=BOB, dm=True)
    await subscribe(store, 1, "optics", user=BOB)  # a channel subscription: not for DMs
    await add_papers(
        store, clock,
        paper("2611.00001", "Diffusion models", upvotes=9),
        paper("2611.00002", "Tool agents"),
        paper("2611.00003", "Optics of diffusion"),
        paper("2611.00004", "Optics"),
    )  # fmt: skip
    poster = RecordingPoster()
    reports = await digester(store, poster, clock).run_all()
    assert {r.user_id: r.posted for r in reports} == {ALICE: 2, BOB: 1}
    assert [uid for uid, _ in poster.dms] == [ALICE, BOB]  # one DM each
    assert dm_papers(poster, ALICE) == ["2611.00001", "2611.00003"]
    assert dm_papers(poster, BOB) == ["2611.00002"]
    (_, spec), _ = poster.dms
    assert spec.content.startswith("📰 Your papers · 26 Nov 2026 — 2 new papers")
    assert spec.mention_user_ids == () and spec.nonce
    assert [e["title"] for e in spec.embeds] == ["Diffusion models", "Optics of diffusion"]
    sent = await store.run(ledger.deliveries_to, f"dm:{ALICE}")
    assert {(d.paper_id, d.state) for d in sent} == {("2611.00001", "sent"), ("2611.00003", "sent")}

    clock.advance(hours=1)
    again = await digester(store, poster, clock).run_all()
    assert sum(r.messages for r in again) == 0 and len(poster.dms) == 2


async def test_more_than_five_matches_are_split_into_several_dms(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, *(paper(f"2611.{i:05d}", f"Diffusion {i}") for i in range(23)))
    poster = RecordingPoster()
    (report,) = await digester(store, poster, clock).run_all()
    assert (report.posted, report.messages) == (23, 5)  # 5 papers a DM: a button row each
    assert [len(spec.embeds) for _, spec in poster.dms] == [5, 5, 5, 5, 3]
    assert poster.dms[0][1].content.endswith("(1/5)")
    assert len({spec.nonce for _, spec in poster.dms}) == 5
    assert sorted(dm_papers(poster, ALICE)) == [f"2611.{i:05d}" for i in range(23)]


async def test_window_is_since_the_last_run_and_never_more_than_three_days(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion old"), hours_ago=30)
    await add_papers(store, clock, paper("2611.00002", "Diffusion new"), hours_ago=2)
    poster = RecordingPoster()
    await digester(store, poster, clock).run_all()
    assert dm_papers(poster, ALICE) == ["2611.00002"]  # first run: last 24 h only
    clock.advance(days=5)
    await add_papers(store, clock, paper("2611.00003", "Diffusion week"), hours_ago=24 * 4)
    await add_papers(store, clock, paper("2611.00004", "Diffusion today"), hours_ago=1)
    await digester(store, poster, clock).run_all()
    assert dm_papers(poster, ALICE) == ["2611.00002", "2611.00004"]
    last = await store.run(dm_runs.last_dm_run, ALICE)
    assert last is not None and last.state == "done" and last.posted == 1


async def test_closed_dms_are_recorded_once_and_not_retried_every_day(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    poster = RecordingPoster(fail_dms={ALICE: DmClosed("DMs closed (code 50007)")})
    (report,) = await digester(store, poster, clock).run_all()
    assert report.closed and report.posted == 0
    status = await store.run(rows, "SELECT * FROM dm_status WHERE user_id = ?", [ALICE])
    assert status[0]["closed_at"] and status[0]["told_user"] == 0
    (failed,) = await store.run(ledger.deliveries_to, f"dm:{ALICE}")
    assert failed.state == "failed" and failed.attempts >= ledger.MAX_ATTEMPTS

    calls: list[int] = []
    original = poster.send_dm

    async def counting(user_id: int, spec: MessageSpec) -> int:
        calls.append(user_id)
        return await original(user_id, spec)

    poster.send_dm = counting  # type: ignore[method-assign]
    clock.advance(days=1)
    await add_papers(store, clock, paper("2611.00002", "Diffusion two"))
    (report,) = await digester(store, poster, clock).run_all()
    assert report.closed and calls == []  # not knocked again the next day
    poster.fail_dms.clear()
    clock.advance(days=7)  # after a week it tries again, and reopened DMs clear the status
    await add_papers(store, clock, paper("2611.00003", "Diffusion three"))
    (report,) = await digester(store, poster, clock).run_all()
    assert calls == [ALICE] and report.posted >= 1
    status = await store.run(rows, "SELECT * FROM dm_status WHERE user_id = ?", [ALICE])
    assert status[0]["closed_at"] is None


async def test_unavailable_dm_is_retried_next_run(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    poster = RecordingPoster(fail_dms={ALICE: Unavailable("503")})
    await digester(store, poster, clock).run_all()
    (row,) = await store.run(ledger.deliveries_to, f"dm:{ALICE}")
    assert (row.state, row.attempts) == ("pending", 1)  # in its digest, which stays open
    assert len(await store.run(ledger.open_dm_digests)) == 1
    poster.fail_dms.clear()
    clock.advance(days=1)
    await digester(store, poster, clock).run_all()
    assert dm_papers(poster, ALICE) == ["2611.00001"]
    assert await store.run(ledger.open_dm_digests) == []


async def test_crash_between_send_and_mark_sent_is_found_in_history_not_resent(
    store, clock
) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, *(paper(f"2611.{i:05d}", f"Diffusion {i}") for i in range(8)))
    poster = RecordingPoster()
    original = poster.send_dm
    calls = 0

    async def crash_on_second(user_id: int, spec: MessageSpec) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            await original(user_id, spec)  # it got through, but the process died before marking
            raise Crash
        return await original(user_id, spec)

    poster.send_dm = crash_on_second  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await digester(store, poster, clock).run_all()
    poster.send_dm = original  # type: ignore[method-assign]
    clock.advance(minutes=5)
    await digester(store, poster, clock).run_all()
    # The attempt was recorded before the send, so the restart looked for the second DM in
    # their DM history and found it: nothing re-sent (nonce dedupe lasts minutes only).
    nonces = [spec.nonce for _, spec in poster.dms]
    assert len(nonces) == 2 and len(set(nonces)) == 2
    assert sorted(dm_papers(poster, ALICE)) == [f"2611.{i:05d}" for i in range(8)]
    states = {d.state for d in await store.run(ledger.deliveries_to, f"dm:{ALICE}")}
    assert states == {"sent"}


async def test_a_dm_created_before_its_error_is_found_in_history_not_resent(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, *(paper(f"2611.{i:05d}", f"Diffusion {i}") for i in range(8)))
    # The first DM (10 papers) is created but the answer is a 503: the digest stops there.
    poster = RecordingPoster(lose_dms=[Unavailable("503 Service Unavailable")])
    (first,) = await digester(store, poster, clock).run_all()
    assert (first.posted, first.messages) == (0, 0)
    pending = await store.run(ledger.deliveries_to, f"dm:{ALICE}")
    assert {(d.state, d.attempts) for d in pending} == {("pending", 1), ("pending", 0)}
    clock.advance(days=1)
    await digester(store, poster, clock).run_all()
    assert len(poster.dms) == 2  # the lost DM was found in their DMs, only the second was sent
    assert sorted(dm_papers(poster, ALICE)) == [f"2611.{i:05d}" for i in range(8)]
    final = await store.run(ledger.deliveries_to, f"dm:{ALICE}")
    assert {d.state for d in final} == {"sent"}
    assert {d.message_id for d in final} == set(poster.dm_ids)
    assert await store.run(ledger.open_dm_digests) == []


async def test_five_unknown_dm_outcomes_give_up_and_close_the_digest(store, clock, caplog) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    poster = RecordingPoster(fail_dms={ALICE: Unavailable("502 Bad Gateway")})
    for _ in range(ledger.MAX_ATTEMPTS):  # twice a day: all five tries fit in the 3 days
        await digester(store, poster, clock).run_all()
        clock.advance(hours=12)
    (row,) = await store.run(ledger.deliveries_to, f"dm:{ALICE}")
    assert (row.state, row.attempts) == ("failed", ledger.MAX_ATTEMPTS)
    assert await store.run(ledger.open_dm_digests) == []
    assert f"to dm:{ALICE} after 5 attempts" in caplog.text and "Gave up delivering" in caplog.text


async def test_members_are_sent_to_several_at_once_within_the_setting(store, clock) -> None:
    members = list(range(100, 106))
    for member in members:
        await subscribe(store, 1, "diffusion", user=member, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion models"))
    poster = HeldDms()
    dms = DmDigester(store, poster, Settings(delivery_concurrency=3), clock=clock)
    run = asyncio.create_task(dms.run_all())
    await poster.in_flight(store, run, 3)  # three members' DMs in flight, no more
    poster.release.set()
    async with asyncio.timeout(20):
        reports = await run
    assert [r.user_id for r in reports] == members  # one report per member, in their order
    assert sorted(uid for uid, _ in poster.dms) == members  # each got exactly one DM


async def test_a_match_prepared_after_ingest_serves_the_run_until_something_changes(
    store, clock
) -> None:
    """prepare() (after each ingest) matches every DM member once; the run cuts its digests
    from it, and a paper or subscription written after it makes the run match again."""
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await subscribe(store, 1, "agents", user=BOB, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion models"))
    poster = RecordingPoster()
    dms = digester(store, poster, clock)
    await dms.prepare()
    prepared = dms._last_batch
    assert prepared is not None and prepared.members == {ALICE, BOB}

    await add_papers(store, clock, paper("2611.00002", "Tool agents"))  # after the prepare
    clock.advance(minutes=5)
    reports = await dms.run_users([BOB])
    assert dms._last_batch is not prepared  # stale: matched again
    assert [r.posted for r in reports] == [1] and dm_papers(poster, BOB) == ["2611.00002"]

    await dms.prepare()
    prepared = dms._last_batch
    reports = await dms.run_users([ALICE])
    assert dms._last_batch is prepared  # nothing changed: cut from the prepared match
    assert dm_papers(poster, ALICE) == ["2611.00001"]


async def test_preparing_again_with_nothing_new_keeps_the_match(store, clock) -> None:
    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion models"))
    dms = digester(store, RecordingPoster(), clock)
    await dms.prepare()
    prepared = dms._last_batch
    await dms.prepare()  # a poll that stored nothing
    assert dms._last_batch is prepared
    await subscribe(store, 1, "agents", user=BOB, dm=True)
    await dms.prepare()
    assert dms._last_batch is not prepared and dms._last_batch.members == {ALICE, BOB}


async def test_dm_digests_ask_discord_as_background_work(store, clock) -> None:
    """Their DMs wait behind members' commands at the REST pacer (bot/discord/pacing.py)."""

    marks: list[bool] = []

    class Marking(RecordingPoster):
        async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
            marks.append(in_background())
            return await super().send_dm(user_id, spec)

    await subscribe(store, 1, "diffusion", user=ALICE, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion for text"))
    poster = Marking()
    await digester(store, poster, clock).run_all()
    assert marks == [True]
    assert not in_background()


async def test_interrupted_dm_digests_resume_several_members_at_once(store, clock) -> None:
    members = list(range(100, 106))
    for member in members:
        await subscribe(store, 1, "diffusion", user=member, dm=True)
    await add_papers(store, clock, paper("2611.00001", "Diffusion models"))

    class Crashing(RecordingPoster):
        async def send_dm(self, user_id: int, spec: MessageSpec) -> int:
            raise Crash  # the process dies as each DM goes out

    with pytest.raises(Crash):
        await digester(store, Crashing(), clock).run_all()
    assert len(await store.run(ledger.open_dm_digests)) == len(members)

    poster = HeldDms()
    clock.advance(minutes=5)
    dms = DmDigester(store, poster, Settings(delivery_concurrency=3), clock=clock)
    run = asyncio.create_task(dms.run_all())
    await poster.in_flight(store, run, 3)  # three resumed digests at once (one by one: never)
    poster.release.set()
    async with asyncio.timeout(20):
        await run
    assert sorted(uid for uid, _ in poster.dms) == members  # each got its DM exactly once
    assert await store.run(ledger.open_dm_digests) == []
