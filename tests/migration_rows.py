"""Rows written straight into a migrated SQLite database, for tests of migrations on data."""

from __future__ import annotations

import sqlite3
from typing import Any


def insert_row(connection: sqlite3.Connection, table: str, **values: Any) -> None:
    """A row with the given values, and placeholders for the other required columns."""
    for _cid, name, kind, required, default, key in connection.execute(
        f"PRAGMA table_info({table})"
    ):
        if required and not key and default is None and name not in values:
            kind = (kind or "").upper()
            numeric = any(word in kind for word in ("INT", "BOOL", "FLOAT"))
            values[name] = 0 if numeric else "[]" if "JSON" in kind else "2026-01-01"
    marks = ",".join("?" * len(values))
    connection.execute(
        f"INSERT INTO {table} ({','.join(values)}) VALUES ({marks})", [*values.values()]
    )
