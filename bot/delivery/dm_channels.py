"""Members' DM channel ids, kept in the store so the bot opens a member's DM channel once, not on
every daily DM (Discord warns that opening many DM channels gets a bot limited)."""

from __future__ import annotations

from bot.store import Store
from bot.store import deliveries as ledger


class StoredDmChannels:
    """The `DmChannelBook` the Discord poster consults before opening a DM channel."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, user_id: int) -> int | None:
        """The member's DM channel id, if known."""
        return await self.store.run(ledger.dm_channel_of, user_id)

    async def remember(self, user_id: int, channel_id: int) -> None:
        """Keep the member's DM channel id."""
        await self.store.run(ledger.remember_dm_channel, user_id, channel_id)
