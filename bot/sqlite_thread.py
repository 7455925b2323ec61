"""SQLite for asyncio with one trip to a connection's own thread per statement.

SQLAlchemy's aiosqlite dialect drives an aiosqlite cursor in four awaited steps (open,
execute, fetch, close), and aiosqlite runs each on its connection's thread and wakes the
event loop after each. For the short statements a bot runs, those round trips cost more than
the SQL itself. Here each connection is a standard-library ``sqlite3`` connection that lives
on one worker thread of its own, and a statement is executed and
fully fetched in one call on that thread. SQLAlchemy sees it through its public asyncio
adapter classes, handed to the aiosqlite dialect as its DBAPI module (``create_engine``'s
documented ``module=`` argument): no third-party private name is used anywhere.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy.connectors.asyncio import (
    AsyncAdapt_dbapi_connection,
    AsyncAdapt_dbapi_cursor,
    AsyncAdapt_dbapi_module,
    AsyncAdapt_dbapi_ss_cursor,
)
from sqlalchemy.util.concurrency import await_

T = TypeVar("T")
_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None


class _Outcome:
    """What one statement left behind: the cursor's attributes and every row it returned."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description: _Description = cursor.description
        self.rows: list[Any] = cursor.fetchall() if cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _execute(connection: sqlite3.Connection, sql: str, parameters: Any) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        return _Outcome(cursor)
    finally:
        cursor.close()


def _execute_many(connection: sqlite3.Connection, sql: str, rows: list[Any]) -> _Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return _Outcome(cursor)
    finally:
        cursor.close()


class ThreadCursor:
    """An asyncio cursor whose statements run, and are fetched, in one trip to the thread."""

    arraysize = 1

    def __init__(self, connection: ThreadConnection) -> None:
        self.connection = connection
        self.outcome: _Outcome | None = None
        self.position = 0

    async def __aenter__(self) -> ThreadCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> ThreadCursor:
        self.outcome = await self.connection.run(partial(_execute, sql=sql, parameters=parameters))
        self.position = 0
        return self

    async def executemany(self, sql: str, rows: Iterable[Any]) -> ThreadCursor:
        self.outcome = await self.connection.run(partial(_execute_many, sql=sql, rows=list(rows)))
        self.position = 0
        return self

    def take(self, count: int | None) -> list[Any]:
        """The next ``count`` fetched rows (all that are left for None)."""
        if self.outcome is None:
            return []
        rows = self.outcome.rows
        end = len(rows) if count is None else min(len(rows), self.position + count)
        taken = rows[self.position : end]
        self.position = end
        return taken

    async def fetchone(self) -> Any:
        taken = self.take(1)
        return taken[0] if taken else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self.take(size or self.arraysize)

    async def fetchall(self) -> list[Any]:
        return self.take(None)

    async def close(self) -> None:
        # The sqlite3 cursor is closed on the thread already; like it, keep rowcount and
        # lastrowid readable (SQLAlchemy reads them after closing), but let the rows go.
        if self.outcome is not None:
            self.outcome.rows = []
        self.position = 0

    @property
    def description(self) -> _Description:
        return self.outcome.description if self.outcome is not None else None

    @property
    def rowcount(self) -> int:
        return self.outcome.rowcount if self.outcome is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self.outcome.lastrowid if self.outcome is not None else None


class _Worker(threading.Thread):
    """The thread one connection lives on: runs the calls queued for it, one at a time, and
    wakes the event loop with each outcome."""

    def __init__(self) -> None:
        super().__init__(name="sqlite", daemon=True)  # an unclosed connection never holds up exit
        self.calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()

    def run(self) -> None:
        while (call := self.calls.get()) is not None:
            loop, future, function = call
            try:
                result = function()
            except BaseException as exc:
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)


_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class ThreadConnection:
    """A ``sqlite3`` connection that lives on one worker thread of its own."""

    def __init__(self, worker: _Worker, connection: sqlite3.Connection) -> None:
        self.worker = worker
        self.connection: sqlite3.Connection | None = connection
        self.isolation_level: str | None = connection.isolation_level
        # Whether SQLite has a transaction open, as of the end of the last trip.
        self.in_transaction = False

    @staticmethod
    async def _on(worker: _Worker, function: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        worker.calls.put((loop, future, function))
        return await future

    @classmethod
    async def open(cls, database: str, **kwargs: Any) -> ThreadConnection:
        """Open ``database`` on a new thread; the thread ends when the connection closes."""
        worker = _Worker()
        worker.start()
        # pysqlite's own transaction handling is off: SQLAlchemy's events issue BEGIN.
        kwargs.setdefault("isolation_level", None)
        try:
            connection = await cls._on(worker, partial(sqlite3.connect, database, **kwargs))
        except BaseException:
            worker.calls.put(None)
            raise
        return cls(worker, connection)

    async def run(self, function: Callable[[sqlite3.Connection], T]) -> T:
        """Call ``function(connection)`` on the connection's thread."""
        connection = self.connection
        if connection is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return await self._on(self.worker, partial(self.call, function, connection))

    def call(
        self, function: Callable[[sqlite3.Connection], T], connection: sqlite3.Connection
    ) -> T:
        """(On the thread.) Call ``function`` and note whether a transaction is left open."""
        try:
            return function(connection)
        finally:
            self.in_transaction = connection.in_transaction

    def cursor(self) -> ThreadCursor:
        return ThreadCursor(self)

    async def set_isolation_level(self, value: str | None) -> None:
        def assign(connection: sqlite3.Connection) -> None:
            connection.isolation_level = cast(Any, value)

        await self.run(assign)
        self.isolation_level = value

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        await self.run(lambda connection: connection.create_function(*args, **kwargs))

    # Without an open transaction both are no-ops in SQLite: skip the trip (the pool rolls
    # back every connection it takes back, most of them just committed).
    async def commit(self) -> None:
        if self.connection is not None and self.in_transaction:
            await self.run(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        if self.connection is not None and self.in_transaction:
            await self.run(sqlite3.Connection.rollback)

    async def close(self) -> None:
        if self.connection is None:
            return
        self.in_transaction = False
        try:
            await self._on(self.worker, self.connection.close)
        finally:
            self.connection = None
            self.worker.calls.put(None)


class AdaptedCursor(AsyncAdapt_dbapi_cursor):
    """SQLAlchemy's synchronous face of a ``ThreadCursor``."""

    __slots__ = ()


class AdaptedStreamingCursor(AsyncAdapt_dbapi_ss_cursor):
    """The same for ``stream()`` (the rows are fetched at once all the same)."""

    __slots__ = ()


class AdaptedConnection(AsyncAdapt_dbapi_connection):
    """SQLAlchemy's synchronous face of a ``ThreadConnection``."""

    __slots__ = ("driver",)
    _cursor_cls = AdaptedCursor
    _ss_cursor_cls = AdaptedStreamingCursor

    def __init__(self, dbapi: Any, connection: ThreadConnection) -> None:
        # ThreadConnection has the members of SQLAlchemy's asyncio DBAPI protocol it uses.
        super().__init__(dbapi, cast(Any, connection))
        self.driver = connection

    @property
    def isolation_level(self) -> str | None:
        return self.driver.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        await_(self.driver.set_isolation_level(value))

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        await_(self.driver.create_function(*args, **kwargs))


class ThreadDBAPI(AsyncAdapt_dbapi_module):
    """The DBAPI module the aiosqlite dialect is given: ``sqlite3``'s names and errors, with
    connections from ``ThreadConnection``."""

    has_stop = False  # no forced termination: closing a connection ends its thread

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        self.sqlite = sqlite3
        self.paramstyle = "qmark"
        for name in (
            "DatabaseError",
            "Error",
            "IntegrityError",
            "InterfaceError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "sqlite_version",
            "sqlite_version_info",
            "PARSE_COLNAMES",
            "PARSE_DECLTYPES",
            "Binary",
        ):
            setattr(self, name, getattr(sqlite3, name))

    def connect(self, database: str, **kwargs: Any) -> AdaptedConnection:
        return AdaptedConnection(self, await_(ThreadConnection.open(database, **kwargs)))
