"""aiosqlite with one trip to its thread per statement, for SQLAlchemy's aiosqlite dialect.

SQLAlchemy drives an aiosqlite cursor in four awaited steps (open, execute, fetch, close),
and aiosqlite runs each on its connection's thread and wakes the event loop for each. For the
short statements a bot runs, those round trips cost several times the SQL itself. The cursor
here does the four steps in one call on that thread and hands SQLAlchemy the rows it fetched.
Everything else (the thread, the queue, commit, rollback, close) is aiosqlite's own; this
leans on its ``_execute`` and ``_thread``, which is why aiosqlite is pinned to one minor
version, and ``tests/bot/test_sqlite_driver.py`` says when an upgrade breaks it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


class _Outcome:
    """What one statement left behind: the cursor's attributes, and every row it returned."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, *, fetch: bool) -> None:
        self.description: _Description = cursor.description
        self.rows: list[Any] = cursor.fetchall() if fetch and cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, *, many: bool) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        return _Outcome(cursor, fetch=not many)
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses, each statement one trip to the thread."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._outcome: _Outcome | None = None
        self._position = 0

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> OneTripCursor:
        statement = partial(_run, sql=sql, parameters=parameters, many=False)
        self._outcome = await self._connection.run(statement)
        self._position = 0
        return self

    async def executemany(self, sql: str, rows: Iterable[Any]) -> OneTripCursor:
        statement = partial(_run, sql=sql, parameters=list(rows), many=True)
        self._outcome = await self._connection.run(statement)
        self._position = 0
        return self

    def _take(self, count: int | None) -> list[Any]:
        if self._outcome is None:
            return []
        rows = self._outcome.rows
        end = len(rows) if count is None else min(len(rows), self._position + count)
        taken = rows[self._position : end]
        self._position = end
        return taken

    async def fetchone(self) -> Any:
        taken = self._take(1)
        return taken[0] if taken else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._take(size or self.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._take(None)

    async def close(self) -> None:
        # The sqlite3 cursor closed on the thread already; like it, keep rowcount and
        # lastrowid readable (SQLAlchemy reads them after closing), but let the rows go.
        if self._outcome is not None:
            self._outcome.rows = []
        self._position = 0

    @property
    def description(self) -> _Description:
        return self._outcome.description if self._outcome is not None else None

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount if self._outcome is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._outcome.lastrowid if self._outcome is not None else None


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one trip to its thread per statement."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def run(self, function: partial[_Outcome]) -> _Outcome:
        """Call ``function(sqlite3_connection)`` on the connection's thread."""
        outcome: _Outcome = await self._execute(  # type: ignore[no-untyped-call]
            lambda: function(self._conn)
        )
        return outcome


def connector(database: str, **kwargs: Any) -> OneTripConnection:
    """A connection to open with ``await`` (as ``aiosqlite.connect`` returns one)."""
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._thread.daemon = True  # as SQLAlchemy's dialect does: never hold up exit
    return connection
