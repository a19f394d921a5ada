"""Discord rendering of papers, search pages, dry runs and feed status for the slash commands.

Only presentation lives here: every number and decision comes from the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import discord

from bot import limits
from bot.delivery.channels import feed_notes
from bot.delivery.messages import date_label, embed_length, header_text, paper_links
from bot.delivery.messages import paper_embed as digest_paper_embed
from bot.delivery.planner import DigestPlan
from bot.dry_run import DryRun
from bot.feed_admin import FeedStatus
from bot.feed_settings import describe_schedule, next_slot, weekly_day
from bot.feed_sources import SourcesError, parse_sources
from bot.links import markdown_link
from bot.models import Paper
from bot.search import SearchPage
from bot.store.feeds import Feed
from bot.store.subscriptions import ChannelSubscription, PersonalSubscription
from bot.subscribing import SubscriptionOverview
from bot.text import inert, neutralise_mentions, truncate

EMBED_COLOUR = discord.Colour(limits.EMBED_COLOUR)
DESCRIPTION_LIMIT = limits.EMBED_DESCRIPTION_LIMIT
FIELD_LIMIT = limits.FIELD_VALUE_LIMIT
TITLE_LIMIT = limits.EMBED_TITLE_LIMIT
MESSAGE_LIMIT = limits.MESSAGE_LIMIT
ABSTRACT_BUDGET = 3000  # TL;DR + abstract, leaving room for authors, fields and footer


def md(text: str) -> str:
    """Paper or user text made literal for Discord: Markdown escaped, mentions inert."""
    return inert(text)


def code(text: str) -> str:
    """User text inside inline code (backticks can't be escaped there, so they're swapped)."""
    return "`" + neutralise_mentions(text).replace("`", "ˋ") + "`"


def timestamp(moment: datetime, style: str) -> str:
    """A Discord timestamp that each reader sees in their own timezone (`t` time, `R` relative)."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def paper_date(paper: Paper) -> str:
    """The paper's date as `24 Oct 2024` (published, else listed on HF, else first seen)."""
    when = paper.published or paper.hf_date or paper.first_seen
    if when is None:
        return "undated"
    return date_label(when.date() if isinstance(when, datetime) else when)


def paper_embed(paper: Paper, tldr: str) -> discord.Embed:
    """One paper in full: title, authors, date, categories, TL;DR, abstract, links, upvotes."""
    embed = discord.Embed(
        title=truncate(md(paper.title), TITLE_LIMIT), url=paper.abs_url, colour=EMBED_COLOUR
    )
    authors = ", ".join(paper.authors)
    if authors:
        # author names render no Markdown, so only mentions are made inert
        embed.set_author(name=truncate(neutralise_mentions(authors), TITLE_LIMIT))
    # The TL;DR leads (the description renders above every field); the abstract follows it.
    summary = f"**TL;DR** {truncate(md(tldr), FIELD_LIMIT)}" if tldr else ""
    room = ABSTRACT_BUDGET - len(summary)
    abstract = truncate(md(paper.abstract), room) if paper.abstract else ""
    embed.description = "\n\n".join(p for p in (summary, abstract) if p) or None
    embed.add_field(name="Date", value=paper_date(paper))
    if paper.categories:
        embed.add_field(name="Categories", value=truncate(md(", ".join(paper.categories)), 200))
    if paper.upvotes is not None:
        embed.add_field(name="Upvotes", value=str(paper.upvotes))
    embed.add_field(name="Links", value=paper_links(paper, with_abs=True), inline=False)
    if paper.thumbnail:
        embed.set_thumbnail(url=paper.thumbnail)
    embed.set_footer(text=f"arXiv:{paper.id}")
    return embed


def search_embed(
    normal: str,
    page: SearchPage,
    per_page: int,
    days: int | None,
    total: int | None = None,
    at_least: bool = False,
) -> discord.Embed:
    """One page of search results: linked title, date and highlighted snippet per paper, and
    `Page 1 of 3 · 13 results` when the `total` is known (`Page 1 · 1,000+ results` when the
    count stopped at `total`)."""
    blocks = []
    for rank, hit in enumerate(page.hits, start=page.offset + 1):
        title = markdown_link(truncate(hit.paper.title, 250), hit.paper.abs_url)
        # a `like:` search says how similar each paper is: `similar to "LoRA: …" (0.41)`
        similar = "; ".join(md(t.term) for t in hit.match.terms if t.field == "like")
        why = f"\n*{similar}*" if similar else ""
        blocks.append(
            f"**{rank}. {title}** · {paper_date(hit.paper)}{why}\n"
            f"{neutralise_mentions(hit.snippet)}"
        )
    number = page.offset // per_page + 1
    window = f" · {last_days(days)}" if days else ""
    if total is not None and at_least:
        window = f" · {total:,}+ results{window}"
    elif total is not None:
        pages = max(1, -(-total // per_page))  # ceiling division
        noun = "result" if total == 1 else "results"
        window = f" of {pages:,} · {total:,} {noun}{window}"
    embed = discord.Embed(
        title=truncate(f"Search: {normal}", TITLE_LIMIT),
        description=truncate("\n\n".join(blocks), DESCRIPTION_LIMIT),
        colour=EMBED_COLOUR,
    )
    embed.set_footer(text=f"Page {number}{window}")
    return embed


def last_days(days: int) -> str:
    """`last day` or `last 3 days`."""
    return "last day" if days == 1 else f"last {days} days"


def no_results_text(normal: str, days: int | None) -> str:
    """What /search says when nothing matched, with a hint to broaden the query."""
    window = f" in the {last_days(days)}" if days else ""
    hint = "drop `days`, " if days else ""
    return (
        f"No papers match {code(normal)}{window}. Try a broader query: {hint}fewer words, "
        "`OR` between alternatives, or a prefix such as `quantiz*`."
    )


NO_MATCHES_YET = (
    "That's fine for a new topic — matches are delivered as they appear. To widen it, use fewer "
    "words, `OR` between alternatives, or a prefix such as `quantiz*`."
)
# A bot that has fetched nothing recent can't judge the query: don't tell the user to widen it.
NOTHING_STORED_YET = "No papers from those days are stored yet, so there was nothing to try it on."


def subscribed_text(
    normal: str,
    run: DryRun,
    where: str,
    new_feed_schedule: str | None,
    digest_form: str | None = None,
) -> str:
    """The /subscribe reply: the normal form, where matches go, the schedule of a feed started
    for it (`new_feed_schedule`, None if the channel had one), the dry run, and the form the
    channel's digest takes (`digest_form`, for channel digests)."""
    lines = [f"Subscribed to {code(normal)}: {where}."]
    if new_feed_schedule:
        lines.append(
            f"This channel had no feed, so I started one with the default schedule: "
            f"{new_feed_schedule} (change it with /feed schedule)."
        )
    lines.append(run.describe() + (" For example:" if run.examples else ""))
    if not run.matched:
        lines.append(NOTHING_STORED_YET if not run.considered else NO_MATCHES_YET)
    lines.extend(
        f"• {markdown_link(truncate(p.title, 150), p.abs_url, preview=False)}" for p in run.examples
    )
    if digest_form:
        lines.append(f"Here the digest is {digest_form}.")
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def personal_label(sub: PersonalSubscription, channel_names: Mapping[int, str]) -> str:
    """e.g. `diffusion · DM` or `diffusion · #papers`."""
    if sub.dm:
        return f"{sub.normal} · DM"
    name = channel_names.get(sub.channel_id or 0, "deleted channel")
    return f"{sub.normal} · #{name}"


def _feed_line(feed: Feed | None) -> str:
    if feed is None:
        return "This channel has no feed."
    state = " (paused)" if feed.paused else ""
    schedule = describe_schedule(feed.schedule_time, feed.timezone, feed.days)
    return f"This channel's feed: {schedule}{state}."


def overview_text(view: SubscriptionOverview, channel_names: Mapping[int, str]) -> str:
    """The /subscriptions reply: mine in this server, then this channel's feed."""
    lines = ["**Your subscriptions in this server**"]
    if view.mine:
        lines.extend(f"• {code(personal_label(s, channel_names))}" for s in view.mine)
    else:
        lines.append("None yet: try `/subscribe query:diffusion`.")
    lines += ["", "**This channel**", _feed_line(view.feed)]
    if view.channel_subs:
        lines.extend(f"• {code(s.normal)}" for s in view.channel_subs)
    elif view.feed is not None:
        lines.append("No channel subscriptions.")
    if view.personal_here:
        lines.append(others_text(view.personal_here, view.others_here))
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def dm_label(sub: PersonalSubscription, server_names: Mapping[int, str]) -> str:
    """e.g. `diffusion · ML Lab`: a DM subscription and the server it was made in."""
    return f"{sub.normal} · {server_names.get(sub.guild_id) or f'server {sub.guild_id}'}"


def dm_overview_text(subs: Sequence[PersonalSubscription], server_names: Mapping[int, str]) -> str:
    """The /subscriptions reply in a DM with the bot: the DM subscriptions from every server."""
    if not subs:
        return (
            "You get no papers by DM. In a server, `/subscribe query:diffusion dm:true` "
            "sends its matches here."
        )
    lines = ["**Your DM subscriptions, from every server**"]
    lines.extend(f"• {code(dm_label(s, server_names))}" for s in subs)
    lines.append("Remove one here with /unsubscribe, even from a server you have left.")
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def others_text(subscriptions: int, members: int) -> str:
    """e.g. `Plus 3 personal subscriptions of 2 other members.`"""
    if subscriptions == 1:
        return "Plus 1 other member's personal subscription."
    whose = "1 other member" if members == 1 else f"{members} other members"
    return f"Plus {subscriptions} personal subscriptions of {whose}."


def _sub_lines(
    channel_subs: Sequence[ChannelSubscription], personal: Sequence[PersonalSubscription]
) -> str:
    lines = [f"• {code(s.normal)}" for s in channel_subs]
    lines += [f"• {code(s.normal)} (<@{s.user_id}>)" for s in personal]
    return truncate("\n".join(lines), FIELD_LIMIT) if lines else "None yet (/feed subscribe)."


def status_embed(
    status: FeedStatus, next_run: datetime | None, now: datetime, digest_form: str | None = None
) -> discord.Embed:
    """/feed status: schedule, sources, the digest's form here, next and last run, pause state,
    notes, subscriptions."""
    feed = status.feed
    embed = discord.Embed(title="Feed status", colour=EMBED_COLOUR)
    slot = next_slot(feed.schedule_time, feed.timezone, feed.days, now)
    style = "t" if weekly_day(feed.days) is None else "F"  # a weekly slot: its day matters too
    embed.add_field(
        name="Schedule",
        value=f"{describe_schedule(feed.schedule_time, feed.timezone, feed.days)}"
        f" (your time: {timestamp(slot, style)})",
        inline=False,
    )
    try:
        sources = parse_sources(feed.sources).describe()
    except SourcesError:
        sources = feed.sources
    embed.add_field(name="Sources", value=sources, inline=False)
    if digest_form:
        embed.add_field(name="Posts as", value=truncate(digest_form, FIELD_LIMIT), inline=False)
    if feed.disabled:
        state = "Disabled: I can no longer post in this channel."
    elif feed.paused:
        state = paused_text(feed.pause_reason)
    else:
        state = f"Next run {timestamp(next_run, 'R')}" if next_run else "Not scheduled yet"
    embed.add_field(name="State", value=truncate(state, FIELD_LIMIT), inline=False)
    embed.add_field(name="Last run", value=last_run_text(status, feed.timezone), inline=False)
    if notes := feed_notes(feed):
        embed.add_field(name="Notes", value=truncate(md(notes), FIELD_LIMIT), inline=False)
    embed.add_field(
        name="Subscriptions",
        value=_sub_lines(status.channel_subs, status.personal_subs),
        inline=False,
    )
    return embed


def paused_text(reason: str | None) -> str:
    """`Paused by mod — /feed resume starts it again.`, or the reason it was paused."""
    if not reason:
        state = "Paused"
    elif reason.lower().startswith("paused "):  # "paused by <name>": don't say "paused" twice
        state = "Paused " + md(reason[len("paused ") :])
    else:
        state = f"Paused: {md(reason)}"
    if reason and "/feed resume" in reason:  # the reason already says how to resume
        return state.rstrip(".") + "."
    return f"{state.rstrip('.')} — /feed resume starts it again."


def papers(n: int) -> str:
    """`1 paper`, `3 papers`."""
    return f"{n} paper" if n == 1 else f"{n} papers"


def post_now_text(posted: int, matched: int, listed: int) -> str:
    """/feed post-now's answer when it posted, e.g. `Posted 2 papers here: 2 of 3 new papers
    matched.` (fewer posted than matched: the digest cap or papers already delivered)."""
    new = "1 new paper" if listed == 1 else f"{listed} new papers"
    return f"Posted {papers(posted)} here: {matched} of {new} matched."


def last_run_text(status: FeedStatus, tz: str) -> str:
    """When the last run happened and what it did (or why it posted nothing)."""
    run = status.last_run
    if run is None:
        return "Never run yet."
    local = run.started_at.astimezone(ZoneInfo(tz))
    text = (
        f"{date_label(local.date())} {local:%H:%M} ({timestamp(run.started_at, 'R')}):"
        f" {run.listed} listed,"
        f" {run.matched} matched, {run.posted} posted"
    )
    if run.state == "running":
        text += " (still running)"
    elif run.state == "failed":
        text += f" — failed: {md(run.reason or 'unknown error')}"
    elif run.posted == 0 and run.reason:
        text += f" — {md(run.reason)}"
    return truncate(text, FIELD_LIMIT)


def preview_message(
    plan: DigestPlan, names: Mapping[int, str], day: date
) -> tuple[str, list[discord.Embed]]:
    """/feed preview: the digest's header and paper embeds as they would go out now, with who
    would be mentioned shown as names (nothing pings), or why nothing would be posted."""
    digest = plan.digest
    if not digest.entries:
        return f"Nothing would be posted now: {md(plan.reason or 'no new matching papers')}.", []
    titles = [(e.paper.title, e.paper.abs_url) for e in digest.entries]
    embeds: list[discord.Embed] = []
    total = 0
    for entry in digest.entries[: limits.EMBEDS_PER_MESSAGE]:
        data = digest_paper_embed(entry)
        who = ", ".join("@" + names.get(u, f"user {u}") for u in entry.mention_user_ids)
        if who:
            data["fields"].append({"name": "Would mention", "value": truncate(who, FIELD_LIMIT)})
        total += embed_length(data)
        if total > limits.EMBED_TOTAL_LIMIT:
            break
        embeds.append(discord.Embed.from_dict(data))
    matched = len(digest.entries) + digest.overflow
    listed = f"{plan.listed} new paper" + ("" if plan.listed == 1 else "s")
    lines = [
        f"**Preview** — {matched} of {listed} match this channel's subscriptions. "
        "Nothing is posted and nobody is pinged."
    ]
    lines.append(header_text(day, titles, digest.overflow))
    if len(embeds) < len(digest.entries):
        lines.append(f"(showing {len(embeds)} of {len(digest.entries)} papers below)")
    return truncate("\n".join(lines), MESSAGE_LIMIT), embeds
