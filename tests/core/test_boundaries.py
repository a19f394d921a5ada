"""The architecture's two boundaries, checked on the source rather than hoped for: the core
(everything in `bot/` but `bot.discord`) never imports discord, and SQL lives in `bot/store/`."""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bot

ROOT = Path(__file__).parents[2]
DISCORD_SIDE = "bot.discord"  # the one package in bot/ allowed to import discord


def core_modules() -> list[str]:
    """Every module under `bot/` outside `bot.discord`, found afresh so new ones are covered."""
    found = pkgutil.walk_packages(bot.__path__, prefix="bot.")
    names = ["bot", *(m.name for m in found)]
    return sorted(n for n in names if n != DISCORD_SIDE and not n.startswith(DISCORD_SIDE + "."))


# Imports the modules one by one in a fresh interpreter; prints the first whose import loaded
# discord (or null), so a failure names the culprit.
IMPORT_EACH = """
import importlib, json, sys
culprit = None
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    if "discord" in sys.modules:
        culprit = name
        break
print(json.dumps(culprit))
"""


def first_to_load_discord(modules: list[str]) -> str | None:
    """Import `modules` in order in a new Python process; the first that pulled in discord."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, json.dumps(modules)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    culprit: str | None = json.loads(done.stdout)
    return culprit


def test_the_core_never_imports_discord() -> None:
    modules = core_modules()
    # The walk really finds the core, including packages' modules and lazy entry points.
    assert {"bot.cli", "bot.scheduler", "bot.store.database", "bot.delivery.planner"} <= set(
        modules
    )
    culprit = first_to_load_discord(modules)
    assert culprit is None, f"importing {culprit} loads discord; only bot.discord may"


def test_the_import_check_catches_a_module_that_loads_discord() -> None:
    assert first_to_load_discord(["bot.models", "bot.discord.client"]) == "bot.discord.client"


# -- SQL only in bot/store/ ----------------------------------------------------------------------

# SQL as this codebase writes it: upper-case keywords in a statement's shape. Prose ("Select a
# channel from the list") is not upper case, so it does not match.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b"
    r"|\bREPLACE\s+INTO\b"
    r"|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP|ALTER)\s+(?:UNIQUE\s+|VIRTUAL\s+)?(?:TABLE|INDEX|TRIGGER|VIEW)\b"
    r"|\bPRAGMA\s+\w+"
    r"|\bBEGIN(?:\s+(?:IMMEDIATE|DEFERRED|EXCLUSIVE))?\s*(?:TRANSACTION\b|;|$)"
    r"|\b(?:COMMIT|ROLLBACK)\s*(?:;|$)"
    r"|\bWHERE\s+[\w.]+\s*(?:=|<|>|!=|IN\b|IS\b|LIKE\b|MATCH\b)"
    r"|\bORDER\s+BY\s+[\w.]+"
    r"|\bJOIN\s+\w+\s+ON\b"
    r"|[\w.]+\s*(?:=|<>|!=|<=|>=|<|>)\s*(?:\?|:[a-z_]\w*)"  # a comparison with a parameter
)
SCANNED = ("bot", "cogs")
SQL_HOME = ROOT / "bot" / "store"


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (they may describe queries)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def sql_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string constant in `source` that looks like SQL."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and SQL.search(node.value)
    ]


def sql_outside_the_store() -> list[str]:
    """`path:line: text` of every SQL-looking string in bot/ and cogs/ outside bot/store/."""
    offenders = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.is_relative_to(SQL_HOME):
                continue
            for line, text in sql_strings(path.read_text()):
                snippet = " ".join(text.split())[:60]
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {snippet}")
    return sorted(offenders)


@pytest.mark.parametrize(
    "code",
    [
        'db.execute("SELECT id FROM papers WHERE listed_at >= ?")',
        'q = f"SELECT count(*) FROM {table}"',
        'rows(db, "UPDATE feeds SET paused = 1 WHERE channel_id = ?", [c])',
        'db.execute("INSERT OR IGNORE INTO deliveries (a) VALUES (?)")',
        'db.execute("DELETE FROM deliveries")',
        'db.execute("PRAGMA journal_mode")',
        'db.execute("BEGIN IMMEDIATE")',
        'db.executescript("CREATE TABLE x (a)")',
        'clause = " WHERE d.state = ? ORDER BY d.id"',
        'since = " AND (papers.published >= :since OR papers.listed_at >= :since)"',
    ],
)
def test_the_sql_check_recognises_sql(code: str) -> None:
    assert sql_strings(code) != []


@pytest.mark.parametrize(
    "code",
    [
        'reply("Select a channel from the list, then update your settings.")',
        'log.info("Deleted from the feed: %s", x)',
        'TEXT = "Begin here. Commit to a schedule."',
        'hint = "Use time: 09:00 and days = weekdays"',
        'def f():\n    """Runs SELECT * FROM papers WHERE id = ? (documented, not executed)."""',
    ],
)
def test_the_sql_check_leaves_prose_and_docstrings_alone(code: str) -> None:
    assert sql_strings(code) == []


def test_the_store_does_hold_sql() -> None:
    assert sql_strings((SQL_HOME / "papers.py").read_text()) != []


def test_no_sql_outside_bot_store() -> None:
    offenders = sql_outside_the_store()
    assert offenders == [], "SQL outside bot/store/:\n" + "\n".join(offenders)
