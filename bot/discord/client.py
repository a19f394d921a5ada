"""The discord.py client `paperboy run` starts: shards, extensions, command publishing (through
`bot/discord/sync.py`), services (scheduler, health endpoint), errors, and the gateway/command
figures it reports to `bot/ops/metrics`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.delivery.dm_channels import StoredDmChannels
from bot.delivery.dms import DmDigester
from bot.delivery.engine import DeliveryEngine
from bot.discord.pacing import pace_requests, requests_per_second_pacer
from bot.discord.poster import DiscordPoster
from bot.discord.replies import NO_MENTIONS, report_interaction_error
from bot.discord.sync import GUILD_INSTALL, CommandPublisher, SyncReport, pin_contexts
from bot.discord.telemetry import BotHealth, command_finished, command_started, http_trace
from bot.feed_changes import FeedChanges
from bot.ingest import ingest_once
from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics
from bot.scheduler import FeedScheduler
from bot.store import Store, utcnow
from bot.store.database import Clock

log = logging.getLogger(__name__)

# Every cog module `paperboy run` loads; each teammate adds theirs here.
DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "cogs.meta",
    "cogs.subscriptions",
    "cogs.feeds",
    "cogs.search",
    "cogs.dm",
    "cogs.trending",
    "cogs.reading",
)


class Service(Protocol):
    """Something that runs alongside the bot (the scheduler): started once, stopped on close."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def bot_intents() -> discord.Intents:
    """The gateway intents Paperboy needs: guilds only.

    `guilds` gives the guild/channel/thread cache and the GUILD_DELETE / CHANNEL_DELETE /
    THREAD_DELETE events that clean up the store. Slash commands arrive as interactions whatever
    the intents, and each interaction carries the member and their permissions, so neither the
    privileged `members` intent nor `message_content` is needed; DMs are sent by user id.
    """
    return discord.Intents(guilds=True)


class PaperboyBot(commands.AutoShardedBot):
    """Paperboy's Discord client, built from explicitly passed resources it does not own.

    Sharded from the start: the shard count is what Discord's GET /gateway/bot recommends at
    each start (one shard below 1,000 servers), since past 2,500 servers per shard Discord
    refuses the session (close code 4011).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        http_session: aiohttp.ClientSession,
        *,
        clock: Clock = utcnow,
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        metrics: Metrics | None = None,
        force_sync: bool = False,
    ) -> None:
        metrics = metrics or Metrics()
        trace = http_trace(metrics)
        # Many feeds deliver at once: the pacer keeps the whole bot under Discord's global limit.
        pacer = requests_per_second_pacer(settings.discord_requests_per_second)
        if pacer is not None:
            pace_requests(trace, pacer)
        super().__init__(
            # Only slash commands are used; a mention prefix never matches a registered command.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(),
            tree_cls=PaperboyTree,
            # Server installs only: no user install can run a command where the bot isn't.
            allowed_installs=GUILD_INSTALL,
            # Nobody gets pinged by anything the bot posts unless a call opts in explicitly.
            allowed_mentions=NO_MENTIONS,
            # We never request member lists (no members intent); say so rather than rely on it.
            chunk_guilds_at_startup=False,
            # Sees every REST request on discord.py's own session: paces it (above), counts
            # 429s and messages sent.
            http_trace=trace,
        )
        self.metrics = metrics
        self.pacer = pacer  # None when PAPERBOY_DISCORD_REQUESTS_PER_SECOND=0
        self.settings = settings
        self.store = store
        self.http_session = http_session
        self.clock = clock
        self.extension_names: tuple[str, ...] = tuple(extensions)
        self._services: list[Service] = []
        self._services_started = False
        self.scheduler: FeedScheduler | None = None  # set in setup_hook when scheduling is on
        # Every feed change is written and announced here; the scheduler follows it.
        self.feeds = FeedChanges(store)
        self.feeds.listen(self._feed_changed)
        self.health: HealthServer | None = None  # set in setup_hook when a metrics port is set
        self.force_sync = force_sync  # publish the commands even if unchanged (`paperboy sync`)
        self.command_sync: SyncReport | None = None  # what publishing did, set in setup_hook
        self._live_shards: set[int] = set()  # shards with READY/RESUMED and no disconnect since

    # Start-up and shutdown

    def add_service(self, service: Service) -> None:
        """Run `service` with the bot: started after commands sync, stopped when the bot closes.

        Call it from an extension's `setup` (or before `start`): services start in `setup_hook`,
        so one added after that would never run, and is refused.
        """
        if self._services_started:
            raise RuntimeError("add services before the bot starts (e.g. in an extension's setup)")
        self._services.append(service)

    async def setup_hook(self) -> None:
        """Load extensions, publish the commands if they changed, then start services (once,
        not per reconnect)."""
        for name in self.extension_names:
            await self.load_extension(name)
        pin_contexts(self.tree.get_commands())
        publisher = CommandPublisher(
            self.tree, self.store, dev_guild=self.settings.dev_guild, clock=self.clock
        )
        self.command_sync = await publisher.publish(force=self.force_sync)
        if self.settings.metrics_port is not None:
            self.health = HealthServer(
                self.settings.metrics_host,
                self.settings.metrics_port,
                status=BotHealth(self),
                store=self.store,
                metrics=self.metrics,
                clock=self.clock,
            )
            self.add_service(self.health)
        if self.settings.scheduler_enabled:
            self.scheduler = self._build_scheduler()
            self.add_service(self.scheduler)
        await self.start_services()

    def _feed_changed(self, channel_id: int) -> None:
        if self.scheduler is not None:
            self.scheduler.reschedule(channel_id)

    def _build_scheduler(self) -> FeedScheduler:
        """The delivery engine and scheduler, posting through this client."""
        poster = DiscordPoster(
            self,
            request_timeout=self.settings.discord_request_timeout,
            clock=self.clock,
            dm_channels=StoredDmChannels(self.store),
        )
        engine = DeliveryEngine(
            self.store, poster, self.settings, clock=self.clock, changes=self.feeds
        )
        # DM digests go out at each member's own schedule (/dm schedule), else the default one.
        dms = DmDigester(self.store, poster, self.settings, clock=self.clock)

        async def prepare() -> None:
            """The next digests' shared matches, made while nothing waits for them."""
            await engine.prepare()
            await dms.prepare()

        async def ingest(source: str) -> object:
            report = await ingest_once(self.store, self.http_session, self.settings, source=source)
            self.metrics.record_ingest(report)
            await prepare()
            return report

        return FeedScheduler(
            self.store,
            self.settings,
            engine,
            clock=self.clock,
            ingest=ingest if self.settings.poll_sources else None,
            dm_digests=dms,
            prepare=prepare,
        )

    async def start_services(self) -> None:
        """Start every registered service, in the order added."""
        self._services_started = True
        for service in self._services:
            await service.start()
            log.info("Started %s", type(service).__name__)

    async def stop_services(self) -> None:
        """Stop the started services, newest first; one failing does not keep the others running."""
        if not self._services_started:
            return
        self._services_started = False
        for service in reversed(self._services):
            try:
                await service.stop()
            except Exception:
                log.exception("Error while stopping %s", type(service).__name__)

    async def close(self) -> None:
        """Stop services, then unload cogs and disconnect."""
        await self.stop_services()
        await super().close()

    # Events

    @property
    def gateway_up(self) -> bool:
        """True while every shard has a live session (READY or RESUMED, no disconnect since)."""
        expected = self.shard_count
        return bool(expected) and len(self._live_shards) >= (expected or 0)

    async def on_ready(self) -> None:
        """Log who we are; nothing else, since this fires again after every reconnect."""
        user = self.user
        log.info(
            "Online as %s (id %s) in %d servers on %s shard(s)",
            user,
            user.id if user else "?",
            len(self.guilds),
            self.shard_count,
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        """A shard identified and received its servers."""
        self._live_shards.add(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        """A shard's gateway session came back after a drop."""
        self._live_shards.add(shard_id)
        log.info("Gateway session of shard %s resumed", shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        """A shard's connection dropped; discord.py reconnects by itself."""
        if shard_id in self._live_shards and not self.is_closed():
            log.warning("Gateway connection of shard %s lost; reconnecting", shard_id)
        self._live_shards.discard(shard_id)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[PaperboyBot], command: object
    ) -> None:
        """A slash command's handler finished: record its latency."""
        command_finished(self.metrics, interaction, "ok")

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Forget a server's feeds and subscriptions when the bot is removed from it."""
        await self.feeds.delete_guild(guild.id)
        log.info(
            "Removed from guild %s; deleted its feeds and subscriptions",
            guild.id,
            extra={"guild_id": guild.id},
        )

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """Forget a deleted channel's feed and subscriptions."""
        await self.feeds.delete_channel(channel.id)
        log.info(
            "Channel %s deleted; removed its feed and subscriptions",
            channel.id,
            extra={"guild_id": channel.guild.id, "channel_id": channel.id},
        )

    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """Forget anything delivered into a deleted thread (raw event: it may be uncached)."""
        await self.feeds.delete_channel(payload.thread_id)
        log.debug("Thread %s deleted; removed anything delivered there", payload.thread_id)


class PaperboyTree(app_commands.CommandTree[PaperboyBot]):
    """The command tree, whose error handler always ends an interaction with an ephemeral reply."""

    async def interaction_check(self, interaction: discord.Interaction[PaperboyBot], /) -> bool:
        """Runs before every command: note its start so its latency can be measured."""
        command_started(interaction)
        return True

    async def on_error(
        self, interaction: discord.Interaction[PaperboyBot], error: app_commands.AppCommandError, /
    ) -> None:
        command_finished(self.client.metrics, interaction, "error")
        await report_interaction_error(interaction, error)
