"""Reads run in plain transactions; a unit of work that writes says so with ``write()``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import write
from bot.models import District, Reader
from tests.factories import make_district, make_reader


async def _district(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        district = await make_district(session, name="旧名区")
        await session.commit()
        return district.id


async def _name(sessionmaker: async_sessionmaker[AsyncSession], district_id: int) -> str:
    async with sessionmaker() as session:
        name = await session.scalar(select(District.name).where(District.id == district_id))
        assert name is not None
        return name


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_reads_begin_deferred_and_only_writes_take_the_write_lock(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        with _statements(engine) as sent:
            await session.get(District, district_id)
        assert [s for s in sent if s.startswith("BEGIN")] == ["BEGIN"]
        with _statements(engine) as sent:
            async with write(session):
                await session.execute(
                    update(District).where(District.id == district_id).values(name="新名区")
                )
        assert [s for s in sent if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert await _name(sessionmaker, district_id) == "新名区"


async def test_an_open_read_does_not_keep_a_writer_waiting(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as reading, sessionmaker() as writing:
        await reading.get(District, district_id)
        assert reading.in_transaction()

        async def rename() -> None:
            async with write(writing):
                await writing.execute(
                    update(District).where(District.id == district_id).values(name="新名区")
                )

        # A read that held the write lock made this wait for SQLite's busy timeout (30 s).
        await asyncio.wait_for(rename(), timeout=5)
    assert await _name(sessionmaker, district_id) == "新名区"


async def test_a_write_after_a_read_sees_the_latest_data_and_keeps_what_was_loaded(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session, sessionmaker() as other:
        district = await session.get(District, district_id)
        assert district is not None
        async with write(other):
            await other.execute(
                update(District).where(District.id == district_id).values(name="别人改的")
            )
        async with write(session):
            # The read's snapshot is over: the block sees what the other session committed
            # (joining it on SQLite would fail with "database is locked" on the UPDATE).
            latest = await session.scalar(select(District.name).where(District.id == district_id))
            assert latest == "别人改的"
            await session.execute(
                update(District).where(District.id == district_id).values(name=latest + "·再改")
            )
        assert district.code  # loaded before the write, still usable
    assert await _name(sessionmaker, district_id) == "别人改的·再改"


async def test_nested_writes_join_the_outer_one_which_commits_or_rolls_back(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        async with write(session):
            async with write(session):
                district = await session.get(District, district_id)
                assert district is not None
                district.name = "内层"
            assert session.in_transaction()  # the inner block did not commit
        assert not session.in_transaction()
    assert await _name(sessionmaker, district_id) == "内层"

    async def fail_after_renaming(session: AsyncSession) -> None:
        async with write(session):
            async with write(session):
                await session.execute(
                    update(District).where(District.id == district_id).values(name="作废")
                )
            raise RuntimeError("the outer block fails")

    async with sessionmaker() as session:
        with pytest.raises(RuntimeError):
            await fail_after_renaming(session)
    assert await _name(sessionmaker, district_id) == "内层"


async def test_a_write_refused_before_writing_keeps_loaded_objects_usable(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def refuse(session: AsyncSession, reader_id: int) -> None:
        async with write(session):
            await session.scalar(select(Reader.id).where(Reader.id == reader_id))
            raise LookupError("no such library")

    async with sessionmaker() as session:
        reader = await make_reader(session, first_name="Lin")
        await session.commit()
        with pytest.raises(LookupError):
            await refuse(session, reader.id)
        # A rollback would have expired the reader, and reading it would need the database.
        assert reader.first_name == "Lin"


async def _fail(session: AsyncSession) -> None:
    async with write(session):
        raise RuntimeError("the unit of work fails")


async def test_work_flushed_before_a_write_is_joined_not_committed_early(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        added = await make_district(session, name="未提交区")  # added and flushed
        added_id = added.id
        await session.execute(
            update(District).where(District.id == district_id).values(name="未提交名")
        )
        with pytest.raises(RuntimeError):
            await _fail(session)
    async with sessionmaker() as session:
        assert await session.get(District, added_id) is None
    assert await _name(sessionmaker, district_id) == "旧名区"


async def test_sqlite_connections_keep_their_pragmas(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    names = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout", "secure_delete")
    values = {}
    async with engine.connect() as connection:
        for name in names:
            values[name] = (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
    assert values == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,  # NORMAL
        "busy_timeout": 30_000,
        "secure_delete": 1,
    }
