"""/subscriptions and /unsubscribe in a DM with the bot: the DM subscriptions of every server,
so leaving a server never traps anyone in daily DMs. Fake Discord, real bot, real SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store import subscriptions as subs_repo
from tests.e2e.world import NOW, World, running_world
from tests.fakediscord import Channel, CommandError, FakeDiscord, Guild


@dataclass
class TwoServers:
    """The world's server ("ML Lab") plus a second one alice belongs to, and her DM channel."""

    world: World
    other: Guild
    other_channel: Channel
    dm: Channel


@pytest.fixture
async def servers(discord_at_fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[TwoServers]:
    async with running_world(discord_at_fake, tmp_path, scheduler_enabled=False) as world:
        other = discord_at_fake.add_guild("Reading Group")
        other_channel = other.add_text_channel("general")
        other.add_existing_member(world.alice.user)
        dm = discord_at_fake.world.dm_channel(world.alice.user)
        yield TwoServers(world, other, other_channel, dm)


async def subscribe_everywhere(s: TwoServers) -> None:
    """alice: diffusion by DM in both servers, agents by DM in the second, llm in a channel."""
    w = s.world
    for channel, query, dm in [
        (w.channel, "diffusion", True),
        (s.other_channel, "diffusion", True),
        (s.other_channel, "agents", True),
        (w.channel, "llm", False),
    ]:
        done = await w.run_in(channel, w.alice, "subscribe", query=query, dm=dm)
        assert done.content.startswith("Subscribed to "), done.content


async def in_dm(s: TwoServers, name: str, **options: object) -> str:
    """Run a command in alice's DM with the bot; its private answer."""
    reply = await s.world.fake.run_command(s.world.alice, s.dm, name, **options)
    await reply.wait_for_final()
    assert reply.ephemeral and reply.answered_in_time
    return reply.content


async def test_only_these_two_commands_are_offered_in_dms(servers: TwoServers) -> None:
    contexts = {c["name"]: c.get("contexts") for c in servers.world.fake.synced_commands()}
    assert sorted(contexts["subscriptions"]) == sorted(contexts["unsubscribe"]) == [0, 1]
    assert contexts["subscribe"] == [0]  # subscribing needs a server
    with pytest.raises(CommandError, match="not available in DMs"):
        await servers.world.fake.run_command(
            servers.world.alice, servers.dm, "subscribe", query="x"
        )


async def test_a_dm_lists_dm_subscriptions_from_every_server_with_its_name(
    servers: TwoServers,
) -> None:
    await subscribe_everywhere(servers)
    # alice leaves the second server: she can't run commands there any more
    del servers.other.members[servers.world.alice.id]
    with pytest.raises(CommandError, match="not a member"):
        await servers.world.fake.run_command(
            servers.world.alice, servers.other_channel, "subscriptions"
        )

    listed = await in_dm(servers, "subscriptions")
    assert listed.splitlines() == [
        "**Your DM subscriptions, from every server**",
        "• `diffusion · ML Lab`",
        "• `diffusion · Reading Group`",
        "• `agents · Reading Group`",
        "Remove one here with /unsubscribe, even from a server you have left.",
    ]  # the channel subscription (llm) is the server's business, not a DM's


async def test_unsubscribe_in_a_dm_removes_a_dm_subscription_of_a_server_left(
    servers: TwoServers,
) -> None:
    w = servers.world
    await subscribe_everywhere(servers)
    del servers.other.members[w.alice.id]

    choices = await w.fake.autocomplete(w.alice, servers.dm, "unsubscribe", "subscription")
    assert [c["name"] for c in choices] == [
        "diffusion · ML Lab",
        "diffusion · Reading Group",
        "agents · Reading Group",
    ]
    picked = choices[1]["value"]
    answer = await in_dm(servers, "unsubscribe", subscription=picked)
    assert answer == "Unsubscribed from `diffusion · Reading Group`: no more DMs for it."

    left = await w.db(subs_repo.dm_subscriptions_of, w.alice.id)
    assert [(s.guild_id, s.normal) for s in left] == [
        (w.guild.id, "diffusion"),
        (servers.other.id, "agents"),
    ]
    assert "Reading Group`" in (await in_dm(servers, "subscriptions"))  # agents is still there

    typed = await in_dm(servers, "unsubscribe", subscription="Agents")  # typed, not picked
    assert typed == "Unsubscribed from `agents · Reading Group`: no more DMs for it."
    after = await w.db(subs_repo.dm_subscriptions_of, w.alice.id)
    assert [s.normal for s in after] == ["diffusion"]


async def test_a_query_typed_in_a_dm_that_two_servers_share_must_be_picked(
    servers: TwoServers,
) -> None:
    w = servers.world
    await subscribe_everywhere(servers)
    answer = await in_dm(servers, "unsubscribe", subscription="diffusion")
    assert answer == (
        "You get `diffusion` by DM from 2 servers; pick the one to remove from the list."
    )
    assert len(await w.db(subs_repo.dm_subscriptions_of, w.alice.id)) == 3  # nothing removed


async def test_a_dm_never_reaches_someone_elses_or_a_channel_subscription(
    servers: TwoServers,
) -> None:
    w = servers.world
    await subscribe_everywhere(servers)
    bobs = await w.run(w.bob, "subscribe", query="robotics", dm=True)
    assert bobs.content.startswith("Subscribed to `robotics`")
    (bob_sub,) = await w.db(subs_repo.dm_subscriptions_of, w.bob.id)
    mine = await w.db(subs_repo.list_personal, guild_id=w.guild.id, user_id=w.alice.id)
    (llm,) = [s for s in mine if s.normal == "llm"]

    for value in (str(bob_sub.id), str(llm.id), "llm", "robotics"):
        refused = await in_dm(servers, "unsubscribe", subscription=value)
        assert refused == "That isn't one of your DM subscriptions; pick one from the list."
    assert await w.count("personal_subscriptions") == 5


async def test_a_server_the_bot_cannot_see_is_named_by_its_id(servers: TwoServers) -> None:
    w = servers.world
    await w.db(
        subs_repo.add_personal,
        guild_id=4242,
        user_id=w.alice.id,
        channel_id=None,
        query="optics",
        normal="optics",
        dm=True,
        now=NOW,
    )
    assert "• `optics · server 4242`" in (await in_dm(servers, "subscriptions")).splitlines()


async def test_no_dm_subscriptions_says_how_to_get_some(servers: TwoServers) -> None:
    assert await in_dm(servers, "subscriptions") == (
        "You get no papers by DM. In a server, `/subscribe query:diffusion dm:true` "
        "sends its matches here."
    )


async def test_in_a_server_the_commands_behave_as_before(servers: TwoServers) -> None:
    w = servers.world
    await subscribe_everywhere(servers)
    here = await w.run(w.alice, "subscriptions")
    assert here.content.splitlines()[:3] == [
        "**Your subscriptions in this server**",
        "• `diffusion · DM`",
        f"• `llm · #{w.channel.name}`",
    ]
    refused = await w.run(w.alice, "unsubscribe", subscription="agents")  # the other server's
    assert refused.content == "That isn't one of your subscriptions here; pick one from the list."
