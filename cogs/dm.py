"""`/dm schedule|pause|resume|status`: a member's own DM digest time, for their `dm:true`
subscriptions. Every answer is private and about the member who asked: no option names another
member, so nobody (moderators included) can see or change someone else's DM schedule."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.discord.client import PaperboyBot
from bot.discord.embeds import timestamp
from bot.dm_settings import (
    DM_DAYS,
    DmDefaults,
    DmStatus,
    dm_status,
    set_dm_paused,
    set_dm_schedule,
)
from bot.feed_settings import describe_schedule, next_slot, timezone_choices
from bot.store.dm_schedules import DmSchedule
from cogs.common import QUICK_WRITE, Interaction, per_user_cooldown, reply, write_soon

DAY_CHOICES = [app_commands.Choice(name=label, value=label) for label in DM_DAYS]
NO_DM_SUBSCRIPTIONS = "You have no DM subscriptions yet: add one with /subscribe dm:true."


def status_text(status: DmStatus, next_at: str | None) -> str:
    """The /dm status answer: schedule (own or default), pause, next DM, subscriptions, last run."""
    schedule = status.schedule
    own = "" if schedule.personal else " (the default; /dm schedule sets yours)"
    lines = [f"Your DM digest: {_describe(schedule)}{own}."]
    if schedule.paused:
        lines.append("Paused: /dm resume starts it again.")
    elif next_at:
        lines.append(f"Next: {next_at}.")
    count = status.subscriptions
    if not count:
        lines.append(NO_DM_SUBSCRIPTIONS)
    else:
        lines.append(f"{count} DM subscription{'s' if count != 1 else ''} (/subscriptions).")
    last = status.last_run
    if last is not None:
        papers = f"{last.posted} paper{'s' if last.posted != 1 else ''}"
        lines.append(f"Last DM digest: {timestamp(last.started_at, 'f')}, {papers}.")
    return "\n".join(lines)


def _describe(schedule: DmSchedule) -> str:
    return describe_schedule(schedule.schedule_time, schedule.timezone, schedule.days)


class Dm(commands.GroupCog, group_name="dm", group_description="Your DM digest's schedule"):
    """A member's DM digest schedule."""

    def __init__(self, bot: PaperboyBot) -> None:
        self.bot = bot
        super().__init__()

    def _defaults(self) -> DmDefaults:
        return DmDefaults(self.bot.settings.default_schedule, self.bot.settings.default_timezone)

    def _changed(self) -> None:
        if self.bot.scheduler is not None:
            self.bot.scheduler.dm_schedules_changed()

    def _next(self, schedule: DmSchedule) -> str:
        slot = next_slot(schedule.schedule_time, schedule.timezone, schedule.days, self.bot.clock())
        return timestamp(slot, "f")

    @app_commands.command(name="schedule", description="When your DM digest comes")
    @app_commands.describe(
        time="Time of day, HH:MM (24-hour)",
        timezone="IANA timezone, e.g. Europe/Paris (start typing)",
        days="Every day or weekdays only",
    )
    @app_commands.choices(days=DAY_CHOICES)
    @per_user_cooldown(QUICK_WRITE)
    async def schedule(
        self, interaction: Interaction, time: str, timezone: str, days: str = "every day"
    ) -> None:
        """Set the member's own DM time, timezone and days."""
        schedule = await write_soon(
            interaction,
            self.bot.store.run(
                set_dm_schedule,
                user_id=interaction.user.id,
                time_text=time,
                timezone_text=timezone,
                days=days,
                defaults=self._defaults(),
                now=self.bot.clock(),
            ),
        )
        self._changed()
        text = f"Your DM digest now comes at {_describe(schedule)}"
        text += " (paused: /dm resume starts it)." if schedule.paused else "."
        await reply(interaction, text)

    @schedule.autocomplete("timezone")
    async def _timezones(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in timezone_choices(current)]

    @app_commands.command(name="pause", description="Stop your DM digest for now")
    async def pause(self, interaction: Interaction) -> None:
        """Pause the member's DM digest (their subscriptions stay)."""
        await write_soon(interaction, self.bot.store.run(
            set_dm_paused, user_id=interaction.user.id, paused=True,
            defaults=self._defaults(), now=self.bot.clock(),
        ))  # fmt: skip
        self._changed()
        await reply(interaction, "Paused your DM digest; /dm resume starts it again.")

    @app_commands.command(name="resume", description="Start your DM digest again")
    async def resume(self, interaction: Interaction) -> None:
        """Resume the member's paused DM digest."""
        schedule = await write_soon(interaction, self.bot.store.run(
            set_dm_paused, user_id=interaction.user.id, paused=False,
            defaults=self._defaults(), now=self.bot.clock(),
        ))  # fmt: skip
        self._changed()
        await reply(interaction, f"Resumed your DM digest: next at {self._next(schedule)}.")

    @app_commands.command(name="status", description="Your DM digest: schedule, next and last")
    async def status(self, interaction: Interaction) -> None:
        """Show the member's own DM schedule, pause state, subscriptions and last DM digest."""
        found = await self.bot.store.read(dm_status, interaction.user.id, self._defaults())
        next_at = None if found.schedule.paused else self._next(found.schedule)
        await reply(interaction, status_text(found, next_at))


async def setup(bot: PaperboyBot) -> None:
    """Register the cog (called by `load_extension`)."""
    await bot.add_cog(Dm(bot))
