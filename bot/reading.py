"""What the buttons under every posted paper do, Discord-free: Save (the reading list), Similar
(a `like:` subscription) and Not for me (`-like:` on the subscriptions that matched, else a
mute), each with its exact undo. Every function acts on the member's own lists only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.errors import UserError
from bot.likes import documents, score_batch
from bot.models import Paper
from bot.query import MAX_QUERY_LENGTH, QueryError, parse
from bot.query.query import excluding_like, without_like_exclusion
from bot.store import reading_list as lists
from bot.store import subscriptions as subs_repo
from bot.store.papers import get_paper
from bot.store.subscriptions import PersonalSubscription
from bot.subscribing import FeedDefaults, Subscribed, safe_text, subscribe_personal
from bot.text import truncate

TITLE_LIMIT = 80
GONE = "I no longer have that paper, so I can't do that with it."
NO_DM_SERVER = (
    "Similar from a DM needs one of your DM subscriptions' servers: "
    "run /subscribe query:like:{id} dm:true in a server."
)


def title_of(paper: Paper | lists.SavedPaper) -> str:
    """The paper's title, cut, in bold (Markdown-safe)."""
    shown = safe_text(truncate(paper.title, TITLE_LIMIT)).replace("*", "\\*")
    return f"**{shown}**"


def _paper(db: sqlite_utils.Database, paper_id: str) -> Paper:
    paper = get_paper(db, paper_id)
    if paper is None:
        raise UserError(GONE)
    return paper


@dataclass(frozen=True, slots=True)
class Outcome:
    """A button's answer: the text, and whether there is something to undo."""

    text: str
    undoable: bool


def save(db: sqlite_utils.Database, *, user_id: int, paper_id: str, now: datetime) -> Outcome:
    """Put the paper on the member's reading list."""
    paper = _paper(db, paper_id)
    added = lists.save_paper(db, user_id, paper, now)
    if not added:
        return Outcome(f"🔖 {title_of(paper)} is already on your reading list (/saved).", False)
    _, total = lists.saved_page(db, user_id, offset=0, limit=0)
    noun = "paper" if total == 1 else "papers"
    return Outcome(
        f"🔖 Saved {title_of(paper)} to your reading list ({total} {noun}; /saved lists them).",
        True,
    )


def unsave(db: sqlite_utils.Database, *, user_id: int, paper_id: str) -> str:
    """Undo a Save (or Remove from /saved): take the paper off the member's list."""
    if not lists.unsave_paper(db, user_id, paper_id):
        return f"arXiv:{paper_id} is not on your reading list."
    return f"Removed arXiv:{paper_id} from your reading list."


def dm_guild(db: sqlite_utils.Database, user_id: int, paper_id: str) -> int:
    """The server a Similar from a DM digest belongs to: that of the member's DM subscriptions."""
    mine = subs_repo.dm_subscriptions_of(db, user_id)
    if not mine:
        raise UserError(NO_DM_SERVER.format(id=paper_id))
    return mine[0].guild_id


def similar(
    db: sqlite_utils.Database,
    *,
    guild_id: int | None,
    user_id: int,
    channel_id: int | None,
    paper_id: str,
    defaults: FeedDefaults,
    now: datetime,
    may_create_feed: bool,
) -> Subscribed:
    """The member's personal subscription `like:<id>` in the channel (None: by DM), dry-run."""
    _paper(db, paper_id)
    dm = channel_id is None
    query = parse(f"like:{paper_id}")
    return subscribe_personal(
        db,
        guild_id=guild_id if guild_id is not None else dm_guild(db, user_id, paper_id),
        user_id=user_id,
        channel_id=channel_id or 0,
        query=query,
        text=query.normal,
        dm=dm,
        defaults=defaults,
        now=now,
        may_create_feed=may_create_feed,
    )


def unsubscribe_similar(db: sqlite_utils.Database, *, user_id: int, sub_id: int) -> str:
    """Undo a Similar: remove the subscription it made (only the member's own)."""
    sub = subs_repo.get_personal(db, sub_id)
    if (
        sub is None
        or sub.user_id != user_id
        or not subs_repo.remove_personal(db, sub_id=sub_id, user_id=user_id)
    ):
        return "That subscription is already gone."
    return f"Unsubscribed from `{safe_text(sub.normal, 200)}`."


@dataclass(frozen=True, slots=True)
class NotForMe:
    """What Not for me changed: subscriptions (id, new normal form), or a mute."""

    changed: tuple[tuple[int, str], ...]
    muted: bool
    skipped: tuple[str, ...]  # normal forms that could take no `-like:` (too long, duplicate)
    title: str

    def describe(self, where: str) -> str:
        """The answer: the subscriptions changed, or the mute (at most 3 lines)."""
        if self.changed:
            names = ", ".join(f"`{safe_text(n, 300)}`" for _, n in self.changed)
            text = f"🔕 Not for me: changed {names} so papers like this one stop matching."
        elif self.muted:
            text = f"🔕 Not for me: papers like {self.title} won't mention you {where} any more."
        else:
            text = f"🔕 Papers like {self.title} are already muted for you {where}."
        if self.skipped:
            names = ", ".join(f"`{safe_text(n, 200)}`" for n in self.skipped)
            text += f"\nUnchanged (too long or a duplicate): {names}."
        return truncate(text, 1900)


def _candidates(
    db: sqlite_utils.Database, user_id: int, channel_id: int | None
) -> list[PersonalSubscription]:
    if channel_id is None:
        return subs_repo.dm_subscriptions_of(db, user_id)
    return [s for s in subs_repo.personal_for_channel(db, channel_id) if s.user_id == user_id]


def not_for_me(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    channel_id: int | None,
    paper_id: str,
    now: datetime,
) -> NotForMe:
    """Append `-like:<id>` to each of the member's subscriptions here (None: DM ones) that match
    the paper; if none does, mute papers like it for the member here."""
    paper = _paper(db, paper_id)
    parsed = []
    for sub in _candidates(db, user_id, channel_id):
        try:
            parsed.append((sub, parse(sub.query)))
        except QueryError:
            continue
    likes = score_batch(db, [paper], [q for _, q in parsed])
    (doc,) = documents([paper], likes)
    changed: list[tuple[int, str]] = []
    skipped: list[str] = []
    for sub, query in parsed:
        if query.matches(doc) is None:
            continue
        new = excluding_like(query, paper_id)
        if len(new.normal) > MAX_QUERY_LENGTH or not lists.set_personal_query(
            db, sub_id=sub.id, user_id=user_id, query=new.normal, normal=new.normal
        ):
            skipped.append(sub.normal)
            continue
        changed.append((sub.id, new.normal))
    muted = False
    if not changed:
        key = lists.DM_CHANNEL if channel_id is None else channel_id
        muted = lists.mute_paper(db, user_id, key, paper_id, now)
    return NotForMe(tuple(changed), muted, tuple(skipped), title_of(paper))


def undo_not_for_me(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    channel_id: int | None,
    paper_id: str,
    sub_ids: tuple[int, ...] | None,
) -> str:
    """Take `-like:<id>` off these subscriptions again (None: lift the mute instead; empty: off
    each of the member's subscriptions here that holds it)."""
    if sub_ids is None:
        key = lists.DM_CHANNEL if channel_id is None else channel_id
        lifted = lists.unmute_paper(db, user_id, key, paper_id)
        return (
            f"Unmuted arXiv:{paper_id}: papers like it mention you again."
            if lifted
            else f"arXiv:{paper_id} was not muted."
        )
    restored: list[str] = []
    if not sub_ids:
        sub_ids = tuple(s.id for s in _candidates(db, user_id, channel_id))
    for sub_id in sub_ids:
        sub = subs_repo.get_personal(db, sub_id)
        if sub is None or sub.user_id != user_id:
            continue
        try:
            before = without_like_exclusion(parse(sub.query), paper_id)
        except QueryError:
            continue
        if before.normal != sub.normal and lists.set_personal_query(
            db, sub_id=sub_id, user_id=user_id, query=before.normal, normal=before.normal
        ):
            restored.append(before.normal)
    if not restored:
        return "Nothing to undo: those subscriptions changed or are gone."
    names = ", ".join(f"`{safe_text(n, 300)}`" for n in restored)
    return truncate(f"Undone: {names} as before.", 1900)
