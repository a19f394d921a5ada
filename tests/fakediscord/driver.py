"""FakeDiscord: start the server, set up guilds, act as users, inspect what the bot did."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from aiohttp import web

from .actions import DISCORD_DEADLINE, InteractionNotAnswered, InteractionResult, Payloads
from .clock import Clock
from .commands import CommandError
from .controls import ServerControls
from .interactions import APPLICATION_COMMAND, AUTOCOMPLETE, COMPONENT, InteractionRecord
from .ratelimit import RateLimitConfig
from .server import API_PREFIX, FakeServer, RequestLog
from .state import DM, Channel, Guild, Member, Message, User, World

DEFAULT_TOKEN = "fake.discord.bot-token"


def _user(who: User | Member) -> User:
    return who.user if isinstance(who, Member) else who


class FakeDiscord(ServerControls):
    """A local Discord-compatible server plus the handles a test needs (see package docstring)."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "Paperboy",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimitConfig | None = None,
        heartbeat_interval: float = 41.25,
        interaction_deadline: float | None = DISCORD_DEADLINE,
        now: datetime | Callable[[], datetime] | None = None,
    ) -> None:
        # `now` pins (a datetime) or follows (e.g. the bot's clock) the server clock from the
        # start, so even the first ids carry its time; later, use `self.clock`.
        clock = Clock()
        if isinstance(now, datetime):
            clock.set(now)
        elif now is not None:
            clock.follow(now)
        self.server = FakeServer(
            token,
            bot_name=bot_name,
            rate_limits=rate_limits,
            heartbeat_interval_ms=int(heartbeat_interval * 1000),
            clock=clock,
        )
        self.server.interactions.deadline = interaction_deadline
        self.payloads = Payloads(self.world, self.server.commands)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self._message_added = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self.world.sinks.append(self._on_event)

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        """Start serving; afterwards `port`, `api_url` and `gateway_url` are real."""
        self._runner = web.AppRunner(self.server.app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.server.gateway.url = self.gateway_url
        return self

    async def close(self) -> None:
        """Close gateway connections and stop the server."""
        if self._runner is not None:
            self.server.faults.released.set()  # requests held by lose="hang" let go now
            await self.server.gateway.drop(code=1001)
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what to point the bot at --------------------------------------------------------------
    @property
    def world(self) -> World:
        """The state model (users, guilds, channels, messages)."""
        return self.server.world

    @property
    def token(self) -> str:
        """The bot token the server accepts."""
        return self.server.token

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """REST base for discord.http.Route.BASE (…/api/v10)."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Gateway URL for DiscordWebSocket.DEFAULT_GATEWAY."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def application_id(self) -> int:
        """The application id (equal to the bot user's id)."""
        return self.world.bot_user.id

    @property
    def bot_user(self) -> User:
        """The bot's user."""
        return self.world.bot_user

    # -- set-up --------------------------------------------------------------------------------
    def add_guild(self, name: str = "Test Guild", *, owner: User | None = None) -> Guild:
        """Create a guild (the bot is a member with its own managed role)."""
        return self.world.add_guild(name, owner=owner)

    def remove_bot_from_guild(self, guild: Guild) -> None:
        """Kick the bot from a guild: guild and channels vanish, the bot gets GUILD_DELETE."""
        self.world.remove_guild(guild)

    def add_user(self, name: str) -> User:
        """Create a user outside any guild."""
        return self.world.add_user(name)

    # -- inspection ----------------------------------------------------------------------------
    def messages_in(self, channel: Channel, *, include_ephemeral: bool = True) -> list[Message]:
        """Live messages in a channel or thread, oldest first."""
        found = self.world.channel_messages(channel)
        return found if include_ephemeral else [m for m in found if not m.ephemeral]

    def threads_of(self, channel: Channel) -> list[Channel]:
        """Threads (or forum posts) under a channel, oldest first."""
        if channel.guild is None:
            return []
        return [t for t in channel.guild.threads if t.parent is channel]

    def dms_to(self, who: User | Member) -> list[Message]:
        """Messages the bot sent to a user's DM channel."""
        user = _user(who)
        return [
            m
            for c in self.world.channels.values()
            if c.type == DM and c.recipients and c.recipients[0] is user
            for m in self.world.channel_messages(c)
        ]

    def synced_commands(self, guild: Guild | None = None) -> list[dict[str, Any]]:
        """The command payloads the bot synced globally (or to one guild), as stored."""
        return self.server.commands.listing(guild.id if guild else None)

    @property
    def requests(self) -> list[RequestLog]:
        """Every REST request seen, in order (method, path, status)."""
        return self.server.requests

    @property
    def unhandled_routes(self) -> list[str]:
        """Requests that matched no route (a gap in the fake, or a wrong URL in the bot)."""
        return self.server.unhandled

    @property
    def identify_count(self) -> int:
        """How many times the bot IDENTIFYed."""
        return self.server.gateway.identify_count

    @property
    def resume_count(self) -> int:
        """How many successful RESUMEs."""
        return self.server.gateway.resume_count

    # -- waiting -------------------------------------------------------------------------------
    async def wait_until_connected(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has a live, identified gateway session."""
        await self.server.gateway.wait_until(
            lambda: self.server.gateway.live_session is not None, timeout
        )

    async def wait_for_resume(self, count: int = 1, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until at least `count` RESUMEs happened in total."""
        gateway = self.server.gateway
        await gateway.wait_until(
            lambda: gateway.resume_count >= count and gateway.live_session, timeout
        )

    async def wait_for_identify(self, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until at least `count` IDENTIFYs happened in total."""
        gateway = self.server.gateway
        await gateway.wait_until(
            lambda: gateway.identify_count >= count and gateway.live_session, timeout
        )

    async def wait_for_commands_synced(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot synced commands at least once."""
        await asyncio.wait_for(self.server.commands.synced.wait(), timeout)

    async def wait_for_message(
        self,
        predicate: Callable[[Message], bool] = lambda m: True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> Message:
        """Wait for a stored (existing or future) message matching predicate; return it."""

        def find() -> Message | None:
            return next(
                (m for m in self.world.messages.values() if not m.deleted and predicate(m)), None
            )

        async with asyncio.timeout(timeout), self._message_added:
            await self._message_added.wait_for(lambda: find() is not None)
        found = find()
        assert found is not None
        return found

    def _on_event(self, event: str, data: dict[str, Any], guild: Guild | None) -> None:
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # set-up code outside the loop: nobody can be waiting yet
            return
        task = loop.create_task(self._wake_messages())
        self._tasks.add(task)  # keep a reference until done, or it may be collected early
        task.add_done_callback(self._tasks.discard)

    async def _wake_messages(self) -> None:
        async with self._message_added:
            self._message_added.notify_all()

    # -- acting as a user ----------------------------------------------------------------------
    async def _dispatch(
        self,
        record: InteractionRecord,
        timeout: float,  # noqa: ASYNC109
        expect_answer: bool,
    ) -> InteractionResult:
        if not self.server.gateway.sessions:
            raise RuntimeError("the bot has no gateway session; await wait_until_connected() first")
        self.world.emit("INTERACTION_CREATE", self.payloads.base(record), record.guild)
        result = InteractionResult(record)
        if expect_answer:
            await result.wait_until(
                lambda: result.answered or result.refused_late, timeout, "any answer"
            )
            if result.refused_late:
                age = record.refused_late[0]
                raise InteractionNotAnswered(
                    f"the bot answered after {age:.2f}s, past Discord's "
                    f"{self.server.interactions.deadline}s deadline: Discord refused it with "
                    "10062 Unknown interaction (a slow test may set interaction_deadline=None)"
                )
        return result

    async def run_command(
        self,
        who: User | Member,
        channel: Channel,
        name: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        expect_answer: bool = True,
        **options: Any,
    ) -> InteractionResult:
        """Run "/name sub opt:value" as a user; wait for the bot's first answer and return it."""
        user = _user(who)
        data = self.payloads.command_data(user, channel, name, options)
        record = self.server.interactions.new(APPLICATION_COMMAND, user, channel, data)
        return await self._dispatch(record, timeout, expect_answer)

    async def autocomplete(
        self,
        who: User | Member,
        channel: Channel,
        name: str,
        option: str,
        typed: str = "",
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Type into an autocomplete option; return the choices the bot offered."""
        user = _user(who)
        data = self.payloads.command_data(
            user, channel, name, {**options, option: typed}, focused=option
        )
        record = self.server.interactions.new(AUTOCOMPLETE, user, channel, data)
        result = await self._dispatch(record, timeout, True)
        return result.choices or []

    async def click(
        self,
        who: User | Member,
        message: Message,
        custom_id: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        expect_answer: bool = True,
    ) -> InteractionResult:
        """Click a button on a message; return the bot's answer."""
        # Discord sends the click whatever the bot still handles (a "persistent" component is
        # just a custom_id on a message): the interaction always reaches the bot.
        component = self.payloads.find_component(message, custom_id)
        if component.get("type") != 2:
            raise CommandError(f"{custom_id!r} is not a button; use select()")
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._component(_user(who), message, data, timeout, expect_answer)

    async def select(
        self,
        who: User | Member,
        message: Message,
        custom_id: str,
        values: Iterable[str],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> InteractionResult:
        """Pick values in a select menu on a message; return the bot's answer."""
        component = self.payloads.find_component(message, custom_id)
        data = {
            "custom_id": custom_id,
            "component_type": component.get("type", 3),
            "values": list(values),
        }
        return await self._component(_user(who), message, data, timeout, True)

    async def _component(
        self,
        user: User,
        message: Message,
        data: dict[str, Any],
        timeout: float,  # noqa: ASYNC109
        expect_answer: bool,
    ) -> InteractionResult:
        record = self.server.interactions.new(
            COMPONENT, user, message.channel, data, target=message
        )
        return await self._dispatch(record, timeout, expect_answer)

    def user_says(self, who: User | Member, channel: Channel, content: str) -> Message:
        """A user posts a message (the bot gets MESSAGE_CREATE if its intents allow)."""
        user = _user(who)
        message = Message(self.world.ids.next(), channel, user, content=content)
        self.world.messages[message.id] = message
        data = self.world.wire.message(message)
        if channel.guild is not None and user.id in channel.guild.members:
            data["member"] = self.world.wire.member(channel.guild.members[user.id], with_user=False)
        self.world.emit("MESSAGE_CREATE", data, channel.guild)
        return message


__all__ = [
    "DEFAULT_TOKEN",
    "CommandError",
    "FakeDiscord",
    "InteractionNotAnswered",
    "InteractionResult",
]
