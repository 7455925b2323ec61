"""Database engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.dml import Insert

from bot.sqlite_thread import ThreadDBAPI

logger = logging.getLogger(__name__)

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
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
        # One trip to the connection's thread per statement (see bot/sqlite_thread.py).
        kwargs["module"] = ThreadDBAPI()
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue it ourselves (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_S * 1000}")
    # Deleted rows are overwritten with zeros, so what a reader had erased is not left in
    # free pages of the file (see ``checkpoint``).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# The execution option that asks SQLite for the write lock at BEGIN (see ``write``).
WRITE_OPTION = "bookbridge_write"


def _sqlite_begin(connection: Connection) -> None:
    # Reads begin deferred: in WAL mode they see a snapshot and never wait for a writer.
    # A unit of work that writes takes the write lock at BEGIN, so two writers never both
    # read stale state and then collide ("database is locked" when a reader upgrades).
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


# Set in session.info once the current transaction has flushed or run a statement that is
# not a SELECT; cleared when the outermost transaction ends.
_WROTE = "bookbridge.wrote"
# Set on a session while a ``write`` unit of work is open, so that nested ones join it.
_WRITING = "bookbridge.writing"


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_WROTE, None)


def insert_new(session: AsyncSession, model: Any, keys: list[str] | None = None) -> Insert:
    """INSERT into ``model`` that leaves alone a row whose key (``keys``, else any unique
    constraint) is taken: ON CONFLICT DO NOTHING, on SQLite and on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=keys)
    return sqlite.insert(model).on_conflict_do_nothing(index_elements=keys)


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _only_read(session: AsyncSession) -> bool:
    """Whether the session's open transaction has read and nothing more (nothing pending)."""
    sync = session.sync_session
    return not (sync.info.get(_WROTE) or sync.new or sync.dirty or sync.deleted)


@asynccontextmanager
async def write(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A unit of work that writes: committed when the block ends, rolled back if it raises.

    On SQLite it holds the write lock from its BEGIN, so two writers never both read stale
    state and then collide: a transaction that had only read is committed first (what it
    loaded stays usable), so the block sees the latest data. On PostgreSQL (read committed)
    an open transaction goes on into the block. One that has already written is joined.
    Make changes, and lock rows (``with_for_update``), inside the block. A
    ``write`` inside another joins it: the outermost one commits. A block that raises
    before writing anything leaves loaded objects usable; one that wrote is rolled back
    (which expires them, as any rollback does).
    """
    if session.info.get(_WRITING):
        yield session
        return
    if session.in_transaction() and _only_read(session) and _is_sqlite(session):
        # A deferred SQLite read transaction cannot safely become a writer (its snapshot may
        # be stale by then): end it, and begin again with the write lock. PostgreSQL reads
        # committed data at every statement, so there the open transaction simply goes on.
        await session.commit()
    if not session.in_transaction():
        await session.connection(execution_options={WRITE_OPTION: True})
    session.info[_WRITING] = True
    try:
        yield session
    except Exception as exc:
        if _only_read(session) and not isinstance(exc, SQLAlchemyError):
            # Refused before writing (a rule said no): nothing to undo, and unlike a
            # rollback this keeps what the session loaded usable for the reply.
            await session.commit()
        else:
            await session.rollback()
        raise
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()
    finally:
        session.info.pop(_WRITING, None)


async def checkpoint(session: AsyncSession) -> bool:
    """On SQLite, copy the WAL into the database file and empty it; whether that completed.

    With ``secure_delete`` on, what was erased is then gone from both files. It waits (up to
    the busy timeout) for readers of older snapshots. It commits whatever is open first; on
    PostgreSQL it does nothing.
    """
    await session.commit()
    if session.get_bind().dialect.name != "sqlite":
        return True
    # The pragma must be the first statement of its transaction: SQLite refuses it once the
    # transaction has read.
    connection = await session.connection()
    result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    busy = result.scalar()
    await session.commit()
    if busy:
        logger.warning("WAL checkpoint: readers kept older pages; the WAL was not emptied")
    return not busy


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (handlers render after committing)."""
    return async_sessionmaker(engine, expire_on_commit=False)
