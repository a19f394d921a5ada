"""`/healthz` and `/metrics` served by the running bot (PAPERBOY_METRICS_PORT), read over HTTP
the way a container runtime and Prometheus read them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.discord.client import PaperboyBot
from bot.store import source_status
from tests.e2e.lab import NOW, running, seeded_lab
from tests.fakediscord import FakeDiscord
from tests.support import settings_for, subscribe


def base_url(bot: PaperboyBot) -> str:
    assert bot.health is not None, "PAPERBOY_METRICS_PORT is set, so the bot serves /healthz"
    return f"http://127.0.0.1:{bot.health.port}"


async def healthz(bot: PaperboyBot) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url(bot)}/healthz") as response,
    ):
        return response.status, await response.json()


async def health_becomes(
    bot: PaperboyBot, wanted: Callable[[int, dict[str, Any]], bool]
) -> tuple[int, dict[str, Any]]:
    """Poll /healthz until `wanted(status, body)`, as a load balancer would."""
    async with asyncio.timeout(30):
        while True:
            status, body = await healthz(bot)
            if wanted(status, body):
                return status, body
            await asyncio.sleep(0.05)


async def scrape(bot: PaperboyBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics keyed by (name, sorted labels)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url(bot)}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_healthz_answers_at_once_and_follows_the_gateway(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    settings = settings_for(tmp_path, fake).model_copy(update={"metrics_port": 0})
    async with running(settings, fake) as bot:
        # Connected, no feed and no source fetched yet: healthy.
        _, body = await health_becomes(bot, lambda s, _: s == 200)
        assert body == {
            "status": "ok",
            "failing": [],
            "gateway": "connected",
            "database": "writable",
            "scheduler": "running",
            "sources": {},
        }
        # Discord goes away: the connection drops and reconnecting is refused.
        fake.refuse_gateway()
        await fake.drop_gateway()
        _, body = await health_becomes(bot, lambda s, _: s == 503)
        assert body["failing"] == ["gateway"] and body["gateway"] == "disconnected"
        assert body["database"] == "writable"
        # Back: the bot reconnects by itself and reports healthy again. (discord.py's sharded
        # client starts a new session when its RESUME attempt meets the outage, so this is a
        # second IDENTIFY rather than a RESUME.)
        fake.refuse_gateway(False)
        _, body = await health_becomes(bot, lambda s, _: s == 200)
        assert body["gateway"] == "connected"
        assert fake.resume_count + fake.identify_count >= 2


async def test_metrics_count_a_posted_digest_messages_429s_and_commands(
    discord_at_fake: FakeDiscord, tmp_path
) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path, metrics_port=0)
    limited = fake.inject_faults("POST", "/channels/{id}/messages", status=429, times=1)
    async with running(lab.settings, fake) as bot:
        await bot.store.run(source_status.record_success, "hf", NOW - timedelta(hours=1), 41)
        before = await scrape(bot)
        assert before[("paperboy_digest_runs_total", (("outcome", "posted"),))] == 0
        assert ("paperboy_gateway_latency_seconds", ()) in before

        assert bot.scheduler is not None
        report = await bot.scheduler.run_feed_now(lab.channel.id)
        assert report.posted == 2
        await fake.run_command(lab.alice, lab.channel, "help")
        await subscribe(bot.store, lab.channel.id, "agents", user=lab.bob.id, dm=True)
        await bot.scheduler.run_dm_digests_now()
        after = await scrape(bot)
        _, body = await healthz(bot)

    assert limited.hits == 1
    assert after[("paperboy_digest_runs_total", (("outcome", "posted"),))] == 1
    assert after[("paperboy_deliveries", (("state", "sent"),))] == 3  # two papers, one DM
    assert after[("paperboy_deliveries", (("state", "pending"),))] == 0
    assert after[("paperboy_dm_digest_runs_total", (("outcome", "posted"),))] == 1
    # The header, one message per paper in its thread, and bob's DM; the 429 is not a message.
    assert after[("paperboy_discord_messages_sent_total", ())] == 4
    assert after[("paperboy_discord_rate_limited_total", (("scope", "user"),))] == 1
    assert after[("paperboy_feeds", (("state", "active"),))] == 1
    assert after[("paperboy_source_seconds_since_success", (("source", "hf"),))] == 3600
    assert after[("paperboy_source_last_fetch_papers", (("source", "hf"),))] == 41
    help_count = (
        "paperboy_command_latency_seconds_count",
        (("command", "help"), ("outcome", "ok")),
    )
    assert after[help_count] == 1
    assert after[("paperboy_gateway_connected", ())] == 1
    assert body["sources"] == {"hf": (NOW - timedelta(hours=1)).isoformat()}


async def test_a_paused_feed_is_counted_by_reason(discord_at_fake: FakeDiscord, tmp_path) -> None:
    fake = discord_at_fake
    lab = await seeded_lab(fake, tmp_path, metrics_port=0)
    lab.channel.set_overwrite(lab.guild.bot_member, deny=["send_messages"])
    async with running(lab.settings, fake) as bot:
        assert bot.scheduler is not None
        await bot.scheduler.run_feed_now(lab.channel.id)
        after = await scrape(bot)
    paused = {k[1]: v for k, v in after.items() if k[0] == "paperboy_feeds_paused"}
    assert len(paused) == 1 and next(iter(paused.values())) == 1
    (((_, reason),),) = paused
    assert "permission" in reason
    assert after[("paperboy_deliveries", (("state", "pending"),))] == 2
