"""The fake Discord's gateway and edge rules: GET /gateway/bot, IDENTIFY close codes (4004, 4010,
4011, 4013, 4014), sharding with the real AutoShardedClient, and the invalid-request counter."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakediscord import FakeDiscord
from tests.support import add_guilds_on_alternate_shards


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def identify(
    fake: FakeDiscord, http: aiohttp.ClientSession, **fields: Any
) -> tuple[int | None, list[dict[str, Any]]]:
    """Connect, IDENTIFY with `fields` over the defaults; return (close code, frames received)."""
    body = {"token": fake.token, "intents": 1, "properties": {}} | fields
    frames: list[dict[str, Any]] = []
    async with http.ws_connect(fake.gateway_url) as ws:
        frames.append(json.loads((await ws.receive()).data))  # HELLO
        await ws.send_str(json.dumps({"op": 2, "d": body}))
        try:
            async with asyncio.timeout(0.5):
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        frames.append(json.loads(msg.data))
        except TimeoutError:
            return None, frames  # still connected: the IDENTIFY was accepted
        return ws.close_code, frames


async def bot_get(fake: FakeDiscord, http: aiohttp.ClientSession, path: str) -> Any:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with http.get(fake.api_url + path, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def test_gateway_bot_recommends_shards_and_counts_identifies(
    fake_discord: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    fake_discord.add_guild("one")
    status, body = await bot_get(fake_discord, session, "/gateway/bot")
    assert status == 200 and body["url"] == fake_discord.gateway_url and body["shards"] == 1
    assert body["session_start_limit"] == {
        "total": 1000,
        "remaining": 1000,
        "reset_after": 14_400_000,
        "max_concurrency": 1,
    }
    code, frames = await identify(fake_discord, session)
    assert code is None and frames[1]["t"] == "READY"
    fake_discord.sharding.recommended_shards = 3
    _, body = await bot_get(fake_discord, session, "/gateway/bot")
    assert body["shards"] == 3 and body["session_start_limit"]["remaining"] == 999


async def test_identify_close_codes(
    fake_discord: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    add_guilds_on_alternate_shards(fake_discord, 3)
    fake_discord.sharding.max_guilds_per_shard = 2
    fake_discord.server.gateway.allowed_privileged = set()
    cases = [
        ({"token": "wrong"}, 4004),
        ({"intents": 1 << 18}, 4013),  # not an intent Discord defines
        ({"intents": 1 << 1}, 4014),  # GUILD_MEMBERS, not enabled for this app
        ({"shard": [2, 2]}, 4010),
        ({}, 4011),  # three guilds on one shard that may hold two
    ]
    for fields, expected in cases:
        code, _ = await identify(fake_discord, session, **fields)
        assert code == expected, fields
    assert fake_discord.gateway_closes == [4004, 4013, 4014, 4010, 4011]
    code, frames = await identify(fake_discord, session, shard=[0, 2])
    assert code is None and frames[1]["d"]["shard"] == [0, 2]


async def test_identify_budget_spent_resets_the_token(
    fake_discord: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    fake_discord.sharding.identify_budget = 1
    old_token = fake_discord.token
    assert (await identify(fake_discord, session))[0] is None
    code, _ = await identify(fake_discord, session)
    assert code == 4004 and fake_discord.token != old_token
    headers = {"Authorization": f"Bot {old_token}"}
    async with session.get(fake_discord.api_url + "/users/@me", headers=headers) as response:
        assert response.status == 401


async def test_unsharded_client_is_closed_with_4011(
    discord_at_fake: FakeDiscord,
) -> None:
    for guild in range(3):
        discord_at_fake.add_guild(f"guild {guild}")
    discord_at_fake.sharding.max_guilds_per_shard = 2
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.ConnectionClosed) as caught:
        await asyncio.wait_for(client.start(discord_at_fake.token), 10)
    assert caught.value.code == 4011
    await client.close()


class ShardedBot(discord.AutoShardedClient):
    """The real AutoShardedClient, without discord.py's 5-second pause between IDENTIFYs."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_auto_sharded_client_gets_every_guild_across_shards(
    discord_at_fake: FakeDiscord,
) -> None:
    guilds = add_guilds_on_alternate_shards(discord_at_fake, 5)
    discord_at_fake.sharding.max_guilds_per_shard = 3  # five guilds need two shards
    discord_at_fake.sharding.recommended_shards = 2
    client = ShardedBot(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    task = asyncio.create_task(client.start(discord_at_fake.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        assert client.shard_count == 2
        assert sorted(g.id for g in client.guilds) == sorted(g.id for g in guilds)
        shards = sorted(s.shard for s in discord_at_fake.server.gateway.sessions.values())
        assert shards == [(0, 2), (1, 2)]
        for guild in client.guilds:
            assert guild.shard_id == (guild.id >> 22) % 2
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    assert 4011 not in discord_at_fake.gateway_closes


async def test_invalid_requests_are_counted_and_too_many_ban_the_bot(
    discord_at_fake: FakeDiscord,
) -> None:
    guild = discord_at_fake.add_guild("ML Lab")
    hidden = guild.add_text_channel("hidden")
    hidden.set_overwrite(guild.bot_member, deny=["send_messages"])
    counter = discord_at_fake.invalid_requests
    counter.limit = 3
    client = discord.Client(intents=discord.Intents.default())
    await client.login(discord_at_fake.token)
    try:
        with pytest.raises(discord.NotFound):
            await client.http.send_message(1, params=discord.http.handle_message_parameters("x"))
        assert counter.count == 0  # a 404 is not an invalid request
        for _ in range(3):
            with pytest.raises(discord.Forbidden):
                await client.http.send_message(
                    hidden.id, params=discord.http.handle_message_parameters("digest")
                )
        assert (counter.count, counter.total, counter.banned) == (3, 3, True)
        with pytest.raises(discord.HTTPException) as caught:
            await client.fetch_user(discord_at_fake.bot_user.id)
        assert caught.value.status == 429 and "1015" in caught.value.text  # Cloudflare's ban
        discord_at_fake.clock.advance(3601)
        assert not counter.banned and counter.count == 0
        assert (await client.fetch_user(discord_at_fake.bot_user.id)).id == client.user.id  # type: ignore[union-attr]
    finally:
        await client.close()


async def test_server_clock_given_at_start_dates_ids_and_messages(
    session: aiohttp.ClientSession,
) -> None:
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    async with FakeDiscord(now=start) as fake:
        papers = fake.add_guild("ML Lab").add_text_channel("papers")
        fake.clock.advance(90)
        headers = {"Authorization": f"Bot {fake.token}"}
        url = f"{fake.api_url}/channels/{papers.id}/messages"
        async with session.post(url, json={"content": "digest"}, headers=headers) as response:
            sent = await response.json()
    later = start + timedelta(seconds=90)
    assert datetime.fromisoformat(sent["timestamp"]) == later
    assert discord.utils.snowflake_time(int(sent["id"])) == later
    assert discord.utils.snowflake_time(papers.id) == start
