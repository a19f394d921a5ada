"""The fake Discord's channel rules, seen through the real discord.py client: every channel type,
threads (archived, locked, the active-thread cap), forum/media tags, mention caps and timeouts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import discord
import pytest
from discord.http import Route

from tests.fakediscord import FakeDiscord, Guild, perms


@pytest.fixture
def guild(fake_discord: FakeDiscord) -> Guild:
    """A guild with one channel of each kind the bot can meet."""
    guild = fake_discord.add_guild("ML Lab")
    guild.add_text_channel("papers")
    guild.add_announcement_channel("news")
    guild.add_voice_channel("Lounge")
    guild.add_stage_channel("Talks")
    guild.add_forum_channel("forum", tags=["papers", "other"], require_tag=True)
    guild.add_media_channel("media", tags=["figures"])
    guild.add_member("alice")
    return guild


@pytest.fixture
async def client(discord_at_fake: FakeDiscord, guild: Guild) -> AsyncIterator[discord.Client]:
    """A plain discord.py client connected to the fake server."""
    bot = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(discord_at_fake.token))
    await asyncio.wait_for(bot.wait_until_ready(), 10)
    yield bot
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


def named(client: discord.Client, guild: Guild, name: str) -> object:
    """The bot's cached channel for the fake channel called `name`."""
    fake = next(c for c in guild.channels.values() if c.name == name)
    return client.get_channel(fake.id)


async def raw_send(client: discord.Client, channel_id: int, body: dict[str, object]) -> object:
    """POST /channels/{id}/messages as discord.py would, for channels it offers no send() for."""
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    return await client.http.request(route, json=body)


async def test_voice_and_stage_chats_take_messages_but_never_threads(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    voice, stage = named(client, guild, "Lounge"), named(client, guild, "Talks")
    assert isinstance(voice, discord.VoiceChannel) and isinstance(stage, discord.StageChannel)
    said = await voice.send("today's digest")
    await stage.send("talk papers")
    assert [m.content for m in fake_discord.messages_in(guild.channels[voice.id])] == [
        "today's digest"
    ]
    route = Route(
        "POST",
        "/channels/{channel_id}/messages/{message_id}/threads",
        channel_id=voice.id,
        message_id=said.id,
    )
    with pytest.raises(discord.HTTPException) as caught:
        await client.http.request(route, json={"name": "Discuss"})
    assert (caught.value.status, caught.value.code) == (400, 50024)
    assert fake_discord.threads_of(guild.channels[voice.id]) == []


async def test_no_thread_inside_a_thread_and_no_plain_message_in_forum_or_media(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    header = await papers.send("Daily digest")
    thread = await header.create_thread(name="Papers of the day")
    inner = await thread.send("a paper")
    with pytest.raises(discord.HTTPException) as caught:
        await inner.create_thread(name="nested")
    assert caught.value.code == 50024
    route = Route("POST", "/channels/{channel_id}/threads", channel_id=thread.id)
    with pytest.raises(discord.HTTPException) as caught:
        await client.http.request(route, json={"name": "nested", "type": 11})
    assert caught.value.code == 50024
    for name in ("forum", "media"):
        posts_only = named(client, guild, name)
        assert isinstance(posts_only, discord.ForumChannel)
        with pytest.raises(discord.HTTPException) as caught:
            await raw_send(client, posts_only.id, {"content": "x"})
        assert (caught.value.status, caught.value.code) == (400, 50008)
    assert [t.name for t in fake_discord.threads_of(guild.channels[papers.id])] == [
        "Papers of the day"
    ]


async def test_announcement_channel_threads_are_type_10(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    news = named(client, guild, "news")
    assert isinstance(news, discord.TextChannel) and news.is_news()
    header = await news.send("Daily digest")
    thread = await header.create_thread(name="Papers")
    assert thread.type is discord.ChannelType.news_thread
    assert fake_discord.threads_of(guild.channels[news.id])[0].type == 10


async def test_archived_thread_reopens_on_send_unless_locked(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = next(c for c in guild.channels.values() if c.name == "papers")
    bot = fake_discord.bot_user
    old = guild.add_thread(papers, "last week", owner=bot, archived=True)
    locked = guild.add_thread(papers, "closed", owner=bot, archived=True, locked=True)
    locked_open = guild.add_thread(papers, "moderated", owner=bot, locked=True)

    reopened = await client.fetch_channel(old.id)
    assert isinstance(reopened, discord.Thread) and reopened.archived
    await reopened.send("new paper")
    assert not old.archived and [m.content for m in fake_discord.messages_in(old)] == ["new paper"]

    for thread, code in ((locked, 50083), (locked_open, 160005)):
        cached = await client.fetch_channel(thread.id)
        assert isinstance(cached, discord.Thread)
        with pytest.raises(discord.HTTPException) as caught:
            await cached.send("refused")
        assert (caught.value.status, caught.value.code) == (400, code)
        assert fake_discord.messages_in(thread) == []
    assert locked.archived  # a locked thread is not reopened by a send

    guild.set_bot_permissions(perms("view_channel", "send_messages_in_threads", "manage_threads"))
    moderated = await client.fetch_channel(locked.id)
    assert isinstance(moderated, discord.Thread)
    await moderated.send("a moderator may")
    assert not locked.archived


async def test_forum_with_require_tag_needs_an_applied_tag(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    forum = named(client, guild, "forum")
    assert isinstance(forum, discord.ForumChannel)
    assert forum.flags.require_tag
    assert [t.name for t in forum.available_tags] == ["papers", "other"]
    with pytest.raises(discord.HTTPException) as caught:
        await forum.create_thread(name="Digest", content="3 papers")
    assert (caught.value.status, caught.value.code) == (400, 40067)
    assert fake_discord.threads_of(guild.channels[forum.id]) == []

    tag = forum.get_tag(int(guild.channels[forum.id].available_tags[0]["id"]))
    assert tag is not None
    post = await forum.create_thread(name="Digest", content="3 papers", applied_tags=[tag])
    assert [t.name for t in post.thread.applied_tags] == ["papers"]
    [stored] = fake_discord.threads_of(guild.channels[forum.id])
    assert stored.applied_tags == [tag.id]


async def test_media_channel_takes_posts_without_tags_when_not_required(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    media = named(client, guild, "media")
    assert isinstance(media, discord.ForumChannel) and media.is_media()
    assert not media.flags.require_tag
    post = await media.create_thread(name="Figure", content="a figure")
    assert post.thread.parent_id == media.id
    assert [t.name for t in fake_discord.threads_of(guild.channels[media.id])] == ["Figure"]


async def test_active_thread_cap_refuses_new_and_reopened_threads(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    fake_papers = guild.channels[papers.id]
    archived = guild.add_thread(fake_papers, "old", owner=fake_discord.bot_user, archived=True)
    fake_discord.max_active_threads = 2
    for n in range(2):
        await (await papers.send(f"digest {n}")).create_thread(name=f"day {n}")
    with pytest.raises(discord.HTTPException) as caught:
        await (await papers.send("digest 2")).create_thread(name="day 2")
    assert (caught.value.status, caught.value.code) == (400, 160006)
    old = await client.fetch_channel(archived.id)
    assert isinstance(old, discord.Thread)
    with pytest.raises(discord.HTTPException) as caught:
        await old.send("reopen")
    assert caught.value.code == 160006 and archived.archived
    assert len(fake_discord.threads_of(fake_papers)) == 3  # the two new ones and the archived one


async def test_allowed_mentions_users_holds_at_most_100(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    members = [guild.add_member(f"reader{n}") for n in range(101)]
    objects = [discord.Object(m.id) for m in members]
    with pytest.raises(discord.HTTPException) as caught:
        await papers.send("digest", allowed_mentions=discord.AllowedMentions(users=objects))
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert "allowed_mentions.users" in caught.value.text  # discord.py flattens `errors`
    content = " ".join(m.mention for m in members[:80])
    sent = await papers.send(content, allowed_mentions=discord.AllowedMentions(users=objects[:100]))
    stored = fake_discord.world.messages[sent.id]
    assert stored.mentioned_user_ids == {m.id for m in members[:80]}
    with pytest.raises(discord.HTTPException) as caught:
        await papers.send("x" * 2001)
    assert caught.value.code == 50035


async def test_timed_out_bot_cannot_post_until_the_timeout_ends(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    fake_discord.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    until = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    me = papers.guild.me
    # The bot hears about its own timeout although it has no members intent.
    heard = asyncio.create_task(client.wait_for("member_update", timeout=5))
    fake_discord.time_out_bot(guild, until)
    _, after = await heard
    assert after.id == me.id and after.timed_out_until == until
    with pytest.raises(discord.Forbidden) as caught:
        await papers.send("digest")
    assert caught.value.code == 50013
    fetched = await papers.guild.fetch_member(me.id)
    assert fetched.timed_out_until == until
    assert fake_discord.messages_in(guild.channels[papers.id]) == []

    fake_discord.clock.advance(timedelta(minutes=31))  # 10:31: the timeout is over
    await papers.send("digest")
    assert [m.content for m in fake_discord.messages_in(guild.channels[papers.id])] == ["digest"]


async def test_without_embed_links_embeds_are_dropped_or_refused(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    guild.channels[papers.id].set_overwrite(guild.bot_member, deny=["embed_links"])
    sent = await papers.send("1 new paper", embed=discord.Embed(title="Attention"))
    assert sent.embeds == []  # the message went out, its embed did not
    with pytest.raises(discord.Forbidden) as caught:
        await papers.send(embed=discord.Embed(title="Attention"))
    assert caught.value.code == 50013
    [stored] = fake_discord.messages_in(guild.channels[papers.id])
    assert (stored.content, stored.embeds) == ("1 new paper", [])


async def test_thread_on_a_deleted_header_is_unknown_message(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    header = await papers.send("Daily digest")
    fake_discord.world.messages[header.id].deleted = True  # a moderator removed it
    with pytest.raises(discord.NotFound) as caught:
        await header.create_thread(name="Papers")
    assert caught.value.code == 10008
    assert fake_discord.threads_of(guild.channels[papers.id]) == []


async def test_idle_thread_archives_itself_and_a_send_reopens_it(
    fake_discord: FakeDiscord, guild: Guild, client: discord.Client
) -> None:
    papers = named(client, guild, "papers")
    assert isinstance(papers, discord.TextChannel)
    thread = await (await papers.send("digest")).create_thread(
        name="day 1", auto_archive_duration=1440
    )
    await thread.send("paper")
    fake_discord.clock.advance(timedelta(hours=24, minutes=1))  # a day without activity
    heard = asyncio.create_task(client.wait_for("thread_update", timeout=5))
    await papers.send("the next request sees the archive")
    _, after = await heard
    assert after.id == thread.id and after.archived
    await thread.send("next day's paper")  # sending reopens it
    assert not guild.channels[thread.id].archived
    assert [m.content for m in fake_discord.messages_in(guild.channels[thread.id])] == [
        "paper",
        "next day's paper",
    ]
