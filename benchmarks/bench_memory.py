"""Benchmark: peak memory of the bot's daily work at a year's scale and more — a store of P
synthetic papers (`synthetic.py`), F feeds with S subscriptions in all and M members with 10 DM
subscriptions each — measured in a fresh process doing what `paperboy run` does between gateway
events: open the store, prepare the feeds' shared match (as after an ingest), plan every feed's
digest, plan the DM digests, and answer a few /search commands.

    .venv/bin/python benchmarks/bench_memory.py [--papers 1000000] [--feeds 1000] [--subs 100000]

The floor is a fresh process that imports the bot (discord.py included) and opens the same
store. Each figure is the process's peak resident set (VmHWM). The Discord client's own caches
(guilds, channels, members) are not in it: they depend on the servers, not on Paperboy's data.
The store is a copy of the cached corpus (the corpus itself stays untouched).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlite_utils
import synthetic

from bot.store import feeds as feeds_repo
from bot.store.migrations import MIGRATIONS

QUERIES = ("model", "diffusion -survey", '"language model"', "cat:cs.CL", "quantiz*")


def peak_mb() -> float:
    """This process's peak resident set in MB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: the same figure, less precisely named

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def renumber_migrations(path: Path) -> None:
    """A corpus cached by an earlier Paperboy may record a migration under its old number (the
    cache key covers only the papers tables' schema): record it under today's name, so the store
    opens the copy and applies what is missing."""
    names = {m.name.partition("_")[2]: m.name for m in MIGRATIONS._migrations}
    db = sqlite_utils.Database(path)
    for (applied,) in db.execute("SELECT name FROM _sqlite_migrations").fetchall():
        current = names.get(applied.partition("_")[2], applied)
        if current != applied:
            db.execute("UPDATE _sqlite_migrations SET name = ? WHERE name = ?", [current, applied])
    db.conn.commit()
    db.close()


def add_subscriptions(path: Path, feeds: int, subs: int, members: int, seed: int) -> None:
    """Feeds (a tenth of each feed's subscriptions the channel's own) and DM members, with
    queries drawn from the corpus's vocabulary (common words more often)."""
    gen = synthetic.Generator(1, seed)
    rng = random.Random(seed)
    words = gen.vocab[len(synthetic.STOP_WORDS) : 5000]
    weights = [1 / r for r in range(1, len(words) + 1)]

    def query() -> str:
        a, b = rng.choices(words, weights, k=2)
        return rng.choice([a, a, a, f"{a} {b}", f'"{a} {b}"', f"{a} OR {b}", f"{a} -{b}"])

    db = sqlite_utils.Database(path)
    now = synthetic.END.isoformat()
    for feed in range(1, feeds + 1):
        feeds_repo.ensure_feed(
            db, channel_id=feed, guild_id=feed, schedule_time="09:00", timezone="UTC",
            sources="hf, arxiv", created_by=1, now=synthetic.END - timedelta(days=5),
        )  # fmt: skip
    personal, channel = [], []
    for feed in range(1, feeds + 1):
        for n, text in enumerate(sorted({query() for _ in range(subs // feeds)})):
            row = {"guild_id": feed, "channel_id": feed, "query": text, "normal": text}
            if n % 10 == 0:
                channel.append({**row, "added_by": 1, "created_at": now})
            else:
                personal.append({**row, "user_id": n, "dm": 0, "created_at": now})
    for member in range(10_000, 10_000 + members):
        for text in sorted({query() for _ in range(10)}):
            personal.append(
                {
                    "guild_id": 1,
                    "channel_id": None,
                    "query": text,
                    "normal": text,
                    "user_id": member,
                    "dm": 1,
                    "created_at": now,
                }
            )
    db["personal_subscriptions"].insert_all(personal, batch_size=5000)  # type: ignore[union-attr]
    db["channel_subscriptions"].insert_all(channel, batch_size=5000)  # type: ignore[union-attr]
    db.close()


async def child_work(path: Path, feeds: int, members: int, floor: bool) -> dict[str, float]:
    """In a fresh process: the bot's daily work on the store (or, for the floor, just opening
    it with the bot imported); peak memory and seconds."""
    import bot.discord.client  # noqa: F401  (the running bot has discord.py loaded)
    from bot.config import Settings
    from bot.delivery.dm_batch import plan_dm_batch
    from bot.delivery.engine import DeliveryEngine
    from bot.delivery.planner import plan_digest
    from bot.query import parse
    from bot.search import search_papers
    from bot.store import Store

    now = synthetic.END + timedelta(hours=1)
    store = await Store.open(path, clock=lambda: now)
    started = time.perf_counter()
    try:
        await store.read(lambda db: db.execute("SELECT count(*) FROM papers").fetchone())
        if not floor:
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
            engine = DeliveryEngine(store, None, settings, clock=lambda: now)  # type: ignore[arg-type]
            await engine.prepare()

            def plan_all(db: sqlite_utils.Database) -> None:
                for channel in range(1, feeds + 1):
                    plan_digest(db, channel, now, cap=25, shared=engine.match_cache)

            await store.read(plan_all)
            users = list(range(10_000, 10_000 + members))
            await store.read(plan_dm_batch, users, now)
            for text in QUERIES:
                await store.read(search_papers, parse(text), count=True)
    finally:
        await store.close()
    return {"peak_mb": peak_mb(), "seconds": time.perf_counter() - started}


def run_child(path: Path, feeds: int, members: int, *, floor: bool) -> dict[str, float]:
    """Run `child_work` in a fresh interpreter; its JSON answer."""
    args = [sys.executable, __file__, "--child", str(path), "--feeds", str(feeds)]
    args += ["--members", str(members)] + (["--floor"] if floor else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--subs", type=int, default=100_000, help="feed subscriptions in all")
    parser.add_argument("--members", type=int, default=1000, help="members with DM digests")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        found = asyncio.run(child_work(args.child, args.feeds, args.members, args.floor))
        print(json.dumps(found))
        return
    corpus = synthetic.corpus_db(args.papers, args.seed)
    with tempfile.TemporaryDirectory(dir=synthetic.cache_dir()) as tmp:
        path = Path(tmp) / "paperboy.db"
        shutil.copyfile(corpus, path)
        renumber_migrations(path)
        add_subscriptions(path, args.feeds, args.subs, args.members, args.seed)
        floor = run_child(path, args.feeds, args.members, floor=True)
        work = run_child(path, args.feeds, args.members, floor=False)
        # a tenth of the feeds weekly: the shared match then holds 8 days of papers, not 3
        db = sqlite_utils.Database(path)
        db.execute("UPDATE feeds SET days = 'weekly:mon' WHERE channel_id % 10 = 0")
        db.conn.commit()
        db.close()
        weekly = run_child(path, args.feeds, args.members, floor=False)
    print(
        f"Memory of the bot's daily work: {args.papers:,} papers, {args.feeds:,} feeds,"
        f" {args.subs:,} feed subscriptions, {args.members:,} DM members x 10"
    )
    print(f"{'process':<44} {'peak RSS (MB)':>14} {'seconds':>8}")
    print(f"{'bot imported, store opened (floor)':<44} {floor['peak_mb']:>14.0f} {'':>8}")
    for label, found in (("daily feeds", work), ("a tenth of the feeds weekly", weekly)):
        print(f"{label:<44} {found['peak_mb']:>14.0f} {found['seconds']:>8.1f}")
    print("(each: prepare the shared match, plan every feed, plan the DM digests, 5 searches)")
    above = weekly["peak_mb"] - floor["peak_mb"]
    print(f"target: <= 300 MB in all; the weekly case above the floor: {above:.0f} MB")
    print(f"(measured {datetime.now():%Y-%m-%d %H:%M})")


if __name__ == "__main__":
    main()
