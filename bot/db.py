"""Database engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.pool import NullPool

from bot.sqlite_driver import OneTripConnection, connector

# How long SQLite waits for another process's write lock before giving up.
SQLITE_TIMEOUT_S = 30


def is_sqlite(url: str) -> bool:
    """Whether the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


class _NoStatementData(logging.Filter):
    """Drops driver and row records: they carry what readers typed (queries, names)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_STATEMENT_DATA_FILTER = _NoStatementData()
# aiosqlite logs every call with its arguments; SQLAlchemy logs result rows at DEBUG.
_STATEMENT_LOGGERS = ("aiosqlite", "sqlalchemy.engine.Engine")


def _keep_statement_data_out_of_logs() -> None:
    for name in _STATEMENT_LOGGERS:
        logger = logging.getLogger(name)
        if _STATEMENT_DATA_FILTER not in logger.filters:
            logger.addFilter(_STATEMENT_DATA_FILTER)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    null_pool: bool = False,
    single_connection: bool = False,
    pool_size: int | None = None,
) -> AsyncEngine:
    """An engine with the pragmas and pool settings Bookbridge relies on.

    ``single_connection`` (SQLite): sessions queue for one connection, fairly and without
    SQLite's busy-wait sleeps, instead of many connections waiting for the write lock.
    ``pool_size`` (PostgreSQL): that many connections, and waiting for one never times out.
    """
    _keep_statement_data_out_of_logs()
    parsed = make_url(url)
    # Bound parameters are readers' text: keep them out of statement logs and error messages.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if null_pool:
        kwargs["poolclass"] = NullPool
    elif single_connection and parsed.get_backend_name() == "sqlite":
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=600)
    elif pool_size is not None:
        kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=600)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        on_disk = bool(database) and database != ":memory:"
        if database and on_disk:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if database and on_disk and not parsed.query:
            # Plain file URLs (all Bookbridge writes): one thread trip per statement.
            kwargs["async_creator"] = partial(_one_trip_connection, database)
        else:
            kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


async def _one_trip_connection(database: str) -> OneTripConnection:
    connection = connector(database, timeout=SQLITE_TIMEOUT_S)
    await connection
    return connection


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue it ourselves (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # A write lock at BEGIN: two writers never both read stale state and then collide,
    # which is what makes "two readers race for the last copy" safe on SQLite.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class TrackedSession(Session):
    """A Session that knows whether its current transaction has written (or locked) anything."""


_WROTE = "bookbridge.wrote"


@event.listens_for(TrackedSession, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(TrackedSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    # Anything but a plain SELECT counts: DML, text(), and SELECT ... FOR UPDATE (a row lock).
    locking = getattr(state.statement, "_for_update_arg", None) is not None
    if not state.is_select or locking:
        state.session.info[_WROTE] = True


@event.listens_for(TrackedSession, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_WROTE, None)


def only_read(session: AsyncSession) -> bool:
    """Whether the session is in a transaction that has only read: nothing written or pending."""
    sync = session.sync_session
    return (
        sync.in_transaction()
        and not sync.info.get(_WROTE)
        and not (sync.new or sync.dirty or sync.deleted)
    )


async def end_read_only_transaction(session: AsyncSession) -> bool:
    """Commit a transaction that has only read, returning its connection to the pool.

    On SQLite every transaction holds the write lock from BEGIN, so a reply sent to Telegram
    while a transaction that only read is still open would keep every other update waiting.
    Loaded objects stay usable (sessions do not expire them on commit).
    """
    if not only_read(session):
        return False
    await session.commit()
    return True


# Set on a session while a ``write`` unit of work is open, so that nested ones join it.
_WRITING = "bookbridge.writing"
# The execution option that asks SQLite for the write lock at BEGIN.
WRITE_OPTION = "bookbridge_write"


@asynccontextmanager
async def write(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A unit of work that writes: committed when the block ends, rolled back if it raises.

    On SQLite it holds the write lock from its BEGIN, so two writers never both read stale
    state and then collide; a transaction that had only read is committed first. A ``write``
    inside another joins it: the outermost one commits.
    """
    if session.info.get(_WRITING):
        yield session
        return
    if session.in_transaction() and only_read(session):
        await session.commit()
    if not session.in_transaction():
        await session.connection(execution_options={WRITE_OPTION: True})
    session.info[_WRITING] = True
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()
    finally:
        session.info.pop(_WRITING, None)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (handlers render after committing)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)
