"""Telling a member, once, that their DMs are closed so their DM subscription can't reach them."""

from __future__ import annotations

from bot.store.deliveries import dm_notice_pending, take_dm_notice

DM_CLOSED_NOTICE = (
    "I couldn't DM you your papers: open your DMs from server members, "
    "or use /subscribe without dm."
)

__all__ = ["DM_CLOSED_NOTICE", "dm_notice_pending", "take_dm_notice"]
