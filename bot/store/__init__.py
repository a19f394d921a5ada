"""SQLite storage: one owner thread (`Store`), versioned migrations, and repository modules
(`papers`, `subscriptions`, `feeds`) whose functions run on that thread via `Store.run`."""

from bot.store.database import Store, StoreError, utcnow

__all__ = ["Store", "StoreError", "utcnow"]
