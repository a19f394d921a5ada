"""The one path by which a feed changes: write it in the store, then tell whoever listens (the
scheduler, which adds, moves or drops the feed's job at once).

Commands (schedule, pause, resume, a first subscription creating the feed), the engine (a 403
pausing a feed, a 404 disabling it) and Discord events (a channel or server gone) all go through
`FeedChanges`, so no caller has to remember to reschedule. A write counts as a change when the
feed's row differs before and after it, read in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import sqlite_utils

from bot.store import Store
from bot.store import feeds as feeds_repo

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
Listener = Callable[[int], None]  # called with the channel id of a feed that changed


class FeedChanges:
    """Writes feed changes and announces them to listeners."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call `listener(channel_id)` after every change to a feed."""
        self._listeners.append(listener)

    async def apply(
        self,
        channel_id: int,
        write: Callable[Concatenate[sqlite_utils.Database, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `write(db, ...)` in one transaction; announce the feed if its row changed."""

        def work(db: sqlite_utils.Database) -> tuple[T, bool]:
            before = feeds_repo.get_feed(db, channel_id)
            result = write(db, *args, **kwargs)
            return result, feeds_repo.get_feed(db, channel_id) != before

        result, changed = await self.store.run(work)
        if changed:
            self._announce([channel_id])
        return result

    async def delete_channel(self, channel_id: int) -> None:
        """Forget a deleted channel (or thread): its feed and subscriptions."""
        await self.apply(channel_id, feeds_repo.delete_channel, channel_id)

    async def delete_guild(self, guild_id: int) -> None:
        """Forget a server the bot left: every feed and subscription in it."""

        def work(db: sqlite_utils.Database) -> list[int]:
            gone = [f.channel_id for f in feeds_repo.list_feeds(db) if f.guild_id == guild_id]
            feeds_repo.delete_guild(db, guild_id)
            return gone

        self._announce(await self.store.run(work))

    def _announce(self, channel_ids: list[int]) -> None:
        for channel_id in channel_ids:
            for listener in self._listeners:
                try:
                    listener(channel_id)
                except Exception:  # one listener failing must not undo or hide the write
                    log.exception("Feed change listener failed for %s", channel_id)
