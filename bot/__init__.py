"""Paperboy: research-paper alerts for Discord. The core (everything but `bot.discord*` and `cogs`)
never imports discord."""

__version__ = "0.1.0"
