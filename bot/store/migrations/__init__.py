"""Versioned schema migrations, applied in order at start-up (sqlite-utils `Migrations`).

Each module registers its migrations with `MIGRATIONS` when imported, and they run in the order
they were registered: each module imports the one before it (schema -> integrity -> features),
so the order holds whichever is imported first. Never edit a migration that has
shipped: add a new one at the end of `features.py` (or a new module imported last).
"""

from bot.store.migrations import features  # noqa: F401  (registers every migration)
from bot.store.migrations.registry import MIGRATIONS
from bot.store.migrations.schema import failed_deliveries_resume_in_place

__all__ = ["MIGRATIONS", "failed_deliveries_resume_in_place"]
