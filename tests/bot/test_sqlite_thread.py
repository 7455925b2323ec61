"""The SQLite connection on its own thread: rows, errors, one trip per statement, no leaks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.db import create_engine, create_sessionmaker, write
from bot.sqlite_thread import ThreadConnection


def _sqlite_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("sqlite"))


def _wait_for_closed_connections() -> None:
    """Let threads of connections closed earlier finish (they end right after the close)."""
    for thread in threading.enumerate():
        if thread.name.startswith("sqlite"):
            thread.join(timeout=5)


async def test_statements_return_rows_counts_and_ids(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session, write(session):
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            connection = await session.connection()
            inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
            assert inserted.lastrowid == 1
            await session.execute(
                text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
            )
            updated = await connection.execute(text("UPDATE t SET name = name || '!'"))
            assert updated.rowcount == 3
        async with maker() as session:
            rows = (await session.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(row) for row in rows] == [(1, "a!"), (2, "b!"), (3, "c!")]
            streamed = await session.stream(text("SELECT name FROM t ORDER BY id"))
            assert [row[0] async for row in streamed] == ["a!", "b!", "c!"]
    finally:
        await engine.dispose()


async def test_errors_are_sqlalchemys_and_roll_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session, write(session):
            await session.execute(text("CREATE TABLE t (name TEXT UNIQUE)"))
            await session.execute(text("INSERT INTO t VALUES ('a')"))
        async with maker() as session:

            async def duplicate() -> None:
                async with write(session):
                    await session.execute(text("INSERT INTO t VALUES ('b')"))
                    await session.execute(text("INSERT INTO t VALUES ('a')"))

            with pytest.raises(IntegrityError):
                await duplicate()
            with pytest.raises(OperationalError):
                await session.execute(text("SELECT * FROM no_such_table"))
            await session.rollback()
            names = (await session.execute(text("SELECT name FROM t"))).scalars().all()
            assert names == ["a"]  # the failed unit of work left nothing behind
    finally:
        await engine.dispose()


async def test_one_trip_to_the_thread_per_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = 0
    original = ThreadConnection.run

    async def counted(self: ThreadConnection, function: object) -> object:
        nonlocal trips
        trips += 1
        return await original(self, function)  # type: ignore[arg-type]

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session:
            await session.execute(text("SELECT 1"))  # connect, pragmas, functions
            await session.commit()
        monkeypatch.setattr(ThreadConnection, "run", counted)
        async with maker() as session:
            for _ in range(10):
                assert (await session.execute(text("SELECT 1, 2"))).all() == [(1, 2)]
            await session.commit()
        # BEGIN, ten statements (each executed and fetched at once), COMMIT.
        assert trips == 12
    finally:
        await engine.dispose()


async def test_closing_connections_ends_their_threads(tmp_path: Path) -> None:
    _wait_for_closed_connections()
    before = _sqlite_threads()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    maker = create_sessionmaker(engine)
    async with maker() as first, maker() as second:
        await first.execute(text("SELECT 1"))
        await second.execute(text("SELECT 1"))
        assert _sqlite_threads() == before + 2
    await engine.dispose()
    _wait_for_closed_connections()
    assert _sqlite_threads() == before


async def test_a_closed_connection_refuses_statements(tmp_path: Path) -> None:
    connection = await ThreadConnection.open(str(tmp_path / "db.sqlite"))
    await connection.close()
    await connection.close()  # closing twice is harmless
    with pytest.raises(Exception, match="closed"):
        await connection.cursor().execute("SELECT 1")
