"""Imports go one way: handlers → services → models; the search package stands alone."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Package folder → top-level modules (or module prefixes) it must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # Handlers speak to services; queries belong there (AsyncSession for typing is fine).
    "handlers": ("sqlalchemy",),
    # Services are framework-free: no Telegram, no handlers, no jobs; they say what happened
    # (bot.notices.intents) and never how a notice reads.
    "bot/services": ("aiogram", "handlers", "jobs", "bot.notices"),
    # The index knows nothing of the bot or the database.
    "search": ("bot", "handlers", "jobs", "aiogram", "sqlalchemy"),
    "jobs": ("handlers",),
}
ALLOWED = ("sqlalchemy.ext.asyncio", "bot.notices.intents")


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _breaks(module: str, forbidden: tuple[str, ...]) -> bool:
    if module in ALLOWED:
        return False
    return any(module == name or module.startswith(name + ".") for name in forbidden)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_goes_the_wrong_way(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in _imports(path)
        if _breaks(module, FORBIDDEN[package])
    ]
    assert wrong == []


def test_the_check_catches_a_query_in_a_handler() -> None:
    assert _breaks("sqlalchemy", FORBIDDEN["handlers"])
    assert _breaks("sqlalchemy.orm", FORBIDDEN["handlers"])
    assert not _breaks("sqlalchemy.ext.asyncio", FORBIDDEN["handlers"])
    assert _breaks("aiogram.types", FORBIDDEN["bot/services"])
