"""The one `Migrations` object every migration module registers with, in import order."""

from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("paperboy")
