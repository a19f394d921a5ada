"""Running Paperboy in production: the database lock, backups, export/import, the health and
metrics endpoint, and `paperboy doctor`'s checks. Discord-free except `doctor`'s REST calls,
which live in `bot/discord/rest.py`."""
