"""Fifty readers race for one copy: one gets it, the rest queue in arrival order."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import ACTIVE_HOLD_STATUSES, Hold, HoldStatus, Item, ItemStatus, utcnow
from bot.services.holds import placing, reader_actions

from .conftest import Alliance, holds_of, readers


async def test_fifty_readers_one_copy(
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    alliance: Alliance,
    settings: Settings,
) -> None:
    racers = await readers(session, 50)

    async def reserve(reader_id: int) -> placing.Placement:
        async with sessionmaker() as own:
            reader = await own.get_one(type(racers[0]), reader_id)
            return await placing.place_hold(
                own, reader, alliance.work.id, alliance.city.id, settings=settings
            )

    placements = await asyncio.gather(*(reserve(r.id) for r in racers))
    winners = [p for p in placements if p.hold.status is not HoldStatus.QUEUED]
    assert len(winners) == 1
    assert winners[0].hold.status is HoldStatus.IN_TRANSIT
    queued = [p for p in placements if p.hold.status is HoldStatus.QUEUED]
    assert sorted(p.position or 0 for p in queued) == list(range(1, 50))

    stored = await holds_of(sessionmaker, alliance.work.id)
    line = [h for h in stored if h.status is HoldStatus.QUEUED]
    # The place each reader was told at arrival is their place in the stored queue.
    told = {p.hold.id: p.position for p in queued}
    assert [told[h.id] for h in line] == list(range(1, 50))
    assert [h.id for h in stored if h.item_id is not None] == [winners[0].hold.id]

    # The copy is passed down the queue strictly in that order.
    async with sessionmaker() as own:
        item = await own.scalar(select(Item).where(Item.work_id == alliance.work.id))
        assert item is not None and item.status is ItemStatus.IN_TRANSIT
    order = []
    for _ in range(3):
        async with sessionmaker() as own:
            holder = await own.scalar(
                select(Hold).where(Hold.item_id == item.id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
            )
            assert holder is not None
            reader = await own.get_one(type(racers[0]), holder.reader_id)
            nxt = await reader_actions.pass_on(own, reader, holder.id, settings=settings)
            assert nxt is not None
            order.append(nxt.id)
    assert order == [h.id for h in line[:3]]


async def test_database_refuses_a_copy_on_two_active_holds(
    session: AsyncSession, alliance: Alliance
) -> None:
    first, second = await readers(session, 2)
    item = await session.scalar(select(Item).where(Item.work_id == alliance.work.id))
    assert item is not None
    now = utcnow()
    session.add(
        Hold(
            reader_id=first.id,
            work_id=alliance.work.id,
            pickup_library_id=alliance.city.id,
            item_id=item.id,
            status=HoldStatus.IN_TRANSIT,
            queued_at=now,
        )
    )
    await session.commit()
    session.add(
        Hold(
            reader_id=second.id,
            work_id=alliance.work.id,
            pickup_library_id=alliance.city.id,
            item_id=item.id,
            status=HoldStatus.READY,
            queued_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()
