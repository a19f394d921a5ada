"""The driver builds interaction payloads from the synced commands, as Discord's client would."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakediscord import CommandError, FakeDiscord, Guild

FEED = {
    "name": "feed",
    "description": "Feeds",
    "options": [
        {
            "name": "rules",
            "description": "Rules",
            "type": 2,
            "options": [
                {
                    "name": "add",
                    "description": "Add",
                    "type": 1,
                    "options": [
                        {"name": "topic", "description": "t", "type": 3, "required": True},
                        {"name": "limit", "description": "l", "type": 4, "min_value": 1},
                        {"name": "who", "description": "w", "type": 6},
                        {"name": "where", "description": "c", "type": 7},
                        {
                            "name": "mode",
                            "description": "m",
                            "type": 3,
                            "choices": [{"name": "Daily", "value": "daily"}],
                        },
                    ],
                }
            ],
        }
    ],
}
ADMIN_ONLY = {"name": "purge", "description": "Admins", "default_member_permissions": "8"}


@pytest.fixture
def guild(fake_discord: FakeDiscord) -> Guild:
    guild = fake_discord.add_guild("ML Lab")
    guild.add_text_channel("papers")
    guild.add_member("alice")
    fake_discord.server.commands.overwrite(None, [FEED, ADMIN_ONLY])
    return guild


def _build(fake: FakeDiscord, guild: Guild, name: str, **options: Any) -> dict[str, Any]:
    alice = next(m for m in guild.members.values() if m.name == "alice")
    channel = guild.text_channels[0]
    return fake.payloads.command_data(alice.user, channel, name, options)


def test_subcommand_group_nesting_and_types(fake_discord: FakeDiscord, guild: Guild) -> None:
    alice = next(m for m in guild.members.values() if m.name == "alice")
    channel = guild.text_channels[0]
    data = _build(
        fake_discord, guild, "feed rules add", topic="gans", limit="3", who=alice, where=channel
    )
    [group] = data["options"]
    assert (group["name"], group["type"]) == ("rules", 2)
    [sub] = group["options"]
    assert (sub["name"], sub["type"]) == ("add", 1)
    values = {o["name"]: (o["type"], o["value"]) for o in sub["options"]}
    assert values == {
        "topic": (3, "gans"),
        "limit": (4, 3),
        "who": (6, str(alice.id)),
        "where": (7, str(channel.id)),
    }
    assert str(alice.id) in data["resolved"]["members"]
    assert data["id"] == fake_discord.synced_commands()[0]["id"]


@pytest.mark.parametrize(
    ("name", "options", "complaint"),
    [
        ("nope", {}, "not synced"),
        ("feed", {}, "needs a subcommand"),
        ("feed rules add", {}, "needs option 'topic'"),
        ("feed rules add", {"topic": "x", "colour": "red"}, "no option"),
        ("feed rules add", {"topic": "x", "limit": 0}, "must be ≥ 1"),
        ("feed rules add", {"topic": "x", "limit": 1.5}, "integer"),
        ("feed rules add", {"topic": "x", "mode": "hourly"}, "one of"),
        ("purge", {}, "lacks"),
    ],
)
def test_commands_a_user_could_not_run(
    fake_discord: FakeDiscord, guild: Guild, name: str, options: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(CommandError, match=complaint):
        _build(fake_discord, guild, name, **options)


async def test_run_command_needs_a_connected_bot(fake_discord: FakeDiscord, guild: Guild) -> None:
    alice = next(m for m in guild.members.values() if m.name == "alice")
    with pytest.raises(RuntimeError, match="gateway"):
        await fake_discord.run_command(alice, guild.text_channels[0], "feed rules add", topic="x")
