"""No module imports a private name (``_x``) from a package that is not the project's own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "handlers", "search", "jobs", "sandbox", "migrations", "bench")
PROJECT = frozenset({*SCANNED, "tests"})


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str) -> list[str]:
    """``module:name`` for every private name or module imported from outside the project."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] not in PROJECT and any(_private(part) for part in parts):
                    found.append(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] in PROJECT:
                continue
            if any(_private(part) for part in parts):
                found.append(node.module)
            found += [f"{node.module}:{a.name}" for a in node.names if _private(a.name)]
    return found


def test_the_scan_catches_private_imports_and_nothing_else() -> None:
    source = "\n".join(
        [
            "from __future__ import annotations",
            "import sqlalchemy.orm._typing",
            "from aiosqlite.core import _connect, Connection",
            "from aiogram.client._private import thing",
            "from bot.db import _only_read",
            "from . import _sibling",
            "import os.path",
            "from limits.aio.storage import MemoryStorage",
        ]
    )
    assert private_imports(source) == [
        "sqlalchemy.orm._typing",
        "aiosqlite.core:_connect",
        "aiogram.client._private",
    ]


@pytest.mark.parametrize("package", SCANNED)
def test_no_module_imports_a_third_party_private_name(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in private_imports(path.read_text(encoding="utf-8"))
    ]
    assert found == []
