"""The command payload's hash and contexts, without a server: the hash changes exactly when
what Discord would receive changes, and every command's contexts are explicit."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.discord.sync import GUILD_INSTALL, payload_hash, pin_contexts, tree_payload


def command(name: str, description: str = "Does a thing") -> app_commands.Command:
    async def callback(interaction: discord.Interaction) -> None:
        return None

    return app_commands.Command(name=name, description=description, callback=callback)


def tree_of(*commands: app_commands.Command) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(
        discord.Client(intents=discord.Intents.none()), allowed_installs=GUILD_INSTALL
    )
    for one in commands:
        tree.add_command(one)
    return tree


def digest(tree: app_commands.CommandTree) -> str:
    return payload_hash(tree_payload(tree, None))


def test_the_hash_follows_the_payload_not_the_order_commands_were_added() -> None:
    same = digest(tree_of(command("help"), command("search")))
    assert digest(tree_of(command("search"), command("help"))) == same
    assert digest(tree_of(command("help"), command("search", "Finds papers"))) != same
    assert digest(tree_of(command("help"))) != same


def test_contexts_are_explicit_and_a_command_that_chose_its_own_keeps_them() -> None:
    server_only = app_commands.guild_only()(command("subscribe"))
    chosen = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(
        command("dm-able")
    )
    tree = tree_of(command("help"), server_only, chosen)
    pin_contexts(tree.get_commands())
    payload = {c["name"]: c for c in tree_payload(tree, None)}
    assert payload["subscribe"]["contexts"] == [0]  # servers only, not the bot's DM
    assert payload["help"]["contexts"] == [0, 1]  # servers and the bot's own DM
    assert payload["dm-able"]["contexts"] == [0, 1, 2]
    assert {c["integration_types"] == [0] for c in payload.values()} == {True}
