"""SQLite storage: `Store` (one writer thread, a pool of read-only readers), versioned migrations,
and repository modules (`papers`, `subscriptions`, `feeds`…) whose functions run through
`Store.write` (or `Store.run`, the same) and `Store.read`."""

from bot.store.database import Store, StoreBusy, StoreError, utcnow

__all__ = ["Store", "StoreBusy", "StoreError", "utcnow"]
