"""Transactions that only read end before the bot talks to Telegram; ones that wrote never do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import end_read_only_transaction, only_read
from bot.models import District, HoldStatus, Reader
from tests.conftest import HarnessFactory
from tests.factories import make_district, make_reader
from tests.harness import BotHarness
from tests.holds.chat import alliance_in, chat_reader, holds_of, reserve_at


async def _district(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        district = await make_district(session)
        await session.commit()
        return district.id


async def test_a_transaction_that_only_read_is_ended(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        district = await session.get(District, district_id)
        assert district is not None
        assert only_read(session)
        assert await end_read_only_transaction(session)
        assert not session.in_transaction()
        # What was loaded stays usable after the commit.
        assert district.code


async def test_a_transaction_that_wrote_is_left_for_its_handler(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        await session.execute(
            update(District).where(District.id == district_id).values(name="改名区")
        )
        assert not only_read(session)
        assert not await end_read_only_transaction(session)
        assert session.in_transaction()
        await session.rollback()
        # The next transaction starts clean.
        await session.get(District, district_id)
        assert only_read(session)
    async with sessionmaker() as session:
        stored = await session.get(District, district_id)
        assert stored is not None and stored.name != "改名区"


async def test_flushed_pending_and_locking_work_all_count_as_writing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        reader = await make_reader(session)  # added and flushed
        assert not only_read(session)
        await session.commit()
        reader_id = reader.id
        reader.first_name = "Changed"  # pending, not flushed
        await session.get(District, district_id)
        assert not only_read(session)
        await session.rollback()
    async with sessionmaker() as session:
        await session.scalar(select(Reader).where(Reader.id == reader_id).with_for_update())
        assert not only_read(session)


async def test_a_released_savepoint_keeps_the_outer_write(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    district_id = await _district(sessionmaker)
    async with sessionmaker() as session:
        await session.execute(
            update(District).where(District.id == district_id).values(name="外层")
        )
        async with session.begin_nested():
            await session.get(District, district_id)
        assert not only_read(session)
        await session.commit()


def _watch_connections(harness: BotHarness, engine: AsyncEngine) -> list[tuple[str, int]]:
    """(Bot API method, pooled connections in use) for every call the bot makes."""
    seen: list[tuple[str, int]] = []
    original = harness.sandbox.call

    async def call(method_name: str, params: Mapping[str, Any], *args: Any, **kw: Any) -> Any:
        seen.append((method_name, engine.sync_engine.pool.checkedout()))  # type: ignore[attr-defined]
        return await original(method_name, params, *args, **kw)

    harness.sandbox.call = call  # type: ignore[method-assign]
    return seen


async def test_no_connection_is_held_while_the_bot_talks_to_telegram(
    harness_factory: HarnessFactory, engine: AsyncEngine
) -> None:
    harness = await harness_factory()
    alliance = await alliance_in(harness)
    seen = _watch_connections(harness, engine)
    reader = await chat_reader(harness, 7101)
    text = await reserve_at(reader, alliance.work.id, "Campus")
    assert "Campus Library" in text
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.READY
    methods = {name for name, _ in seen}
    assert {"sendMessage", "answerCallbackQuery"} <= methods
    assert [(name, used) for name, used in seen if used] == []
