"""The one exactly-once loop: send a digest's pending messages, whatever the destination.

Every destination (a channel thread, a plain channel, a forum post, a member's DMs) is reached
through an `Outbox` that only says how a message is addressed; the promise is kept here, once:

1. a message whose earlier attempt began (attempts > 0) may have reached Discord — the answer was
   lost, the bot crashed, or recording it failed — so it is looked for before anything is sent;
2. otherwise the attempt is counted durably *before* the send, then the message goes out with its
   deterministic nonce and its rows are marked sent with the message id;
3. an unknown outcome (`Unavailable`) stops the digest there, keeping the planned order for the next
   run; after `MAX_ATTEMPTS` the message is given up. A rejected message (`Rejected`) fails alone
   and the digest goes on; an unreachable destination (`Unreachable`) fails the rest of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.delivery.messages import MessageSpec, is_part
from bot.delivery.posting import Rejected, TargetGone, Unavailable, Unreachable
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store.database import Clock

log = logging.getLogger(__name__)


class Outbox(Protocol):
    """How one digest's messages are addressed; raises `PostError`s (or stops the run)."""

    @property
    def thread_id(self) -> int | None:
        """The thread the messages land in (recorded with each sent row), if any."""
        ...

    async def send(self, spec: MessageSpec) -> int:
        """Send the message; its id."""
        ...

    async def find_sent(self, spec: MessageSpec) -> int | None:
        """The id of a message of ours carrying `spec` where this outbox sends, if any."""
        ...


@dataclass(frozen=True, slots=True)
class Progress:
    """What one pass over a digest's pending messages achieved."""

    papers: int  # papers delivered (a DM carries several)
    messages: int  # messages that are now in Discord (sent, or found there)
    gone: TargetGone | None = None  # the thread/post vanished: nothing was created there
    unreachable: Unreachable | None = None  # the destination refused every message (closed DMs)
    open: bool = False  # rows are still pending: the digest resumes next run


async def deliver_pending(
    store: Store, clock: Clock, post: ledger.DigestPost, outbox: Outbox
) -> Progress:
    """Deliver the digest's pending messages in planned order, closing it when none are left."""
    papers = messages = 0
    unreachable: Unreachable | None = None
    for group in _by_message(await store.run(ledger.pending_for_digest, post.id)):
        ids = [d.id for d in group]
        label = f"{[d.paper_id for d in group]} to {post.destination}"
        if unreachable is not None:  # the rest of this digest can't reach them either
            await store.run(
                ledger.mark_failed, ids, error=str(unreachable), now=clock(), give_up=True
            )
            continue
        spec = _spec(group)
        attempts = max(d.attempts for d in group)
        try:
            message_id = await outbox.find_sent(spec) if attempts else None
            if message_id is not None:
                log.info("Delivery of %s was already there as %s", label, message_id)
            elif attempts >= ledger.MAX_ATTEMPTS:
                await _give_up(store, clock, ids, label, attempts, "not found after the last try")
                continue
            else:
                await store.run(ledger.begin_attempt, ids, now=clock())
                attempts += 1
                message_id = await outbox.send(spec)
        except TargetGone as gone:
            return Progress(papers, messages, gone=gone, open=True)
        except Unreachable as exc:
            log.info("Destination %s is unreachable: %s", post.destination, exc)
            unreachable = exc
            await store.run(ledger.mark_failed, ids, error=str(exc), now=clock(), give_up=True)
            continue
        except Rejected as exc:
            log.warning("Discord rejected %s for good: %s", label, exc)
            await store.run(ledger.mark_failed, ids, error=str(exc), now=clock(), give_up=True)
            continue
        except Unavailable as exc:
            if attempts < ledger.MAX_ATTEMPTS:
                log.warning("Delivery of %s failed, will retry: %s", label, exc)
                await store.run(ledger.record_unknown_outcome, ids, error=str(exc), now=clock())
                break  # keep the planned order; the next run resumes here, same thread
            await _give_up(store, clock, ids, label, attempts, str(exc))
            continue
        await store.run(
            ledger.mark_sent, ids, message_id=message_id, thread_id=outbox.thread_id, now=clock()
        )
        papers += sum(not is_part(d.paper_id) for d in group)  # follow-ups deliver no paper
        messages += 1
    done = await store.run(ledger.close_if_delivered, post.id, now=clock())
    return Progress(papers, messages, unreachable=unreachable, open=not done)


async def _give_up(
    store: Store, clock: Clock, ids: list[int], label: str, attempts: int, error: str
) -> None:
    log.error("Gave up delivering %s after %d attempts: %s", label, attempts, error)
    await store.run(ledger.mark_failed, ids, error=error, now=clock(), give_up=True)


def _by_message(deliveries: list[ledger.Delivery]) -> list[list[ledger.Delivery]]:
    """Pending rows grouped by the message (nonce) that carries them, in planned order."""
    groups: dict[str, list[ledger.Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault(delivery.nonce, []).append(delivery)
    return list(groups.values())


def _spec(group: list[ledger.Delivery]) -> MessageSpec:
    """The message carrying a group's rows (stored on one of them: see `create_digest`)."""
    for delivery in group:
        if delivery.payload:
            return MessageSpec.from_json(delivery.payload)
    raise ValueError(f"delivery {group[0].id} has no stored message (nonce {group[0].nonce})")
