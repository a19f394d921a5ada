"""The gateway: HELLO/IDENTIFY/READY/RESUME over JSON text frames, event dispatch and replay,
one session per shard (the IDENTIFY rules and close codes come from sharding.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .sharding import (
    AUTHENTICATION_FAILED,
    DISALLOWED_INTENTS,
    INVALID_INTENTS,
    VALID_INTENTS,
    Sharding,
    shard_of,
)
from .state import Guild, World

log = logging.getLogger(__name__)

GUILDS, GUILD_MEMBERS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = (
    1 << 0,
    1 << 1,
    1 << 9,
    1 << 12,
    1 << 15,
)
PRIVILEGED = {GUILD_MEMBERS: "members", 1 << 8: "presences", MESSAGE_CONTENT: "message_content"}
_NEEDS_GUILDS = {
    "GUILD_CREATE",
    "GUILD_DELETE",
    "CHANNEL_CREATE",
    "CHANNEL_UPDATE",
    "CHANNEL_DELETE",
    "THREAD_CREATE",
    "THREAD_UPDATE",
    "THREAD_DELETE",
}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}
_MEMBER_EVENTS = {"GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"}


@dataclass(eq=False)
class Connection:
    """One websocket; frames go out through a queue so their order is kept."""

    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    session: Session | None = None

    def send(self, payload: dict[str, Any]) -> None:
        """Queue a frame."""
        self.outbox.put_nowait(json.dumps(payload))


@dataclass(eq=False)
class Session:
    """A gateway session: its sequence and the events sent, kept for RESUME."""

    id: str
    intents: int
    shard: tuple[int, int] = (0, 1)  # (shard id, shard count) from IDENTIFY
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    conn: Connection | None = None

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Number an event, remember it, and send it if connected."""
        self.seq += 1
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.sent.append(payload)
        del self.sent[:-1000]
        if self.conn is not None:
            self.conn.send(payload)

    def handles(self, guild: Guild | None) -> bool:
        """True if this session's shard receives events of `guild` (DMs: shard 0)."""
        shard_id, count = self.shard
        if guild is None:
            return shard_id == 0
        return shard_of(guild.id, count) == shard_id


class Gateway:
    """Serves /gateway and dispatches world events to the bot's session(s)."""

    def __init__(self, world: World, token: str, *, heartbeat_interval_ms: int = 41250) -> None:
        self.world = world
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.url = ""  # set once the server knows its port
        self.allowed_privileged = {"members", "presences", "message_content"}
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.sharding = Sharding()
        self.closes: list[int] = []  # close codes the gateway sent, in order
        self.identify_count = 0
        self.refusing = False  # answer 503 instead of upgrading: the gateway is unreachable
        self.resume_count = 0
        self.changed = asyncio.Condition()
        world.sinks.append(self.on_world_event)

    # -- state a test waits on -------------------------------------------------------------
    @property
    def live_session(self) -> Session | None:
        """The session that currently has a connection, if any."""
        for session in self.sessions.values():
            if session.conn is not None:
                return session
        return None

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_until(self, predicate: Any, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until predicate() is true (re-checked whenever the gateway changes)."""
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(predicate)

    # -- world events ----------------------------------------------------------------------
    def on_world_event(self, event: str, data: dict[str, Any], guild: Guild | None) -> None:
        """Forward a world event to sessions whose intents ask for it."""
        for session in self.sessions.values():
            if not session.handles(guild) or not self._wanted(session.intents, event, data):
                continue
            session.dispatch(event, self._redact(session.intents, event, data))

    def _wanted(self, intents: int, event: str, data: dict[str, Any]) -> bool:
        if event in _NEEDS_GUILDS:
            return bool(intents & GUILDS)
        if event in _MEMBER_EVENTS:
            # events/gateway.mdx "Caveats": GUILD_MEMBER_UPDATE for the current user is sent
            # whether or not the GUILD_MEMBERS intent is set.
            me = str(self.world.bot_user.id)
            own = event == "GUILD_MEMBER_UPDATE" and data.get("user", {}).get("id") == me
            return own or bool(intents & GUILD_MEMBERS)
        if event in _MESSAGE_EVENTS:
            return bool(intents & (GUILD_MESSAGES if data.get("guild_id") else DIRECT_MESSAGES))
        return True

    def _redact(self, intents: int, event: str, data: dict[str, Any]) -> dict[str, Any]:
        # Without MESSAGE_CONTENT, Discord blanks content unless the bot wrote it, is pinged, or DM
        # (events/gateway.mdx "Message Content Intent").
        if event != "MESSAGE_CREATE" or intents & MESSAGE_CONTENT or "guild_id" not in data:
            return data
        me = str(self.world.bot_user.id)
        if data["author"]["id"] == me or any(u["id"] == me for u in data.get("mentions", [])):
            return data
        return {**data, "content": "", "embeds": [], "components": [], "attachments": []}

    # -- test controls ---------------------------------------------------------------------
    async def drop(self, code: int | None = None) -> None:
        """Cut every connection: abruptly (code None) or with a close code."""
        for conn in list(self.connections):
            if code is None:
                # Abort the TCP connection without a close frame, like a network cut.
                if isinstance(conn.transport, asyncio.Transport):
                    conn.transport.abort()
                conn.outbox.put_nowait(None)
            else:
                await conn.ws.close(code=code)

    def send_op(self, op: int, data: Any = None) -> int:
        """Send a raw opcode (7 RECONNECT, 9 INVALID_SESSION…) to every connection."""
        for conn in self.connections:
            conn.send({"op": op, "d": data, "s": None, "t": None})
        return len(self.connections)

    # -- the websocket handler ------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one gateway connection."""
        if self.refusing:
            # An outage: the client must keep retrying with backoff and RESUME once it is back
            # (docs.discord.com/developers/events/gateway#resuming).
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws, request.transport)
        self.connections.append(conn)
        writer = asyncio.create_task(self._writer(conn))
        conn.send(
            {
                "op": 10,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self.connections.remove(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            conn.outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
            await self._notify()
        return ws

    async def _writer(self, conn: Connection) -> None:
        while (frame := await conn.outbox.get()) is not None:
            if conn.ws.closed:
                return
            try:
                await conn.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    async def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op == 8 and conn.session is not None:
            self._chunk(conn.session, data or {})
        elif op in (3, 4):
            pass  # presence / voice state updates: accepted and ignored
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _close(self, conn: Connection, close: tuple[int, str]) -> None:
        self.closes.append(close[0])
        await conn.ws.close(code=close[0], message=close[1].encode())

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await self._close(conn, AUTHENTICATION_FAILED)
            return
        if conn.session is not None:
            await self._close(conn, (4005, "Already authenticated."))
            return
        if self.sharding.identify_used >= self.sharding.identify_budget:
            # events/gateway.mdx "Identifying": past 1,000 IDENTIFYs a day Discord resets the
            # token, so this and every later login fails.
            self.token = "reset-" + secrets.token_hex(8)
            await self._close(conn, AUTHENTICATION_FAILED)
            return
        self.sharding.identify_used += 1
        intents = int(data.get("intents", 0))
        shard, refused = self.sharding.check_shard(data.get("shard"), list(self.world.guilds))
        if intents & ~VALID_INTENTS:
            refused = INVALID_INTENTS
        elif any(intents & b and n not in self.allowed_privileged for b, n in PRIVILEGED.items()):
            refused = DISALLOWED_INTENTS
        if refused is not None:
            await self._close(conn, refused)
            return
        session = Session(secrets.token_hex(16), intents, shard=shard, conn=conn)
        # A new IDENTIFY replaces the older session of the same shard (other shards stay).
        self.sessions = {k: v for k, v in self.sessions.items() if v.shard != shard}
        self.sessions[session.id] = session
        conn.session = session
        self.identify_count += 1
        world = self.world
        guilds = [g for g in world.guilds.values() if session.handles(g)]
        user = world.wire.user(world.bot_user) | {"verified": True, "mfa_enabled": False}
        session.dispatch(
            "READY",
            {
                "v": 10,
                "user": user,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "shard": list(shard),
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.url,
                "application": {"id": str(world.bot_user.id), "flags": self._app_flags()},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "auth": {},
            },
        )
        for guild in guilds:
            if intents & GUILDS:
                session.dispatch("GUILD_CREATE", world.wire.guild_create(guild))
        await self._notify()

    def _app_flags(self) -> int:
        flags = 0
        names = {"presences": 1 << 12, "members": 1 << 14, "message_content": 1 << 18}
        for name, bit in names.items():
            if name in self.allowed_privileged:
                flags |= bit
        return flags

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token:
            await self._close(conn, AUTHENTICATION_FAILED)
            return
        if session is None:
            conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            await session.conn.ws.close(code=4000)
        session.conn = conn
        conn.session = session
        last = int(data.get("seq") or 0)
        for payload in session.sent:
            if payload["s"] > last:
                conn.send(payload)
        self.resume_count += 1
        session.dispatch("RESUMED", {})
        await self._notify()

    def _chunk(self, session: Session, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = [self.world.wire.member(m) for m in guild.members.values()]
        chunk = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
