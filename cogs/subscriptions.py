"""`/subscribe`, `/unsubscribe`, `/subscriptions`: a member's own subscriptions in a server; in a
DM with the bot, `/subscriptions` and `/unsubscribe` cover the DM subscriptions of every server."""

from __future__ import annotations

from collections.abc import Iterable

from discord import app_commands
from discord.ext import commands

from bot.discord.client import PaperboyBot
from bot.discord.embeds import code, dm_label, dm_overview_text, overview_text, personal_label
from bot.store import subscriptions as subs_repo
from bot.subscribing import (
    overview,
    parse_query,
    subscribe_personal,
    unsubscribe_dm,
    unsubscribe_personal,
)
from cogs.common import (
    DRY_RUN,
    QUICK_WRITE,
    Interaction,
    feed_defaults,
    fetch_likes,
    guild_ids,
    per_user_cooldown,
    reply,
    reply_subscribed,
    subscription_choices,
    write_soon,
)


def channel_names(interaction: Interaction) -> dict[int, str]:
    """Names of the server's cached channels and threads, by id (for labels)."""
    guild = interaction.guild
    if guild is None:
        return {}
    named = [*guild.channels, *guild.threads]
    return {c.id: c.name for c in named}


def server_names(bot: PaperboyBot, ids: Iterable[int]) -> dict[int, str]:
    """Names of the servers the bot still sees, by id (for labels in a DM)."""
    guilds = (bot.get_guild(i) for i in set(ids))
    return {g.id: g.name for g in guilds if g is not None}


# A DM with the bot counts too: there these list the DM subscriptions of every server.
in_servers_and_dms = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)


class Subscriptions(commands.Cog):
    """Personal subscriptions: delivered in a channel's digest with a mention, or by DM."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot

    @app_commands.command(name="subscribe", description="Get new papers matching a query")
    @app_commands.describe(
        query='What to look for, e.g. diffusion -survey, "masked diffusion", cat:cs.CL',
        dm="Send matches to you by DM instead of in this channel's daily digest",
    )
    @app_commands.guild_only()
    @per_user_cooldown(DRY_RUN)
    async def subscribe(self, interaction: Interaction, query: str, dm: bool = False) -> None:
        """Add a personal subscription and show what it would have matched recently."""
        guild_id, channel_id = guild_ids(interaction)
        parsed = parse_query(query)  # bad input is answered at once, before any work
        await interaction.response.defer(ephemeral=True, thinking=True)
        await fetch_likes(self.bot, parsed)
        done = await self.bot.feeds.apply(
            channel_id,
            subscribe_personal,
            guild_id=guild_id,
            user_id=interaction.user.id,
            channel_id=channel_id,
            query=parsed,
            text=query,
            dm=dm,
            defaults=feed_defaults(self.bot),
            now=self.bot.clock(),
            may_create_feed=interaction.permissions.send_messages,
        )
        where = "daily by DM" if dm else f"in the daily digest of <#{channel_id}>, mentioning you"
        await reply_subscribed(interaction, done, where, by_dm=dm)

    @app_commands.command(name="unsubscribe", description="Remove one of your subscriptions")
    @app_commands.describe(subscription="The subscription to remove (start typing to pick)")
    @in_servers_and_dms
    @per_user_cooldown(QUICK_WRITE)
    async def unsubscribe(self, interaction: Interaction, subscription: str) -> None:
        """Remove one of the member's own subscriptions in this server (in a DM: a DM one)."""
        user_id = interaction.user.id
        if interaction.guild_id is None:
            gone = await write_soon(
                interaction, self.bot.store.run(unsubscribe_dm, user_id=user_id, value=subscription)
            )
            label = dm_label(gone, server_names(self.bot, [gone.guild_id]))
            await reply(interaction, f"Unsubscribed from {code(label)}: no more DMs for it.")
            return
        removed = await write_soon(
            interaction,
            self.bot.store.run(
                unsubscribe_personal,
                guild_id=interaction.guild_id,
                user_id=user_id,
                value=subscription,
            ),
        )
        await reply(interaction, f"Unsubscribed from {code(removed.normal)}.")

    @unsubscribe.autocomplete("subscription")
    async def _own_subscriptions(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        user_id = interaction.user.id
        if interaction.guild_id is None:
            dms = await self.bot.store.read(subs_repo.dm_subscriptions_of, user_id)
            names = server_names(self.bot, (s.guild_id for s in dms))
            return subscription_choices(((dm_label(s, names), s.id) for s in dms), current)
        mine = await self.bot.store.read(
            subs_repo.list_personal, guild_id=interaction.guild_id, user_id=user_id
        )
        channels = channel_names(interaction)
        return subscription_choices(((personal_label(s, channels), s.id) for s in mine), current)

    @app_commands.command(
        name="subscriptions",
        description="Your subscriptions here and this channel's feed (in a DM: your DM ones)",
    )
    @in_servers_and_dms
    async def subscriptions(self, interaction: Interaction) -> None:
        """List the member's subscriptions in this server and this channel's feed subscriptions;
        in a DM, the member's DM subscriptions from every server."""
        if interaction.guild_id is None:
            dms = await self.bot.store.read(subs_repo.dm_subscriptions_of, interaction.user.id)
            names = server_names(self.bot, (s.guild_id for s in dms))
            await reply(interaction, dm_overview_text(dms, names))
            return
        guild_id, channel_id = guild_ids(interaction)
        found = await self.bot.store.read(
            overview, guild_id=guild_id, user_id=interaction.user.id, channel_id=channel_id
        )
        await reply(interaction, overview_text(found, channel_names(interaction)))


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Subscriptions(bot))
