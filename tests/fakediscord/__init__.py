"""A local Discord-compatible server (REST v10 + gateway) for end-to-end tests with real discord.py.

Start it, set up a world, point the bot at it, act as users, inspect what the bot did::

    async with FakeDiscord() as discord:                 # 127.0.0.1, free port
        guild = discord.add_guild("ML Lab")
        chan = guild.add_text_channel("papers")
        forum = guild.add_forum_channel("paper-forum", tags=["cs.LG"])
        alice = guild.add_member("alice")                   # @everyone's default permissions
        admin = guild.add_member("root", permissions=["administrator"])  # int, or roles=[]
        mods = guild.add_role("mods", ["manage_messages"], mentionable=True)
        chan.set_overwrite(guild, deny=["send_messages"])  # @everyone (id == guild id)
        chan.set_overwrite(alice, allow=["send_messages"])  # member overwrite
        guild.set_bot_permissions(perms("view_channel", "send_messages"))   # the bot's managed role

        # point discord.py at it (the `discord_at_fake` fixture does this with monkeypatch):
        #   discord.http.Route.BASE = discord.api_url
        #   discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(discord.gateway_url)
        #   bot.start(discord.token)
        await discord.wait_until_connected(); await discord.wait_for_commands_synced()
        discord.synced_commands() / discord.synced_commands(guild)        # stored payloads with ids

        reply = await discord.run_command(alice, chan, "feed subscribe", query="diffusion")
        reply.answered / reply.latency / reply.answered_in_time (≤ 3 s) / reply.response_type
        reply.content / reply.embeds / reply.components / reply.ephemeral / reply.deferred
        await reply.wait_for_final()          # after a defer: the edit or first follow-up
        await reply.wait_for_followups(2); reply.followups; reply.messages
        await discord.click(alice, reply.message, "next-page")  # or select(..., values=[])
        choices = await discord.autocomplete(alice, chan, "unsubscribe", "sub", typed="dif")
        discord.user_says(alice, chan, "hello")                   # MESSAGE_CREATE to the bot
        guild.delete_channel(chan)          # CHANNEL_DELETE (threads: THREAD_DELETE), threads too
        guild.delete_channel(chan, notify=False)  # vanishes silently: the bot's cache goes stale
        discord.remove_bot_from_guild(guild)      # kicked: guild + channels gone, GUILD_DELETE

        discord.messages_in(chan) / discord.threads_of(forum) / discord.dms_to(alice)
        await discord.wait_for_message(lambda m: m.channel is chan)   # scheduled posts
        msg.content / msg.embeds / msg.embed_titles / msg.components / msg.flags / msg.ephemeral
        msg.nonce / msg.mentioned_user_ids (who is really pinged) / msg.thread / msg.author

        discord.inject_faults("POST", "/channels/{id}/messages", status=500, times=2)
        discord.delay_responses("POST", "/channels/{id}/messages", seconds=2)  # held, then done
        # Done, then the answer is lost ("Discord got it, the bot never heard"): the message is
        # created (nonce recorded), then the connection is cut (how="drop"), never answered until
        # the server closes ("hang"), or answered with a status instead (how=502); `skip=2` lets
        # two matching requests through first. Such requests are logged with `lost=True`.
        discord.lose_responses("POST", "/channels/{id}/messages", how="drop", skip=2)
        discord.rate_limits.enabled = False; discord.rate_limits.message_window = 0.5
        await discord.drop_gateway(); await discord.send_reconnect()
        discord.refuse_gateway(); discord.refuse_gateway(False)   # an outage: reconnects get 503
        await discord.send_invalid_session()
        await discord.wait_for_resume(); discord.identify_count; discord.resume_count
        discord.requests (method, path, status) / discord.unhandled_routes

        # Every channel type: 0 text, 5 announcement (threads type 10), 2 voice and 13 stage
        # (their text chat takes messages, never threads), 15 forum / 16 media (posts only).
        news = guild.add_announcement_channel("news"); guild.add_voice_channel("Lounge")
        guild.add_stage_channel("Talks"); guild.add_category("Reading")
        forum = guild.add_forum_channel("forum", tags=["papers"], require_tag=True)  # 40067
        media = guild.add_media_channel("media", tags=["figures"])
        old = guild.add_thread(chan, "last week", owner=discord.bot_user, archived=True,
                               locked=False)        # a send reopens it; locked: 50083 / 160005
        discord.max_active_threads = 3      # 160006 past it (Discord: 1,000 per guild)
        # Threads idle past auto_archive_duration archive themselves (THREAD_UPDATE) when the
        # next request arrives after the server clock moved: discord.clock.advance(86_460).

        # Time: the server clock drives timeouts, deadlines, tokens and the invalid counter.
        discord.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # or .follow(bot_clock)
        FakeDiscord(now=bot_clock)   # from the start, so ids (snowflakes) carry that time too
        discord.clock.advance(60)                     # dates later, every age + 60 s
        discord.time_out_bot(guild, until=datetime(2026, 11, 26, 10, 30, tzinfo=UTC))
        discord.time_out(alice, timedelta(minutes=5)); discord.time_out_bot(guild, None)

        # Interactions: answers after 3 s get 10062 (run_command raises InteractionNotAnswered);
        # a slow test opts out. Follow-ups/edits after 15 minutes get 401 50027.
        discord.interaction_deadline = None           # or FakeDiscord(interaction_deadline=None)
        discord.age_interaction(reply)                # its token is now 15 min + 1 s old
        await discord.click(alice, msg, "old:id", expect_answer=False)  # unhandled button

        # Gateway: /gateway/bot recommends shards; IDENTIFY closes 4004/4010/4011/4013/4014.
        discord.sharding.recommended_shards = 2; discord.sharding.max_guilds_per_shard = 2500
        discord.sharding.identify_budget = 1000       # past it: 4004 and the token is reset
        discord.gateway_closes                        # [4011, ...] close codes sent

        # Discord's invalid-request limit (401/403/429, 10,000 per 10 min, then an edge ban).
        discord.invalid_requests.count / .total / .by_status / .banned; .limit = 100; .reset()

Behaviour follows Discord: permissions with overwrites (403 50013 / 50001), 404 10003 / 10008,
400 50035 "Invalid Form Body" for limits (content 2000, 10 embeds, embed field limits, total 6000,
thread name 1–100, allowed_mentions users/roles ≤ 100, applied_tags ≤ 5), 400 50006 for an
empty message, 400 50008 for a message to a forum/media channel or category, 400 50024 for a
thread where none can start, nonce + enforce_nonce dedupe, per-channel message buckets (5 / 5 s)
and a global 50 / s with real headers, 40060 for an interaction answered twice, 10062 for an
unknown or late one (3 s by default) and 50027 for a token older than 15 minutes; a timed-out
member keeps only View Channel and Read Message History. Each rule cites its page of Discord's
API documentation next to it. Slash-command options are checked against what the bot synced;
`CommandError` says what is wrong.
Run it by hand: `python -m tests.fakediscord --port 8765` (see __main__.py).
"""

from .actions import InteractionNotAnswered, InteractionResult
from .clock import Clock
from .commands import CommandError
from .driver import DEFAULT_TOKEN, FakeDiscord
from .faults import LostAnswer
from .invalid import InvalidRequests
from .permissions import perms
from .ratelimit import RateLimitConfig
from .sharding import Sharding
from .state import Channel, Guild, Member, Message, Role, User

__all__ = [
    "DEFAULT_TOKEN",
    "Channel",
    "Clock",
    "CommandError",
    "FakeDiscord",
    "Guild",
    "InteractionNotAnswered",
    "InteractionResult",
    "InvalidRequests",
    "LostAnswer",
    "Member",
    "Message",
    "RateLimitConfig",
    "Role",
    "Sharding",
    "User",
    "perms",
]
