"""Thirty readers pressing the last slot at once: one gets it; the rules hold under load."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import LivingBookFeedback, LivingBookSlot, Notification, Reader, utcnow
from bot.services.humanlibrary import booking
from bot.services.humanlibrary.errors import (
    AlreadyBookedError,
    AlreadyRatedError,
    NotOverError,
    NotYourSlotError,
    SlotOverError,
    SlotsFreeError,
    SlotTakenError,
)
from bot.services.humanlibrary.feedback import rate_conversation
from tests.factories import make_reader
from tests.humanlibrary.helpers import event_with_book


async def test_thirty_readers_book_the_last_slot_and_exactly_one_wins(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        _event, _book, slots = await event_with_book(session, minutes=30, hours=1)
        assert len(slots) == 2
        first = await make_reader(session)
        readers = [await make_reader(session) for _ in range(30)]
        await session.commit()
        await booking.take_slot(session, first, slots[0].id, now=utcnow())
    last = slots[1].id

    async def one(reader: Reader) -> str:
        async with sessionmaker() as session:
            try:
                await booking.take_slot(session, reader, last, now=utcnow())
            except SlotTakenError:
                return "taken"
            return "won"

    outcomes = await asyncio.gather(*(one(reader) for reader in readers))
    assert outcomes.count("won") == 1 and outcomes.count("taken") == 29
    async with sessionmaker() as session:
        holder = await session.scalar(
            select(LivingBookSlot.reader_id).where(LivingBookSlot.id == last)
        )
        winner = readers[outcomes.index("won")]
        assert holder == winner.id
        # Only the winner's booking scheduled notices (a reminder and a feedback prompt).
        keys = list(await session.scalars(select(Notification.dedup_key)))
        assert len([k for k in keys if k.startswith(f"hl:{last}:")]) == 2
        assert all(k.startswith((f"hl:{last}:{winner.id}:", f"hl:{slots[0].id}:")) for k in keys)


async def test_one_reader_pressing_two_slots_at_once_gets_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        _event, _book, slots = await event_with_book(session, minutes=20, hours=1)
        reader = await make_reader(session)
        await session.commit()

    async def one(slot_id: int) -> str:
        async with sessionmaker() as session:
            try:
                await booking.take_slot(session, reader, slot_id, now=utcnow())
            except AlreadyBookedError:
                return "refused"
            return "won"

    outcomes = await asyncio.gather(*(one(slot.id) for slot in slots))
    assert sorted(outcomes) == ["refused", "refused", "won"]
    async with sessionmaker() as session:
        held = list(
            await session.scalars(
                select(LivingBookSlot.id).where(LivingBookSlot.reader_id == reader.id)
            )
        )
        assert len(held) == 1


async def test_another_readers_slot_cannot_be_given_back(session: AsyncSession) -> None:
    _event, _book, slots = await event_with_book(session)
    owner, intruder = await make_reader(session), await make_reader(session)
    await session.commit()
    await booking.take_slot(session, owner, slots[0].id, now=utcnow())
    with pytest.raises(NotYourSlotError):
        await booking.cancel_slot(session, intruder, slots[0].id, now=utcnow())
    with pytest.raises(SlotTakenError):
        await booking.take_slot(session, intruder, slots[0].id, now=utcnow())
    await session.refresh(slots[0])
    assert slots[0].reader_id == owner.id


async def test_waitlist_gets_a_freed_slot_and_the_rating_comes_after(
    session: AsyncSession,
) -> None:
    person = await make_reader(session)
    _event, book, slots = await event_with_book(session, minutes=40, hours=0.75, person=person)
    assert len(slots) == 1
    first, second, third = [await make_reader(session) for _ in range(3)]
    await session.commit()
    now = utcnow()
    with pytest.raises(SlotsFreeError):
        await booking.join_waitlist(session, second, book.id, now=now)
    await booking.take_slot(session, first, slots[0].id, now=now)
    assert (await booking.join_waitlist(session, second, book.id, now=now)).rank == 1
    later = now + timedelta(seconds=1)
    assert (await booking.join_waitlist(session, third, book.id, now=later)).rank == 2
    given = await booking.cancel_slot(session, first, slots[0].id, now=later)
    assert given is not None and given.reader_id == second.id
    kinds = list(
        await session.scalars(select(Notification.kind).where(Notification.reader_id == second.id))
    )
    assert "humanlibrary.given" in kinds
    # The living book and the reader rate it once it is over, once each; nobody else can.
    with pytest.raises(NotOverError):
        await rate_conversation(session, second, slots[0].id, 5, now=later)
    after = slots[0].ends_at + timedelta(minutes=1)
    await rate_conversation(session, second, slots[0].id, 5, now=after)
    await rate_conversation(session, person, slots[0].id, 4, now=after)
    with pytest.raises(AlreadyRatedError):
        await rate_conversation(session, second, slots[0].id, 1, now=after)
    with pytest.raises(NotYourSlotError):
        await rate_conversation(session, third, slots[0].id, 3, now=after)
    ratings = sorted(await session.scalars(select(LivingBookFeedback.rating)))
    assert ratings == [4, 5]
    with pytest.raises(SlotOverError):
        await booking.take_slot(session, third, slots[0].id, now=after)
