"""Daily DM digests for personal `dm:true` subscriptions, exactly once (Discord-free).

Same ledger discipline as channel digests (`bot/delivery/engine.py`): in one transaction a
member's run
is started and every DM it will send is written as pending rows (destination `dm:<user id>`,
deterministic nonces); then the DMs are sent and marked sent one by one. A crash, or a DM whose
outcome is unknown (5xx, timeout, cut connection), leaves pending rows in the same digest; the
next run first looks for such a DM in the member's DM history, and only re-sends (same nonce) if
it is not there. After `MAX_ATTEMPTS` unknown outcomes the DM is given up. The paper window
works like a feed's: papers first seen since the member's last completed DM run (first run: the
last 24 hours), never more than 3 days back.

A member whose DMs are closed (403, code 50007) is recorded in `dm_status` (the next command they
run tells them) and is skipped for `DM_CLOSED_RETRY`, so the bot does not knock every day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.config import Settings
from bot.delivery.digest import Subscriber, build_digest
from bot.delivery.messages import MessageSpec, dm_messages
from bot.delivery.planner import FIRST_RUN_LOOKBACK, MAX_LOOKBACK, delivered_paper_ids
from bot.delivery.posting import DmClosed, Poster, PostError, Unavailable
from bot.matching import SubscriptionMatcher
from bot.query import Query, QueryError, parse
from bot.store import Store, dm_runs
from bot.store import deliveries as ledger
from bot.store import papers as papers_repo
from bot.store import subscriptions as subs_repo
from bot.store.database import Clock
from bot.store.rows import parse_time, rows

log = logging.getLogger(__name__)

DM_CLOSED_RETRY = timedelta(days=7)  # closed DMs are tried again after a week, not every day


def destination_for_user(user_id: int) -> str:
    """The deliveries-ledger key of a member's DMs."""
    return f"dm:{user_id}"


def _user_of(destination: str) -> int:
    return int(destination.split(":", 1)[1])


@dataclass(frozen=True, slots=True)
class DmReport:
    """What one DM run did for one member."""

    user_id: int
    posted: int  # papers delivered
    matched: int
    messages: int  # DMs sent
    closed: bool = False  # their DMs refused us (now or recently)


def dm_subscribers(db: sqlite_utils.Database, user_id: int) -> list[tuple[Subscriber, Query]]:
    """The member's `dm:true` subscriptions, parsed (unparseable stored ones are skipped)."""
    parsed: list[tuple[Subscriber, Query]] = []
    for sub in subs_repo.dm_subscriptions(db):
        if sub.user_id != user_id:
            continue
        try:
            parsed.append((Subscriber("personal", sub.id, None, sub.normal), parse(sub.query)))
        except QueryError:
            continue
    return parsed


def dm_closed_recently(db: sqlite_utils.Database, user_id: int, now: datetime) -> bool:
    """True if a DM to the member was refused less than `DM_CLOSED_RETRY` ago."""
    found = rows(db, "SELECT closed_at FROM dm_status WHERE user_id = ?", [user_id])
    closed = parse_time(found[0]["closed_at"]) if found else None
    return closed is not None and now - closed < DM_CLOSED_RETRY


class DmDigester:
    """Sends each member with DM subscriptions one digest DM a day (split at 10 embeds)."""

    def __init__(self, store: Store, poster: Poster, settings: Settings, *, clock: Clock) -> None:
        self.store = store
        self.poster = poster
        self.settings = settings
        self.clock = clock

    async def run_all(self) -> list[DmReport]:
        """Finish DM digests a crash interrupted, then run every member's digest for today."""
        for post in await self.store.run(ledger.open_dm_digests):
            await self._post(post)
        users = await self.store.run(
            lambda db: sorted({s.user_id for s in subs_repo.dm_subscriptions(db)})
        )
        reports = [await self.run_user(user_id) for user_id in users]
        sent = sum(r.messages for r in reports)
        log.info("DM digests: %d members, %d DMs sent", len(reports), sent)
        return reports

    async def run_user(self, user_id: int) -> DmReport:
        """Plan, record and send one member's DM digest."""
        now = self.clock()
        begun = await self.store.run(self._begin, user_id, now)
        if begun is None:
            return DmReport(user_id, 0, 0, 0, closed=True)
        post, matched = begun
        posted, messages, closed = (0, 0, False)
        if post is not None:
            posted, messages, closed = await self._post(post)
        return DmReport(user_id, posted, matched, messages, closed)

    def _begin(
        self, db: sqlite_utils.Database, user_id: int, now: datetime
    ) -> tuple[ledger.DigestPost | None, int] | None:
        """Start the run and write its pending DMs in one transaction (None: DMs closed)."""
        if dm_closed_recently(db, user_id, now):
            return None
        last = dm_runs.last_dm_run(db, user_id)
        start = max(last.started_at if last else now - FIRST_RUN_LOOKBACK, now - MAX_LOOKBACK)
        destination = destination_for_user(user_id)
        subscribers = dm_subscribers(db, user_id)
        listed = papers_repo.papers_listed_between(db, start, now + timedelta(microseconds=1))
        matches = SubscriptionMatcher(subscribers).match(listed) if subscribers else {}
        already = delivered_paper_ids(db, destination)
        fresh = [p for p in listed if p.id in matches and p.id not in already]
        digest = build_digest(fresh, matches, cap=self.settings.digest_cap)
        run = dm_runs.start_dm_run(
            db, user_id=user_id, window_start=start, now=now, matched=digest.matched
        )
        # Unfinished DMs are resumed in their own digest (run_all), never re-planned here.
        if not digest.entries:
            dm_runs.finish_dm_run(db, run.id, now=now, posted=0)
            return None, digest.matched
        day = now.astimezone(ZoneInfo(self.settings.default_timezone)).date()
        messages = [
            ledger.PendingMessage(spec.paper_ids, spec.nonce, spec.to_json())
            for spec in dm_messages(destination, day, digest.entries)
        ]
        post = ledger.create_digest(
            db,
            destination=destination,
            run_id=run.id,  # dm_runs.id: finishing the digest finishes this run
            digest_date=day.isoformat(),
            mode="dm",
            header=MessageSpec(content="").to_json(),  # a DM digest has no header message
            messages=messages,
            now=now,
        )
        return post, digest.matched

    async def _post(self, post: ledger.DigestPost) -> tuple[int, int, bool]:
        """Send the digest's pending DMs; (papers delivered, DMs sent, DMs closed)."""
        user_id = _user_of(post.destination)
        posted = messages = 0
        closed = False
        pending = await self.store.run(ledger.pending_for_digest, post.id)
        for group in _by_message(pending):
            ids = [d.id for d in group]
            if closed:  # the rest of this digest can't reach them either
                await self._fail(ids, "DMs closed")
                continue
            attempts = max(d.attempts for d in group)
            try:
                spec = MessageSpec.from_json(group[0].payload or "")
                found = None
                if attempts:  # the last attempt's outcome is unknown: did it get through?
                    found = await self.poster.find_sent_dm(user_id, spec)
                message_id = found or await self.poster.send_dm(user_id, spec)
            except DmClosed as exc:
                closed = True
                log.info("DMs to %s are closed: %s", user_id, exc)
                await self.store.run(ledger.record_dm_closed, user_id, self.clock())
                await self._fail(ids, str(exc))
                continue
            except Unavailable as exc:
                if attempts + 1 < ledger.MAX_ATTEMPTS:
                    log.warning("DM to %s failed, will retry next run: %s", user_id, exc)
                    await self.store.run(
                        ledger.record_attempt, ids, error=str(exc), now=self.clock()
                    )
                    break  # keep the order; the next run resumes this digest here
                log.error("Gave up a DM to %s after %d attempts: %s", user_id, attempts + 1, exc)
                await self._fail(ids, str(exc))
                continue
            except PostError as exc:  # 403/404 other than closed DMs: the user can't be reached
                log.warning("DM to %s refused: %s", user_id, exc)
                await self._fail(ids, str(exc))
                continue
            await self.store.run(
                ledger.mark_sent, ids, message_id=message_id, thread_id=None, now=self.clock()
            )
            posted += len(group)
            messages += 1
        if messages and not closed:
            await self.store.run(ledger.record_dm_open, user_id)
        await self.store.run(self._finish, post, posted)
        return posted, messages, closed

    async def _fail(self, ids: list[int], error: str) -> None:
        """These DMs can't be delivered: mark them failed for good."""
        await self.store.run(ledger.mark_failed, ids, error=error, now=self.clock(), give_up=True)

    def _finish(self, db: sqlite_utils.Database, post: ledger.DigestPost, posted: int) -> None:
        # The digest stays open while DMs are pending; the run's window is covered either way.
        ledger.close_if_delivered(db, post.id, now=self.clock())
        if post.run_id is not None:
            dm_runs.finish_dm_run(db, post.run_id, now=self.clock(), posted=posted)


def _by_message(deliveries: list[ledger.Delivery]) -> list[list[ledger.Delivery]]:
    """Pending rows grouped by the DM (nonce) that carries them, in planned order."""
    groups: dict[str, list[ledger.Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault(delivery.nonce, []).append(delivery)
    return list(groups.values())


__all__ = ["DM_CLOSED_RETRY", "DmDigester", "DmReport", "destination_for_user"]
