"""The delivery engine against a recording poster: ledger, resume, faults (Discord-free)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from bot.background import in_background
from bot.config import Settings
from bot.delivery.channels import FORBIDDEN_REASON, THREAD_REFUSED_NOTE, feed_notes
from bot.delivery.engine import DeliveryEngine
from bot.delivery.messages import MessageSpec
from bot.delivery.posting import Blocked, Forbidden, NotFound, Rejected, Unavailable
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import feeds as feeds_repo
from bot.store import papers as papers_repo
from bot.store.migrations import failed_deliveries_resume_in_place
from tests.delivery.support import RecordingPoster
from tests.support import FakeClock, make_feed, paper, subscribe

CHANNEL = 500


class Crash(BaseException):
    """Stands in for the process dying mid-digest (not an Exception: nothing may catch it)."""


@pytest.fixture(autouse=True)
async def feed(store: Store) -> None:
    """Every test here delivers to one feed, in channel CHANNEL."""
    await make_feed(store, CHANNEL)


def engine(
    store: Store, poster: RecordingPoster, clock: FakeClock, cap: int = 25
) -> DeliveryEngine:
    return DeliveryEngine(store, poster, Settings(digest_cap=cap), clock=clock)


async def add_papers(store: Store, clock: FakeClock, *papers) -> None:
    await store.run(papers_repo.upsert_papers, list(papers), clock.now)


async def test_digest_header_thread_and_one_message_per_paper_in_rank_order(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await subscribe(store, CHANNEL, "agents", user=42)
    await subscribe(store, CHANNEL, "diffusion", user=43)
    clock.advance(hours=-2)
    await add_papers(
        store, clock,
        paper("2611.00001", "Diffusion for text", upvotes=5),
        paper("2611.00002", "Diffusion agents", upvotes=1),
        paper("2611.00003", "Unrelated optics", upvotes=99),
    )  # fmt: skip
    clock.advance(hours=2)
    poster = RecordingPoster()
    report = await engine(store, poster, clock).run_feed(CHANNEL)

    assert (report.posted, report.matched, report.listed, report.reason) == (2, 2, 3, None)
    header = poster.in_channel(CHANNEL)
    assert len(header) == 1
    assert header[0].spec.content.startswith("📰 **Papers · 26 Nov 2026** — 2 new papers")
    thread_id = header[0].message_id
    assert poster.threads[thread_id] == (CHANNEL, "Papers · 26 Nov 2026")
    in_thread = poster.in_channel(thread_id)
    # "Diffusion agents" matches three subscriptions: it ranks first despite fewer upvotes.
    assert [m.spec.paper_ids for m in in_thread] == [("2611.00002",), ("2611.00001",)]
    assert in_thread[0].spec.mention_user_ids == (42, 43)
    assert in_thread[0].spec.content == "<@42> <@43>"
    assert in_thread[1].spec.mention_user_ids == (43,)
    rows = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert {(r.paper_id, r.state, r.thread_id) for r in rows} == {
        ("2611.00001", "sent", thread_id),
        ("2611.00002", "sent", thread_id),
    }
    run = await store.run(feeds_repo.last_run, CHANNEL)
    assert run is not None and (run.state, run.posted, run.matched, run.listed) == ("done", 2, 2, 3)


async def test_cap_leaves_an_overflow_line(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, *[paper(f"2611.0000{i}", f"Diffusion {i}") for i in range(1, 5)])
    poster = RecordingPoster()
    report = await engine(store, poster, clock, cap=3).run_feed(CHANNEL)
    assert (report.posted, report.matched) == (3, 4)
    header = poster.in_channel(CHANNEL)[0].spec.content
    assert "4 new papers (the top 3 below)" in header
    assert header.endswith("+1 more matched — /search finds them")


async def test_second_run_and_hf_arxiv_copies_post_nothing_twice(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion", sources=("hf",)))
    poster = RecordingPoster()
    first = await engine(store, poster, clock).run_feed(CHANNEL)
    assert first.posted == 1
    clock.advance(hours=12)
    # arXiv announces the same paper later; a new paper arrives too.
    await add_papers(
        store, clock,
        paper("2611.00001", "Diffusion", sources=("arxiv",)),
        paper("2611.00009", "More diffusion", sources=("arxiv",)),
    )  # fmt: skip
    clock.advance(hours=12)
    second = await engine(store, poster, clock).run_feed(CHANNEL)
    assert second.posted == 1
    posted = [m.spec.paper_ids for m in poster.sent if m.spec.paper_ids]
    assert posted == [("2611.00001",), ("2611.00009",)]
    clock.advance(hours=24)
    third = await engine(store, poster, clock).run_feed(CHANNEL)
    assert third.posted == 0 and third.reason
    assert len(poster.sent) == 4  # two headers, two papers


@pytest.mark.parametrize("accepted_before_crash", [False, True])
async def test_crash_mid_digest_resumes_in_the_same_thread_exactly_once(
    store, clock, accepted_before_crash
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, *[paper(f"2611.0000{i}", f"Diffusion {i}") for i in range(1, 4)])
    discord = RecordingPoster()

    class Crashing(RecordingPoster):
        calls = 0

        async def send(self, channel_id, spec):
            self.calls += 1
            if self.calls == 3:  # header, first paper, then die on the second paper
                if accepted_before_crash:  # Discord created it, we died before marking it sent
                    await discord.send(channel_id, spec)
                raise Crash

            return await discord.send(channel_id, spec)

        async def start_thread(self, channel_id, message_id, name):
            return await discord.start_thread(channel_id, message_id, name)

    with pytest.raises(Crash):
        await engine(store, Crashing(), clock).run_feed(CHANNEL)
    # "Restart": a new store and engine on the same file, Discord (with its nonces) unchanged.
    await store.close()
    clock.advance(minutes=5)
    store2 = await Store.open(store.path, clock=clock)
    try:
        report = await engine(store2, discord, clock).run_feed(CHANNEL)
        thread_id = next(iter(discord.threads))
        assert len(discord.threads) == 1
        assert len(discord.in_channel(CHANNEL)) == 1  # one header
        papers = sorted(p for m in discord.in_channel(thread_id) for p in m.spec.paper_ids)
        assert papers == ["2611.00001", "2611.00002", "2611.00003"]
        rows = await store2.run(ledger.deliveries_to, f"channel:{CHANNEL}")
        assert {r.state for r in rows} == {"sent"}
        assert report.posted == 2
        last = await store2.run(feeds_repo.last_run, CHANNEL, finished=True)
        assert last is not None
    finally:
        await store2.close()


async def test_403_pauses_the_feed_and_tells_its_creator_once(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    changed: list[int] = []
    poster = RecordingPoster(fail_sends=[Forbidden("403 Missing Permissions")])
    eng = engine(store, poster, clock)
    eng.changes.listen(changed.append)
    report = await eng.run_feed(CHANNEL)
    assert report.reason == FORBIDDEN_REASON and report.posted == 0
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and feed.paused and feed.pause_reason == FORBIDDEN_REASON
    assert changed == [CHANNEL]
    assert [uid for uid, _ in poster.dms] == [7]
    assert FORBIDDEN_REASON in poster.dms[0][1].content
    again = await eng.run_feed(CHANNEL)
    assert again.reason and "paused" in again.reason
    assert len(poster.dms) == 1
    # /feed resume: the pending digest goes out, in full, on the next run.
    await store.run(feeds_repo.update_feed, CHANNEL, paused=False, pause_reason=None)
    resumed = await eng.run_feed(CHANNEL)
    assert resumed.posted == 1
    assert [m.spec.paper_ids for m in poster.sent if m.spec.paper_ids] == [("2611.00001",)]


async def test_channel_gone_disables_the_feed(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    poster = RecordingPoster(kinds={CHANNEL: None})
    changed: list[int] = []
    eng = engine(store, poster, clock)
    eng.changes.listen(changed.append)
    report = await eng.run_feed(CHANNEL)
    assert report.posted == 0 and report.reason and "gone" in report.reason
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and feed.disabled
    assert changed == [CHANNEL] and poster.sent == []


async def test_thread_refused_falls_back_to_plain_messages_and_notes_it(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(
        store, clock, paper("2611.00001", "Diffusion"), paper("2611.00002", "Diffusion 2")
    )
    poster = RecordingPoster(fail_threads=Forbidden("403 on thread"))
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 2
    assert len(poster.in_channel(CHANNEL)) == 3 and poster.threads == {}
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and feed.threads_refused and not feed.paused
    assert feed_notes(feed) == THREAD_REFUSED_NOTE


async def two_papers(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(
        store,
        clock,
        paper("2611.00001", "Diffusion", upvotes=2),
        paper("2611.00002", "Diffusion 2"),
    )


def papers_in(poster: RecordingPoster, target: int) -> list[str]:
    return [p for m in poster.in_channel(target) for p in m.spec.paper_ids]


async def test_a_message_created_before_its_error_is_found_in_history_not_resent(
    store, clock
) -> None:
    await two_papers(store, clock)
    # Header fine; Discord creates paper 1's message, then the bot gets a 503 back.
    poster = RecordingPoster(lose_sends=[None, Unavailable("503 Service Unavailable")])
    first = await engine(store, poster, clock).run_feed(CHANNEL)
    assert first.posted == 0
    rows = {r.paper_id: r for r in await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")}
    assert rows["2611.00001"].state == "pending" and rows["2611.00001"].attempts == 1
    assert "503" in (rows["2611.00001"].last_error or "")
    assert rows["2611.00002"].state == "pending"  # stopped there: the order is kept
    (post,) = await store.run(ledger.open_digests, f"channel:{CHANNEL}")

    clock.advance(hours=24)  # long past Discord's nonce dedupe
    poster.by_nonce.clear()
    second = await engine(store, poster, clock).run_feed(CHANNEL)
    assert second.posted == 2
    (header,) = poster.in_channel(CHANNEL)  # no second ("0 new papers") header
    thread_id = header.message_id
    assert list(poster.threads) == [thread_id] == [post.thread_id]
    assert papers_in(poster, thread_id) == ["2611.00001", "2611.00002"]  # each exactly once
    assert poster.lookups[0][0] == thread_id  # looked in the original thread
    final = {r.paper_id: r for r in await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")}
    assert {r.state for r in final.values()} == {"sent"}
    assert [final[p].message_id for p in ("2611.00001", "2611.00002")] == [
        m.message_id for m in poster.in_channel(thread_id)
    ]
    assert await store.run(ledger.open_digests, f"channel:{CHANNEL}") == []


async def test_a_message_that_failed_before_creation_is_resent_in_the_original_thread(
    store, clock
) -> None:
    await two_papers(store, clock)
    poster = RecordingPoster(fail_sends=[None, Unavailable("503 after retries")])
    await engine(store, poster, clock).run_feed(CHANNEL)
    (header,) = poster.in_channel(CHANNEL)
    assert papers_in(poster, header.message_id) == []
    clock.advance(hours=24)
    second = await engine(store, poster, clock).run_feed(CHANNEL)
    assert second.posted == 2
    assert poster.in_channel(CHANNEL) == [header]
    assert papers_in(poster, header.message_id) == ["2611.00001", "2611.00002"]
    assert [target for target, _ in poster.lookups] == [header.message_id]  # only the retried one


async def test_five_unknown_outcomes_give_up_close_the_digest_and_log_why(
    store, clock, caplog
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    failures: list[Exception | None] = [Unavailable("502 Bad Gateway")] * ledger.MAX_ATTEMPTS
    poster = RecordingPoster(fail_sends=[None, *failures])
    eng = engine(store, poster, clock)
    for _ in range(ledger.MAX_ATTEMPTS - 1):  # twice a day: all five tries fit in the 3 days
        await eng.run_feed(CHANNEL)
        clock.advance(hours=12)
    (row,) = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert (row.state, row.attempts) == ("pending", ledger.MAX_ATTEMPTS - 1)
    assert len(await store.run(ledger.open_digests, f"channel:{CHANNEL}")) == 1
    await eng.run_feed(CHANNEL)
    (row,) = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert (row.state, row.attempts) == ("failed", ledger.MAX_ATTEMPTS)
    assert await store.run(ledger.open_digests, f"channel:{CHANNEL}") == []
    assert "Gave up delivering ['2611.00001'] to channel:500 after 5 attempts" in caplog.text
    clock.advance(hours=24)
    await eng.run_feed(CHANNEL)  # nothing left to try, and no new header
    assert [m.spec.paper_ids for m in poster.sent] == [()]


async def test_a_lost_header_is_found_in_the_channel_not_posted_again(store, clock) -> None:
    await two_papers(store, clock)
    poster = RecordingPoster(lose_sends=[Unavailable("connection error")])
    first = await engine(store, poster, clock).run_feed(CHANNEL)
    assert first.posted == 0 and first.reason and "will retry" in first.reason
    clock.advance(hours=24)
    poster.by_nonce.clear()
    second = await engine(store, poster, clock).run_feed(CHANNEL)
    assert second.posted == 2
    (header,) = poster.in_channel(CHANNEL)
    assert papers_in(poster, header.message_id) == ["2611.00001", "2611.00002"]


async def test_a_deleted_thread_sends_the_rest_under_the_header(store, clock) -> None:
    await two_papers(store, clock)
    poster = RecordingPoster(fail_sends=[None, None, NotFound("404 Unknown Channel")])
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 2
    header, rest = poster.in_channel(CHANNEL)
    assert papers_in(poster, header.message_id) == ["2611.00001"]
    assert rest.spec.paper_ids == ("2611.00002",)


async def test_forum_channel_gets_one_post_holding_the_papers(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    poster = RecordingPoster(kinds={CHANNEL: "forum"})
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 1
    ((thread_id, (parent, name)),) = poster.threads.items()
    assert parent == CHANNEL and name == "Papers · 26 Nov 2026"
    assert [m.spec.paper_ids for m in poster.in_channel(thread_id)] == [(), ("2611.00001",)]


async def test_a_second_run_the_same_day_adds_to_that_days_forum_post(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    poster = RecordingPoster(kinds={CHANNEL: "forum"})
    eng = engine(store, poster, clock)
    assert (await eng.run_feed(CHANNEL)).posted == 1
    clock.advance(hours=3)  # 12:00 in Berlin: /feed post-now after the scheduled digest
    await add_papers(store, clock, paper("2611.00002", "Diffusion 2"))
    assert (await eng.run_feed(CHANNEL)).posted == 1
    ((thread_id, (_, name)),) = poster.threads.items()  # still one post for the day
    assert name == "Papers · 26 Nov 2026"
    assert [m.spec.paper_ids for m in poster.in_channel(thread_id)] == [
        (), ("2611.00001",), ("2611.00002",)
    ]  # fmt: skip
    rows = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert {(r.state, r.thread_id) for r in rows} == {("sent", thread_id)}
    clock.advance(days=1)  # the next day gets its own post
    await add_papers(store, clock, paper("2611.00003", "Diffusion 3"))
    assert (await eng.run_feed(CHANNEL)).posted == 1
    assert [name for _, name in poster.threads.values()] == [
        "Papers · 26 Nov 2026", "Papers · 27 Nov 2026"
    ]  # fmt: skip


async def test_nothing_matched_posts_nothing_and_says_why(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Optics"), paper("2611.00002", "Lasers"))
    poster = RecordingPoster()
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.reason == "0 of 2 listed papers matched" and poster.sent == []
    run = await store.run(feeds_repo.last_run, CHANNEL)
    assert run is not None and run.reason == "0 of 2 listed papers matched" and run.state == "done"


async def test_legacy_failed_rows_are_reopened_in_their_own_digest(store, clock) -> None:
    await two_papers(store, clock)
    poster = RecordingPoster(fail_sends=[None, Unavailable("503")])
    await engine(store, poster, clock).run_feed(CHANNEL)

    def as_the_old_engine_left_it(db) -> None:  # failed rows in a digest marked done
        db.execute("UPDATE deliveries SET state = 'failed' WHERE state = 'pending'")
        db.execute("UPDATE deliveries SET attempts = 5 WHERE paper_id = '2611.00002'")
        db.execute("UPDATE digest_posts SET state = 'done'")

    await store.run(as_the_old_engine_left_it)
    await store.run(failed_deliveries_resume_in_place)
    rows = {
        r.paper_id: r.state for r in await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    }
    assert rows == {"2611.00001": "pending", "2611.00002": "failed"}  # given-up rows stay so
    clock.advance(hours=24)
    assert (await engine(store, poster, clock).run_feed(CHANNEL)).posted == 1
    (header,) = poster.in_channel(CHANNEL)
    assert papers_in(poster, header.message_id) == ["2611.00001"]


def test_a_paused_feed_says_why_once() -> None:
    from bot.delivery.engine import paused_reason

    assert paused_reason("paused by mod") == "paused by mod"
    assert paused_reason(None) == "paused by a moderator"
    assert paused_reason(FORBIDDEN_REASON) == f"paused: {FORBIDDEN_REASON}"
    assert "(403)" not in FORBIDDEN_REASON


async def test_at_most_delivery_concurrency_feeds_post_at_once_and_all_finish(store, clock) -> None:
    channels = [CHANNEL, *range(601, 605)]
    for channel in channels[1:]:
        await make_feed(store, channel)
    for channel in channels:
        await subscribe(store, channel, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion"))
    release = asyncio.Event()
    changed = asyncio.Condition()
    in_flight: set[int] = set()  # feeds (channels) with a send waiting on Discord
    peak = 0

    class Blocking(RecordingPoster):
        async def send(self, channel_id, spec):
            nonlocal peak
            feed = channel_id if channel_id in channels else self.threads[channel_id][0]
            async with changed:
                in_flight.add(feed)
                peak = max(peak, len(in_flight))
                changed.notify_all()
            await release.wait()
            in_flight.discard(feed)
            return await super().send(channel_id, spec)

    poster = Blocking()
    eng = DeliveryEngine(store, poster, Settings(delivery_concurrency=2), clock=clock)
    runs = [asyncio.create_task(eng.run_feed(channel)) for channel in channels]
    async with asyncio.timeout(20), changed:
        await changed.wait_for(lambda: len(in_flight) == 2)
    # The store is one thread, first come first served: after these round trips every feed
    # the bound failed to hold back would have done its store work and be blocked in send too.
    for _ in range(20):
        await store.run(lambda db: None)
    assert len(in_flight) == 2 and sum(run.done() for run in runs) == 0
    release.set()
    async with asyncio.timeout(20):
        reports = await asyncio.gather(*runs)
    assert peak == 2
    assert [r.posted for r in reports] == [1] * 5
    assert sorted(s.channel_id for s in poster.sent if not s.spec.paper_ids) == sorted(channels)


async def test_a_send_whose_mark_sent_fails_is_found_next_run_not_posted_twice(
    store, clock, monkeypatch
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster()
    real_mark_sent = ledger.mark_sent

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ledger, "mark_sent", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        await engine(store, poster, clock).run_feed(CHANNEL)
    monkeypatch.setattr(ledger, "mark_sent", real_mark_sent)
    (row,) = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert (row.state, row.attempts) == ("pending", 1)  # the attempt was recorded before the send
    clock.advance(days=1)
    await engine(store, poster, clock).run_feed(CHANNEL)
    sent = [m for m in poster.sent if m.spec.paper_ids == ("2611.00001",)]
    assert len(sent) == 1  # found in the thread's history, not posted a second time
    (row,) = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert row.state == "sent" and row.message_id == sent[0].message_id


async def test_a_rejected_paper_fails_alone_and_the_digest_goes_on(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, *[paper(f"2611.0000{i}", f"Diffusion {i}") for i in range(1, 4)])
    # header ok, first paper rejected for good (400 Invalid Form Body), the others fine
    poster = RecordingPoster(fail_sends=[None, Rejected("400 Invalid Form Body (code 50035)")])
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 2
    rows = {r.paper_id: r for r in await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")}
    assert rows["2611.00001"].state == "failed" and "50035" in (rows["2611.00001"].last_error or "")
    assert {rows["2611.00002"].state, rows["2611.00003"].state} == {"sent"}
    assert await store.run(ledger.open_digests, f"channel:{CHANNEL}") == []  # nothing blocks
    clock.advance(days=1)
    await add_papers(store, clock, paper("2611.00009", "Diffusion tomorrow"))
    tomorrow = await engine(store, poster, clock).run_feed(CHANNEL)
    assert tomorrow.posted == 1


async def test_a_rejected_header_closes_its_digest_so_the_next_one_goes_out(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster(fail_sends=[Rejected("400 Invalid Form Body (code 50035)")])
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 0
    (row,) = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert row.state == "failed"
    assert await store.run(ledger.open_digests, f"channel:{CHANNEL}") == []
    clock.advance(days=1)
    await add_papers(store, clock, paper("2611.00002", "Diffusion two"))
    assert (await engine(store, poster, clock).run_feed(CHANNEL)).posted == 1


async def test_a_header_discord_never_answers_is_given_up_and_never_blocks_the_feed(
    store, clock
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster(fail_sends=[Unavailable("503")] * ledger.MAX_ATTEMPTS)
    for _ in range(ledger.MAX_ATTEMPTS):
        report = await engine(store, poster, clock).run_feed(CHANNEL)
        assert report.posted == 0
        clock.advance(hours=1)
    assert await store.run(ledger.open_digests, f"channel:{CHANNEL}") == []
    (row,) = await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")
    assert row.state == "failed"
    await add_papers(store, clock, paper("2611.00002", "Diffusion two"))
    assert (await engine(store, poster, clock).run_feed(CHANNEL)).posted == 1


async def test_an_open_digest_older_than_three_days_is_closed_before_the_next_one(
    store, clock
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster(fail_sends=[None, Unavailable("503")])  # paper 1: unknown outcome
    await engine(store, poster, clock).run_feed(CHANNEL)
    assert len(await store.run(ledger.open_digests, f"channel:{CHANNEL}")) == 1
    clock.advance(days=4)
    await add_papers(store, clock, paper("2611.00002", "Diffusion two"))
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    rows = {r.paper_id: r for r in await store.run(ledger.deliveries_to, f"channel:{CHANNEL}")}
    assert rows["2611.00001"].state == "failed" and "expired" in (
        rows["2611.00001"].last_error or ""
    )
    assert rows["2611.00002"].state == "sent" and report.posted == 1


async def test_120_matching_members_each_get_one_mention_across_follow_ups(store, clock) -> None:
    members = [10**17 + i for i in range(120)]
    for uid in members:
        await subscribe(store, CHANNEL, "diffusion", user=uid)
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster()
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 1  # one paper, however many messages carry its mentions
    in_thread = [m for m in poster.sent if m.channel_id != CHANNEL]
    assert len(in_thread) >= 2 and in_thread[0].spec.embeds
    mentioned = [uid for m in in_thread for uid in m.spec.mention_user_ids]
    assert sorted(mentioned) == members
    assert all(len(m.spec.mention_user_ids) <= 100 for m in in_thread)
    again = await engine(store, poster, clock).run_feed(CHANNEL)
    assert again.posted == 0 and len(poster.sent) == len(in_thread) + 1  # nothing re-sent


@pytest.mark.parametrize(
    ("kind", "in_thread"),
    [("text", True), ("announcement", True), ("thread", False), ("voice", False)],
)
async def test_each_channel_kind_gets_the_digest_form_it_allows(
    store, clock, kind, in_thread
) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster(kinds={CHANNEL: kind})
    assert (await engine(store, poster, clock).run_feed(CHANNEL)).posted == 1
    assert bool(poster.threads) is in_thread
    in_channel = poster.in_channel(CHANNEL)
    assert len(in_channel) == (1 if in_thread else 2)  # header (+ the paper, when plain)
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and not feed.threads_refused and not feed.paused


async def test_a_timed_out_bot_waits_without_pausing_and_posts_once_it_ends(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    until = clock.now + timedelta(hours=2)
    poster = RecordingPoster(blocks={CHANNEL: Blocked("timed out", until=until)})
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 0 and report.reason and "timed out" in report.reason
    assert poster.sent == [] and poster.dms == []  # no request, no notice to anyone
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and not feed.paused
    clock.advance(hours=3)
    poster.blocks.clear()
    assert (await engine(store, poster, clock).run_feed(CHANNEL)).posted == 1


async def test_a_refusal_while_timed_out_is_a_wait_not_a_pause(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster(fail_sends=[Forbidden("403 Missing Permissions", code=50013)])

    async def blocked(channel_id, *, after_refusal=False):  # the cache was stale: ask says yes
        return Blocked("timed out", until=clock.now + timedelta(hours=1)) if after_refusal else None

    poster.blocked = blocked  # type: ignore[method-assign]
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.reason and "timed out" in report.reason
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and not feed.paused and poster.dms == []


async def test_missing_embed_links_pauses_instead_of_posting_bare_papers(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    poster = RecordingPoster(blocks={CHANNEL: Blocked("I'm missing the Embed Links permission")})
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 0 and poster.sent == []
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and feed.paused and "Embed Links" in (feed.pause_reason or "")


async def test_too_many_active_threads_posts_plain_this_time_only(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    cap = Forbidden("400 Maximum number of active threads reached", code=160006, reason="cap")
    poster = RecordingPoster(fail_threads=cap)
    assert (await engine(store, poster, clock).run_feed(CHANNEL)).posted == 1
    assert len(poster.in_channel(CHANNEL)) == 2 and not poster.threads  # plain, this once
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and not feed.threads_refused and not feed.paused


async def test_a_forum_refusing_untagged_posts_pauses_with_discords_reason(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    reason = "this forum requires a tag on every post and has none I can use — add a tag"
    poster = RecordingPoster(kinds={CHANNEL: "forum"})

    async def no_tag(*args, **kwargs):
        raise Forbidden("400 A tag is required (code 40067)", code=40067, reason=reason)

    poster.start_forum_post = no_tag  # type: ignore[method-assign]
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.reason == reason
    feed = await store.run(feeds_repo.get_feed, CHANNEL)
    assert feed is not None and feed.paused and feed.pause_reason == reason


async def test_a_header_deleted_before_its_thread_began_is_posted_again(store, clock) -> None:
    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion one"))
    # 404 Unknown Message (10008) while the channel itself still exists
    poster = RecordingPoster(fail_threads=NotFound("404 Unknown Message (code 10008)"))
    original = poster.start_thread
    calls = 0

    async def once_missing(channel_id, message_id, name):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise NotFound("404 Unknown Message (code 10008)")
        poster.fail_threads = None
        return await original(channel_id, message_id, name)

    poster.start_thread = once_missing  # type: ignore[method-assign]
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 1
    headers = poster.in_channel(CHANNEL)
    assert len(headers) == 2 and len(poster.threads) == 1  # a fresh header carries the thread
    assert await store.run(ledger.open_digests, f"channel:{CHANNEL}") == []


async def test_a_digest_run_asks_discord_as_background_work(store, clock) -> None:
    """Its requests wait behind members' commands at the REST pacer (bot/discord/pacing.py)."""

    marks: list[bool] = []

    class Marking(RecordingPoster):
        async def send(self, channel_id: int, spec: MessageSpec) -> int:
            marks.append(in_background())
            return await super().send(channel_id, spec)

    await subscribe(store, CHANNEL, "diffusion")
    await add_papers(store, clock, paper("2611.00001", "Diffusion for text"))
    poster = Marking()
    report = await engine(store, poster, clock).run_feed(CHANNEL)
    assert report.posted == 1
    assert marks and all(marks)  # the header and the paper
    assert not in_background()  # the caller (a command's /feed post-now) is not marked
