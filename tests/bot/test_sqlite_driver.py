"""The SQLite driver: one trip to aiosqlite's thread per statement, SQLAlchemy none the wiser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_engine
from bot.sqlite_driver import OneTripConnection


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE shelf (id INTEGER PRIMARY KEY, title TEXT UNIQUE NOT NULL)")
        )
    yield engine
    await engine.dispose()


async def test_file_databases_use_the_one_trip_connection(sqlite: AsyncEngine) -> None:
    async with sqlite.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)


async def test_a_select_is_one_trip_and_its_rows_all_arrive(
    sqlite: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles = [f"第{number}卷" for number in range(1, 151)]
    async with sqlite.begin() as connection:
        inserted = await connection.execute(
            text("INSERT INTO shelf (title) VALUES (:title)"), [{"title": t} for t in titles]
        )
        assert inserted.rowcount == 150
    trips: list[str] = []
    run = OneTripConnection.run

    async def counted(self: OneTripConnection, function: object) -> object:
        trips.append("trip")
        return await run(self, function)  # type: ignore[arg-type]

    async with sqlite.connect() as connection:
        await connection.execute(text("SELECT 1"))  # BEGIN, outside the count
        monkeypatch.setattr(OneTripConnection, "run", counted)
        result = await connection.execute(text("SELECT id, title FROM shelf ORDER BY id"))
        assert len(trips) == 1
        first = result.fetchmany(2)
        rest = result.fetchall()
    assert [row.title for row in first] == ["第1卷", "第2卷"]
    assert [row.title for row in [*first, *rest]] == titles
    assert rest[-1].id == 150


async def test_writes_report_their_rows_and_new_ids(sqlite: AsyncEngine) -> None:
    async with sqlite.begin() as connection:
        result = await connection.execute(
            text("INSERT INTO shelf (title) VALUES ('论语') RETURNING id")
        )
        new_id = result.scalar_one()
        plain = await connection.execute(text("INSERT INTO shelf (title) VALUES ('诗经')"))
        assert plain.lastrowid == new_id + 1
        changed = await connection.execute(
            text("UPDATE shelf SET title = title || '·注' WHERE id >= :first"), {"first": new_id}
        )
        assert changed.rowcount == 2
    async with sqlite.connect() as connection:
        rows = (await connection.execute(text("SELECT title FROM shelf ORDER BY id"))).all()
    assert [row.title for row in rows] == ["论语·注", "诗经·注"]


async def test_a_failed_statement_raises_the_usual_error_and_loses_nothing(
    sqlite: AsyncEngine,
) -> None:
    async with sqlite.begin() as connection:
        await connection.execute(text("INSERT INTO shelf (title) VALUES ('史记')"))

    async def shelve_twice() -> None:
        async with sqlite.begin() as connection:
            await connection.execute(text("INSERT INTO shelf (title) VALUES ('红楼梦')"))
            await connection.execute(text("INSERT INTO shelf (title) VALUES ('史记')"))

    with pytest.raises(IntegrityError):
        await shelve_twice()
    async with sqlite.connect() as connection:
        rows = (await connection.execute(text("SELECT title FROM shelf"))).scalars().all()
        assert rows == ["史记"]
        missing = await connection.execute(text("SELECT title FROM shelf WHERE id = -1"))
        assert missing.first() is None
