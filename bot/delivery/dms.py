"""Daily DM digests for personal `dm:true` subscriptions, exactly once (Discord-free).

The same three steps as channel digests (`bot/delivery/engine.py`): in one transaction a
member's run is started and every DM it will send is written as pending rows (destination
`dm:<user id>`, deterministic nonces); then the shared exactly-once loop
(`bot/delivery/exactly_once.py`) sends them through a `DmOutbox`. The paper window works like a
feed's: papers listed since the member's last completed DM run (first run: the last 24 hours),
never more than 3 days back.

A member whose DMs are closed (403, code 50007) is recorded in `dm_status` (the next command they
run tells them) and is skipped for `DM_CLOSED_RETRY`, so the bot does not knock every day.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.background import background_work
from bot.config import Settings
from bot.delivery.dm_batch import DmBatch, plan_dm_batch
from bot.delivery.exactly_once import deliver_pending
from bot.delivery.fanout import for_each_at_once
from bot.delivery.messages import MessageSpec, dm_messages
from bot.delivery.planner import FIRST_RUN_LOOKBACK, MAX_LOOKBACK
from bot.delivery.posting import DmClosed, Forbidden, NotFound, Poster, Rejected
from bot.destinations import Destination, PostMode
from bot.long_lived import collector_paused, settle
from bot.store import Store, dm_runs
from bot.store import deliveries as ledger
from bot.store import subscriptions as subs_repo
from bot.store.change_counts import change_stamp
from bot.store.database import Clock
from bot.store.deliveries import DM_CLOSED_RETRY, delivered_among, dm_closed_recently

log = logging.getLogger(__name__)


def destination_for_user(user_id: int) -> Destination:
    """The deliveries-ledger destination of a member's DMs."""
    return Destination.dm(user_id)


@dataclass(frozen=True, slots=True)
class DmReport:
    """What one DM run did for one member."""

    user_id: int
    posted: int  # papers delivered
    matched: int
    messages: int  # DMs sent
    closed: bool = False  # their DMs refused us (now or recently)


@dataclass(frozen=True, slots=True)
class DmOutbox:
    """A member's DM digest goes to their DM channel; refusals other than closed DMs mean that
    one message can't be delivered (the rest may)."""

    poster: Poster
    user_id: int
    thread_id: int | None = None

    async def send(self, spec: MessageSpec) -> int:
        try:
            return await self.poster.send_dm(self.user_id, spec)
        except DmClosed:
            raise
        except (Forbidden, NotFound) as exc:
            raise Rejected(str(exc)) from exc

    async def find_sent(self, spec: MessageSpec) -> int | None:
        return await self.poster.find_sent_dm(self.user_id, spec)


class DmDigester:
    """Sends each member with DM subscriptions one digest DM a day, at their own schedule
    (split at 10 embeds)."""

    def __init__(self, store: Store, poster: Poster, settings: Settings, *, clock: Clock) -> None:
        self.store = store
        self.poster = poster
        self.settings = settings
        self.clock = clock
        self._last_batch: DmBatch | None = None  # its parsed queries serve the next run

    async def prepare(self) -> None:
        """Match every DM member's subscriptions against the recent papers now, on a read
        connection, so the next DM digests find the match ready (called after each ingest)."""
        now = self.clock()

        def prepare(db: sqlite_utils.Database) -> DmBatch:
            users = subs_repo.dm_user_ids(db)
            batch = self._last_batch
            if batch is not None and batch.serves(users, change_stamp(db), now):
                return batch  # a poll that brought nothing new: the match still holds
            with collector_paused():  # see bot/long_lived.py
                made = plan_dm_batch(db, users, now, batch)
                settle(len(made.compiled.queries))
            return made

        self._last_batch = await self.store.read(prepare)

    async def run_all(self) -> list[DmReport]:
        """Finish DM digests a crash interrupted, then run every member's digest for today."""
        users = await self.store.run(subs_repo.dm_user_ids)
        return await self._run(users, timezone=None, resume=None)

    async def run_users(
        self, user_ids: Sequence[int], *, timezone: str | None = None
    ) -> list[DmReport]:
        """`run_all` for some members (those sharing a DM schedule): finish their interrupted
        DM digests, then run each one's digest, dated in `timezone` (default: the default)."""
        return await self._run(user_ids, timezone=timezone, resume=set(user_ids))

    async def _run(
        self, user_ids: Sequence[int], *, timezone: str | None, resume: set[int] | None
    ) -> list[DmReport]:
        with background_work():  # a command's requests to Discord go before these DMs
            return await self._run_in_background(user_ids, timezone=timezone, resume=resume)

    async def _run_in_background(
        self, user_ids: Sequence[int], *, timezone: str | None, resume: set[int] | None
    ) -> list[DmReport]:
        # Interrupted digests first (of `resume`'s members; None: everyone's): many members at
        # once, as new digests go, each member's in the order they were planned. One by one, a
        # crash in the middle of a thousand members' DMs held the next run up for minutes.
        oldest = self.clock() - MAX_LOOKBACK
        interrupted: dict[int, list[ledger.DigestPost]] = {}
        for post in await self.store.run(ledger.open_dm_digests):
            if resume is not None and post.target.id not in resume:
                continue
            if datetime.fromisoformat(post.created_at) < oldest:  # never let it block new ones
                error = "expired: still undelivered after 3 days"
                await self.store.run(ledger.fail_digest, post.id, error=error, now=self.clock())
                continue
            interrupted.setdefault(post.target.id, []).append(post)

        async def finish(member: int) -> None:
            for post in interrupted[member]:
                await self._post(post)

        await for_each_at_once(list(interrupted), finish, limit=self.settings.delivery_concurrency)
        # One matching (on a read connection: the writer stays free) and one ledger transaction
        # for every member of this run, then the DMs.
        now = self.clock()
        users = list(user_ids)
        batch = self._last_batch
        if batch is None or not batch.serves(users, await self.store.read(change_stamp), now):
            batch = self._last_batch = await self.store.read(plan_dm_batch, users, now, batch)
        planned = await self.store.run(self._begin_all, users, now, timezone, batch)
        # Many members at once (each one's DMs go one after another); the REST pacer keeps the
        # bot under Discord's global limit.
        reports = await for_each_at_once(
            user_ids,
            lambda user_id: self._send(user_id, planned[user_id]),
            limit=self.settings.delivery_concurrency,
        )
        sent = sum(r.messages for r in reports)
        log.info("DM digests: %d members, %d DMs sent", len(reports), sent)
        return reports

    async def run_user(
        self, user_id: int, *, timezone: str | None = None, batch: DmBatch | None = None
    ) -> DmReport:
        """Plan, record and send one member's DM digest (matched from `batch` when given)."""
        now = self.clock()
        begun = await self.store.run(self._begin, user_id, now, timezone, batch)
        return await self._send(user_id, begun)

    async def _send(
        self, user_id: int, begun: tuple[ledger.DigestPost | None, int] | None
    ) -> DmReport:
        """Send a planned digest (None: the member's DMs are closed)."""
        if begun is None:
            return DmReport(user_id, 0, 0, 0, closed=True)
        post, matched = begun
        posted, messages, closed = (0, 0, False)
        if post is not None:
            posted, messages, closed = await self._post(post)
        return DmReport(user_id, posted, matched, messages, closed)

    def _begin_all(
        self,
        db: sqlite_utils.Database,
        user_ids: list[int],
        now: datetime,
        timezone: str | None,
        batch: DmBatch | None = None,
    ) -> dict[int, tuple[ledger.DigestPost | None, int] | None]:
        """Plan and record every member's digest in one transaction, from one shared match
        (`batch`, unless papers or subscriptions changed since it was built)."""
        if batch is None or batch.stamp != change_stamp(db):
            batch = plan_dm_batch(db, user_ids, now, batch)
        # current for the whole transaction: no other writer can change papers or subscriptions
        return {
            user_id: self._begin(db, user_id, now, timezone, batch, current=True)
            for user_id in user_ids
        }

    def _begin(
        self,
        db: sqlite_utils.Database,
        user_id: int,
        now: datetime,
        timezone: str | None,
        batch: DmBatch | None = None,
        *,
        current: bool = False,
    ) -> tuple[ledger.DigestPost | None, int] | None:
        """Start the run and write its pending DMs in one transaction (None: DMs closed).
        `current`: the caller checked that `batch` is as the database is now."""
        if dm_closed_recently(db, user_id, now):
            return None
        last = dm_runs.last_dm_run(db, user_id)
        start = max(last.started_at if last else now - FIRST_RUN_LOOKBACK, now - MAX_LOOKBACK)
        destination = Destination.dm(user_id)
        if batch is None or not (current or batch.stamp == change_stamp(db)):
            batch = plan_dm_batch(db, [user_id], now, batch)
        old = batch.batch.seen_before((start, now), start)
        already = delivered_among(db, destination, start, old)
        digest = batch.digest_for(user_id, (start, now), already, cap=self.settings.digest_cap)
        run = dm_runs.start_dm_run(
            db, user_id=user_id, window_start=start, now=now, matched=digest.matched
        )
        # Unfinished DMs are resumed in their own digest (run_all), never re-planned here.
        if not digest.entries:
            dm_runs.finish_dm_run(db, run.id, now=now, posted=0)
            return None, digest.matched
        day = now.astimezone(ZoneInfo(timezone or self.settings.default_timezone)).date()
        messages = [
            ledger.PendingMessage(spec.paper_ids, spec.nonce, spec.to_json())
            for spec in dm_messages(destination, day, digest.entries)
        ]
        post = ledger.create_digest(
            db,
            destination=destination,
            run_id=run.id,  # dm_runs.id: finishing the digest finishes this run
            digest_date=day.isoformat(),
            mode=PostMode.DM,
            header=MessageSpec(content="").to_json(),  # a DM digest has no header message
            messages=messages,
            now=now,
        )
        return post, digest.matched

    async def _post(self, post: ledger.DigestPost) -> tuple[int, int, bool]:
        """Send the digest's pending DMs; (papers delivered, DMs sent, DMs closed)."""
        user_id = post.target.id
        progress = await deliver_pending(
            self.store, self.clock, post, DmOutbox(self.poster, user_id)
        )
        closed = progress.unreachable is not None
        if closed:
            await self.store.run(ledger.record_dm_closed, user_id, self.clock())
        elif progress.messages:
            await self.store.run(ledger.record_dm_open, user_id)
        if post.run_id is not None:  # the run's window is covered even while DMs are pending
            await self.store.run(
                dm_runs.finish_dm_run, post.run_id, now=self.clock(), posted=progress.papers
            )
        return progress.papers, progress.messages, closed


__all__ = ["DM_CLOSED_RETRY", "DmDigester", "DmReport", "destination_for_user"]
