"""`/feed ...`: a channel's daily digest, managed by members with Manage Channels."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.delivery.planner import plan_digest
from bot.discord.channels import digest_form
from bot.discord.client import PaperboyBot
from bot.discord.embeds import code, post_now_text, preview_message, status_embed
from bot.errors import UserError
from bot.feed_admin import (
    NO_FEED,
    feed_status,
    require_feed,
    set_paused,
    set_schedule,
    set_sources,
    unfetched_note,
)
from bot.feed_settings import DAYS, WEEKDAYS, describe_schedule, timezone_choices
from bot.feed_sources import parse_sources
from bot.store import subscriptions as subs_repo
from bot.subscribing import parse_query, subscribe_channel, unsubscribe_channel
from cogs.common import (
    DRY_RUN,
    QUICK_WRITE,
    Interaction,
    display_name,
    feed_defaults,
    fetch_likes,
    guild_ids,
    per_user_cooldown,
    reply,
    reply_subscribed,
    scheduler_of,
    subscription_choices,
    write_soon,
)

MAX_NAME_LOOKUPS = 10  # members fetched by REST for one preview; the rest show as mentions

DAY_CHOICES = [app_commands.Choice(name=label, value=label) for label in DAYS]
WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=name) for name in WEEKDAYS]


class NeedsManageChannels(app_commands.MissingPermissions):
    """The refusal for members without Manage Channels, worded for people (not `permission(s)`)."""

    def __init__(self) -> None:
        super().__init__(["manage_channels"])

    def __str__(self) -> str:
        return "Only members with the Manage Channels permission can change this channel's feed."


def can_manage(interaction: Interaction) -> bool:
    """Whether the member may change this channel's feed."""
    return interaction.permissions.manage_channels


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class Feeds(commands.GroupCog, group_name="feed", group_description="This channel's daily digest"):
    """The channel feed commands; Discord hides them from members without Manage Channels."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Refuse members without Manage Channels (server admins can override the default)."""
        if not can_manage(interaction):
            raise NeedsManageChannels()
        return True

    @app_commands.command(name="subscribe", description="Add a subscription for this channel")
    @app_commands.describe(query='What to look for, e.g. diffusion -survey, "masked diffusion"')
    @per_user_cooldown(DRY_RUN)
    async def subscribe(self, interaction: Interaction, query: str) -> None:
        """Add a channel subscription (starting the feed if needed) and show a dry run."""
        guild_id, channel_id = guild_ids(interaction)
        parsed = parse_query(query)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await fetch_likes(self.bot, parsed)
        done = await self.bot.feeds.apply(
            channel_id,
            subscribe_channel,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=interaction.user.id,
            query=parsed,
            text=query,
            defaults=feed_defaults(self.bot),
            now=self.bot.clock(),
        )
        where = "in this channel's daily digest"
        await reply_subscribed(interaction, done, where)

    @app_commands.command(
        name="unsubscribe", description="Remove one of this channel's subscriptions"
    )
    @app_commands.describe(subscription="The subscription to remove (start typing to pick)")
    @per_user_cooldown(QUICK_WRITE)
    async def unsubscribe(self, interaction: Interaction, subscription: str) -> None:
        """Remove a channel subscription."""
        _, channel_id = guild_ids(interaction)
        removed = await write_soon(
            interaction,
            self.bot.store.run(unsubscribe_channel, channel_id=channel_id, value=subscription),
        )
        await reply(interaction, f"This channel is no longer subscribed to {code(removed.normal)}.")

    @unsubscribe.autocomplete("subscription")
    async def _channel_subscriptions(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.channel_id is None or not can_manage(interaction):
            return []
        subs = await self.bot.store.read(subs_repo.list_channel, interaction.channel_id)
        return subscription_choices(((s.normal, s.id) for s in subs), current)

    @app_commands.command(
        name="schedule", description="When this channel's digest is posted: daily, weekdays, weekly"
    )
    @app_commands.describe(
        time="Time of day, HH:MM (24-hour)",
        timezone="IANA timezone, e.g. Europe/Paris (start typing)",
        days="Every day, weekdays only, or once a week (everything since the last digest)",
        weekday="With weekly: the day it goes out (default Monday)",
    )
    @app_commands.choices(days=DAY_CHOICES, weekday=WEEKDAY_CHOICES)
    @per_user_cooldown(QUICK_WRITE)
    async def schedule(
        self,
        interaction: Interaction,
        time: str,
        timezone: str,
        days: str = "every day",
        weekday: str | None = None,
    ) -> None:
        """Set the digest's time, timezone, days and weekday."""
        guild_id, channel_id = guild_ids(interaction)
        feed = await write_soon(
            interaction,
            self.bot.feeds.apply(
                channel_id,
                set_schedule,
                channel_id=channel_id,
                guild_id=guild_id,
                user_id=interaction.user.id,
                time_text=time,
                timezone_text=timezone,
                days=days,
                weekday=weekday,
                defaults=feed_defaults(self.bot),
                now=self.bot.clock(),
            ),
        )
        schedule = describe_schedule(feed.schedule_time, feed.timezone, feed.days)
        await reply(interaction, f"This channel's digest now goes out at {schedule}.")

    @schedule.autocomplete("timezone")
    async def _timezones(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in timezone_choices(current)]

    @app_commands.command(name="sources", description="Where this channel's papers come from")
    @app_commands.describe(sources="e.g. hf, arxiv:cs.CL, or hf, arxiv:cs.LG+cs.CV")
    @per_user_cooldown(QUICK_WRITE)
    async def sources(self, interaction: Interaction, sources: str) -> None:
        """Set the feed's sources."""
        guild_id, channel_id = guild_ids(interaction)
        feed = await write_soon(
            interaction,
            self.bot.feeds.apply(
                channel_id,
                set_sources,
                channel_id=channel_id,
                guild_id=guild_id,
                user_id=interaction.user.id,
                text=sources,
                defaults=feed_defaults(self.bot),
                now=self.bot.clock(),
            ),
        )
        chosen = parse_sources(feed.sources)
        note = unfetched_note(chosen, self.bot.settings.categories)
        text = f"Sources set to {code(feed.sources)}: {chosen.describe()}."
        await reply(interaction, f"{text}\n{note}" if note else text)

    @app_commands.command(name="pause", description="Stop posting this channel's digest")
    async def pause(self, interaction: Interaction) -> None:
        """Pause the feed, remembering who paused it."""
        _, channel_id = guild_ids(interaction)
        reason = f"paused by {display_name(interaction.user)}"
        await write_soon(
            interaction,
            self.bot.feeds.apply(
                channel_id, set_paused, channel_id=channel_id, paused=True, reason=reason
            ),
        )
        await reply(interaction, "Paused this channel's digest; /feed resume starts it again.")

    @app_commands.command(name="resume", description="Start posting this channel's digest again")
    async def resume(self, interaction: Interaction) -> None:
        """Resume a paused feed."""
        _, channel_id = guild_ids(interaction)
        await write_soon(
            interaction,
            self.bot.feeds.apply(
                channel_id, set_paused, channel_id=channel_id, paused=False, reason=None
            ),
        )
        await reply(interaction, "Resumed this channel's digest.")

    @app_commands.command(name="status", description="Schedule, sources, last and next run")
    async def status(self, interaction: Interaction) -> None:
        """Show the feed's settings, runs and subscriptions."""
        _, channel_id = guild_ids(interaction)
        found = await self.bot.store.read(feed_status, channel_id)
        scheduler = scheduler_of(self.bot)
        next_run = scheduler.next_run(channel_id) if scheduler else None
        form = digest_form(interaction.channel)
        await reply(interaction, embed=status_embed(found, next_run, self.bot.clock(), form))

    @app_commands.command(name="preview", description="What the digest would post right now")
    async def preview(self, interaction: Interaction) -> None:
        """Show the digest as it would be posted now, without posting or pinging."""
        _, channel_id = guild_ids(interaction)
        feed = await self.bot.store.read(require_feed, channel_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock()
        plan = await self.bot.store.read(
            plan_digest, channel_id, now, cap=self.bot.settings.digest_cap
        )
        if plan is None:
            raise UserError(NO_FEED)
        users = {u for e in plan.digest.entries for u in e.mention_user_ids}
        names = await self._names(interaction, users)
        day = now.astimezone(ZoneInfo(feed.timezone)).date()  # the date the digest would carry
        text, embeds = preview_message(plan, names, day)
        await reply(interaction, text, embeds=embeds)

    async def _names(self, interaction: Interaction, user_ids: Iterable[int]) -> dict[int, str]:
        # No members intent: look names up by REST, a bounded number per preview.
        names: dict[int, str] = {}
        guild = interaction.guild
        for user_id in sorted(user_ids)[:MAX_NAME_LOOKUPS]:
            member = guild.get_member(user_id) if guild else None
            if member is None and guild is not None:
                try:
                    member = await guild.fetch_member(user_id)
                except discord.HTTPException:
                    continue  # left the server: shown as a (non-pinging) id instead
            if member is not None:
                names[user_id] = display_name(member)
        return names

    @app_commands.command(name="post-now", description="Post this channel's digest now")
    async def post_now(self, interaction: Interaction) -> None:
        """Run the digest now through the scheduler (never re-posting a delivered paper)."""
        _, channel_id = guild_ids(interaction)
        scheduler = scheduler_of(self.bot)
        if scheduler is None:
            await reply(interaction, "The scheduler isn't running.")
            return
        await self.bot.store.read(require_feed, channel_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await scheduler.run_feed_now(channel_id)
        if report.posted:
            text = post_now_text(report.posted, report.matched, report.listed)
        else:
            text = f"Nothing posted: {report.reason or 'no new matching papers'}."
        await reply(interaction, text)


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Feeds(bot))
