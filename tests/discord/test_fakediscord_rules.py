"""The fake Discord enforces Discord's rules: limits, permissions, nonces, pings, 429s, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.fakediscord import Channel, FakeDiscord, Guild, Member, perms
from tests.fakediscord.permissions import channel_permissions


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any


class Api:
    """Raw HTTP calls to the fake, as a bot would make them."""

    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession) -> None:
        self.fake, self.session = fake, session

    async def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> Answer:
        headers = {"Authorization": f"Bot {token or self.fake.token}"}
        url = self.fake.api_url + path
        async with self.session.request(method, url, json=body, headers=headers) as response:
            is_json = response.headers.get("Content-Type") == "application/json"
            data = await response.json() if is_json else await response.text()
            return Answer(response.status, data, response.headers)

    async def send(self, channel: Channel, body: dict[str, Any]) -> Answer:
        return await self.call("POST", f"/channels/{channel.id}/messages", body)


@dataclass
class Lab:
    guild: Guild
    papers: Channel
    forum: Channel
    alice: Member
    bob: Member


@pytest.fixture
async def api(fake_discord: FakeDiscord) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(fake_discord, session)


@pytest.fixture
def lab(fake_discord: FakeDiscord) -> Lab:
    guild = fake_discord.add_guild("ML Lab")
    return Lab(
        guild,
        guild.add_text_channel("papers"),
        guild.add_forum_channel("forum", tags=["cs.LG"]),
        guild.add_member("alice"),
        guild.add_member("bob"),
    )


async def test_wrong_token_gets_401(api: Api, lab: Lab) -> None:
    answer = await api.call("GET", "/users/@me", token="wrong")
    assert (answer.status, answer.body) == (401, {"message": "401: Unauthorized", "code": 0})
    ok = await api.call("GET", "/users/@me")
    assert ok.status == 200 and ok.headers["Content-Type"] == "application/json"


async def test_content_over_2000_is_invalid_form_body(api: Api, lab: Lab) -> None:
    too_long = await api.send(lab.papers, {"content": "x" * 2001})
    assert too_long.status == 400
    assert too_long.body["code"] == 50035 and too_long.body["message"] == "Invalid Form Body"
    assert too_long.body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert (await api.send(lab.papers, {"content": "x" * 2000})).status == 200
    assert len(api.fake.messages_in(lab.papers)) == 1


async def test_embed_limits(api: Api, lab: Lab) -> None:
    eleven = await api.send(lab.papers, {"embeds": [{"title": "t"}] * 11})
    assert eleven.body["errors"]["embeds"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    long_title = await api.send(lab.papers, {"embeds": [{"title": "t" * 257}]})
    assert "title" in long_title.body["errors"]["embeds"]["0"]
    field = {"name": "n", "value": "v" * 1025}
    long_field = await api.send(lab.papers, {"embeds": [{"fields": [field]}]})
    assert "value" in long_field.body["errors"]["embeds"]["0"]["fields"]["0"]
    total = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    too_big = await api.send(lab.papers, {"embeds": total})
    assert too_big.body["errors"]["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"
    assert api.fake.messages_in(lab.papers) == []


async def test_empty_message_and_thread_name(api: Api, lab: Lab) -> None:
    empty = await api.send(lab.papers, {"content": ""})
    assert (empty.status, empty.body["code"]) == (400, 50006)
    sent = await api.send(lab.papers, {"content": "paper"})
    path = f"/channels/{lab.papers.id}/messages/{sent.body['id']}/threads"
    bad = await api.call("POST", path, {"name": "n" * 101})
    assert bad.body["code"] == 50035 and "name" in bad.body["errors"]
    good = await api.call("POST", path, {"name": "Discussion"})
    assert good.status == 201 and good.body["id"] == sent.body["id"]
    again = await api.call("POST", path, {"name": "Discussion"})
    assert again.body["code"] == 160004


async def test_permission_errors(api: Api, lab: Lab, fake_discord: FakeDiscord) -> None:
    lab.papers.set_overwrite(lab.guild.bot_member, deny=["embed_links"])
    no_embed = await api.send(lab.papers, {"embeds": [{"title": "x"}]})
    assert (no_embed.status, no_embed.body) == (
        403,
        {"message": "Missing Permissions", "code": 50013},
    )
    assert (await api.send(lab.papers, {"content": "text is fine"})).status == 200

    lab.papers.set_overwrite(lab.guild, deny=["view_channel"])
    hidden = await api.send(lab.papers, {"content": "x"})
    assert (hidden.status, hidden.body["code"]) == (403, 50001)

    unknown = await api.call("POST", "/channels/123/messages", {"content": "x"})
    assert (unknown.status, unknown.body) == (404, {"message": "Unknown Channel", "code": 10003})
    other = fake_discord.add_guild("Other").add_text_channel("general")
    missing = await api.call("GET", f"/channels/{other.id}/messages/42")
    assert (missing.status, missing.body["code"]) == (404, 10008)


async def test_thread_send_needs_send_in_threads(api: Api, lab: Lab) -> None:
    sent = await api.send(lab.papers, {"content": "paper"})
    await api.call(
        "POST", f"/channels/{lab.papers.id}/messages/{sent.body['id']}/threads", {"name": "t"}
    )
    thread = api.fake.threads_of(lab.papers)[0]
    lab.papers.set_overwrite(lab.guild.bot_member, deny=["send_messages_in_threads"])
    assert (await api.send(thread, {"content": "reply"})).body["code"] == 50013


def test_permission_computation_with_overwrites(lab: Lab) -> None:
    guild, papers, alice = lab.guild, lab.papers, lab.alice
    send = perms("send_messages")
    assert channel_permissions(alice, papers) & send
    papers.set_overwrite(guild, deny=["send_messages"])  # @everyone
    assert not channel_permissions(alice, papers) & send
    writers = guild.add_role("writers")
    alice.roles.append(writers)
    papers.set_overwrite(writers, allow=["send_messages"])  # role allow beats @everyone deny
    assert channel_permissions(alice, papers) & send
    papers.set_overwrite(alice, deny=["send_messages"])  # member deny beats role allow
    assert not channel_permissions(alice, papers) & send
    assert not channel_permissions(alice, papers) & perms("embed_links")  # implicit: needs send
    admin = guild.add_member("root", permissions=["administrator"])
    papers.set_overwrite(guild, deny=["view_channel"])
    assert channel_permissions(admin, papers) & send
    assert channel_permissions(lab.bob, papers) == 0  # no View Channel → nothing


async def test_nonce_dedupe(api: Api, lab: Lab) -> None:
    body = {"content": "daily digest", "nonce": "digest-2024-05-01", "enforce_nonce": True}
    first, second = await api.send(lab.papers, body), await api.send(lab.papers, body)
    assert first.body["id"] == second.body["id"]
    assert len(api.fake.messages_in(lab.papers)) == 1
    await api.send(lab.papers, {**body, "enforce_nonce": False})
    assert len(api.fake.messages_in(lab.papers)) == 2
    too_long = await api.send(lab.papers, {**body, "nonce": "n" * 26})
    assert "nonce" in too_long.body["errors"]


async def test_allowed_mentions(api: Api, lab: Lab) -> None:
    api.fake.rate_limits.enabled = False  # more than 5 sends to one channel here
    readers = lab.guild.add_role("readers", mentionable=True)
    lab.bob.roles.append(readers)
    content = f"{lab.alice.mention} new paper for {readers.mention} @everyone"

    async def pinged(allowed: dict[str, Any] | None) -> set[int]:
        body: dict[str, Any] = {"content": content}
        if allowed is not None:
            body["allowed_mentions"] = allowed
        answer = await api.send(lab.papers, body)
        return api.fake.world.messages[int(answer.body["id"])].mentioned_user_ids

    alice, bob = lab.alice.id, lab.bob.id
    # Absent: everything parsed, but @everyone needs Mention Everyone, which the bot lacks.
    assert await pinged(None) == {alice, bob}
    assert await pinged({"parse": []}) == set()
    assert await pinged({"users": [str(alice)]}) == {alice}
    assert await pinged({"parse": ["roles"]}) == {bob}
    lab.guild.set_bot_permissions(perms("view_channel", "send_messages", "mention_everyone"))
    everyone = {m.id for m in lab.guild.members.values()} - {api.fake.bot_user.id}
    assert await pinged({"parse": ["everyone"]}) == everyone
    exclusive = await api.send(
        lab.papers, {"content": content, "allowed_mentions": {"parse": ["users"], "users": ["1"]}}
    )
    assert exclusive.body["code"] == 50035


async def test_reply_pings_replied_user_only_when_allowed(
    api: Api, lab: Lab, fake_discord: FakeDiscord
) -> None:
    question = fake_discord.user_says(lab.alice, lab.papers, "any new diffusion papers?")
    ref = {"message_id": str(question.id)}
    quiet = await api.send(
        lab.papers, {"content": "yes", "message_reference": ref, "allowed_mentions": {"parse": []}}
    )
    loud = await api.send(lab.papers, {"content": "yes", "message_reference": ref})
    messages = fake_discord.world.messages
    assert messages[int(quiet.body["id"])].mentioned_user_ids == set()
    assert messages[int(loud.body["id"])].mentioned_user_ids == {lab.alice.id}


async def test_rate_limit_429_shape(api: Api, lab: Lab) -> None:
    api.fake.rate_limits.message_limit = 2
    api.fake.rate_limits.message_window = 60
    first = await api.send(lab.papers, {"content": "1"})
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert {"X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} <= set(
        first.headers
    )
    await api.send(lab.papers, {"content": "2"})
    limited = await api.send(lab.papers, {"content": "3"})
    assert limited.status == 429
    assert limited.headers["Via"] == "1.1 google"
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.body["global"] is False and 0 < limited.body["retry_after"] <= 60
    # Another channel has its own bucket.
    other = lab.guild.add_text_channel("other")
    assert (await api.send(other, {"content": "ok"})).status == 200
    assert len(api.fake.messages_in(lab.papers)) == 2


async def test_global_rate_limit(api: Api, lab: Lab) -> None:
    api.fake.rate_limits.global_limit = 3
    api.fake.rate_limits.global_window = 60
    statuses = [(await api.call("GET", "/users/@me")).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await api.call("GET", "/users/@me")
    assert limited.body["global"] is True and limited.headers["X-RateLimit-Global"] == "true"
    api.fake.rate_limits.enabled = False
    assert (await api.call("GET", "/users/@me")).status == 200


async def test_fault_injection(api: Api, lab: Lab) -> None:
    fault = api.fake.inject_faults("POST", "/channels/{id}/messages", status=500, times=2)
    statuses = [(await api.send(lab.papers, {"content": "x"})).status for _ in range(3)]
    assert statuses == [500, 500, 200] and fault.hits == 2
    api.fake.inject_faults("POST", "/channels/{id}/messages", status=502)
    bad_gateway = await api.send(lab.papers, {"content": "x"})
    assert bad_gateway.status == 502 and isinstance(bad_gateway.body, str)
    api.fake.inject_faults("*", "/channels/*", status=429, retry_after=0.25)
    limited = await api.call("GET", f"/channels/{lab.papers.id}")
    assert limited.status == 429 and limited.body["retry_after"] == 0.25
    assert limited.headers["Via"]
    api.fake.inject_faults("GET", "/users/@me", status=403)
    assert (await api.call("GET", "/users/@me")).body["code"] == 50013
    assert [r.status for r in api.fake.requests][-2:] == [429, 403]


async def test_interaction_callbacks_once_only(api: Api, lab: Lab) -> None:
    interactions = api.fake.server.interactions
    record = interactions.new(2, lab.alice.user, lab.papers, {"name": "ping"})
    base = f"/interactions/{record.id}/{record.token}/callback?with_response=1"
    followup = f"/webhooks/{api.fake.application_id}/{record.token}?wait=1"
    early = await api.call("POST", followup, {"content": "too early"})
    assert early.body["code"] == 10015
    first = await api.call("POST", base, {"type": 4, "data": {"content": "pong", "flags": 64}})
    assert first.body["resource"]["message"]["content"] == "pong"
    assert first.body["interaction"]["response_message_ephemeral"] is True
    twice = await api.call("POST", base, {"type": 4, "data": {"content": "again"}})
    assert (twice.status, twice.body["code"]) == (400, 40060)
    unknown = await api.call("POST", f"/interactions/{record.id}/bad-token/callback", {"type": 5})
    assert (unknown.status, unknown.body["code"]) == (404, 10062)
    assert record.latency is not None


async def test_command_sync_validation_and_stable_ids(api: Api, lab: Lab) -> None:
    path = f"/applications/{api.fake.application_id}/commands"
    good = [{"name": "feed", "description": "Feeds", "type": 1}]
    first = await api.call("PUT", path, good)
    second = await api.call("PUT", path, good)
    assert first.body[0]["id"] == second.body[0]["id"]
    bad_name = await api.call("PUT", path, [{"name": "Feed!", "description": "x"}])
    assert bad_name.body["code"] == 50035 and "name" in bad_name.body["errors"]["0"]
    options = [
        {"name": "a", "description": "a", "type": 3},
        {"name": "b", "description": "b", "type": 3, "required": True},
    ]
    bad_order = await api.call("PUT", path, [{"name": "x", "description": "x", "options": options}])
    assert "required" in bad_order.body["errors"]["0"]["options"]["1"]
    assert [c["name"] for c in api.fake.synced_commands()] == ["feed"]


async def test_lost_response_creates_the_message_but_the_client_never_hears(
    api: Api, lab: Lab
) -> None:
    fault = api.fake.lose_responses("POST", "/channels/{id}/messages", how="drop", skip=1)
    body = {"content": "paper", "nonce": "digest-1-paper-2", "enforce_nonce": True}
    first = await api.send(lab.papers, {"content": "header"})  # skipped: answered normally
    assert first.status == 200
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.send(lab.papers, body)
    (_, created) = api.fake.messages_in(lab.papers)  # Discord got it, although the bot did not
    assert created.content == "paper" and created.nonce == "digest-1-paper-2"
    assert fault.hits == 1 and api.fake.requests[-1].lost
    retry = await api.send(lab.papers, body)  # the bot retries with the same nonce
    assert retry.status == 200 and retry.body["id"] == str(created.id)
    assert len(api.fake.messages_in(lab.papers)) == 2 and not api.fake.requests[-1].lost


async def test_lost_response_as_a_status_after_processing(api: Api, lab: Lab) -> None:
    api.fake.lose_responses("POST", "/channels/{id}/messages", how=502)
    answer = await api.send(lab.papers, {"content": "made anyway"})
    assert answer.status == 502 and isinstance(answer.body, str)
    (made,) = api.fake.messages_in(lab.papers)
    assert made.content == "made anyway"
    assert (api.fake.requests[-1].status, api.fake.requests[-1].lost) == (502, True)


async def test_lost_response_that_is_never_answered(api: Api, lab: Lab) -> None:
    api.fake.lose_responses("POST", "/channels/{id}/messages", how="hang")
    sending = asyncio.create_task(api.send(lab.papers, {"content": "held", "nonce": "h1"}))
    made = await api.fake.wait_for_message(lambda m: m.nonce == "h1")
    assert made.content == "held"
    await api.fake.close()  # the only way the held request ends: the connection goes away
    with pytest.raises(aiohttp.ClientConnectionError):
        await sending


async def test_deleting_channels_threads_and_leaving_a_guild(api: Api, lab: Lab) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    api.fake.world.sinks.append(lambda event, data, guild: events.append((event, data)))
    thread = lab.guild.add_thread(lab.papers, "day 1", owner=api.fake.bot_user)
    other = lab.guild.add_thread(lab.papers, "day 2", owner=api.fake.bot_user)
    lab.guild.delete_channel(thread)
    assert events[-1] == (
        "THREAD_DELETE",
        {"id": str(thread.id), "guild_id": str(lab.guild.id), "parent_id": str(lab.papers.id)}
        | {"type": thread.type},
    )
    assert (await api.call("GET", f"/channels/{thread.id}")).body["code"] == 10003
    lab.guild.delete_channel(lab.papers)  # its remaining thread goes with it
    assert [e for e, _ in events[-1:]] == ["CHANNEL_DELETE"] and events[-1][1]["guild_id"]
    assert (await api.send(lab.papers, {"content": "x"})).body["code"] == 10003
    assert (await api.call("GET", f"/channels/{other.id}")).status == 404
    silent = lab.guild.add_text_channel("quiet")
    count = len(events)
    lab.guild.delete_channel(silent, notify=False)  # gone while the bot was away
    assert len(events) == count and silent.id not in api.fake.world.channels
    api.fake.remove_bot_from_guild(lab.guild)
    assert events[-1] == ("GUILD_DELETE", {"id": str(lab.guild.id)})
    assert (await api.call("GET", f"/channels/{lab.forum.id}")).status == 404
    assert lab.guild.id not in api.fake.world.guilds
