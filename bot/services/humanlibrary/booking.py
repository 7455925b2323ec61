"""Booking a conversation slot, giving it back (to the waitlist), waiting for a living book."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Event, EventStatus, LivingBook, LivingBookSlot, LivingBookWait, Reader
from bot.notices.intents import Names, Notice
from bot.services import outbox
from bot.services.events.records import still_published
from bot.services.humanlibrary.errors import (
    AlreadyBookedError,
    AlreadyWaitingError,
    NotYourSlotError,
    SlotOverError,
    SlotsFreeError,
    SlotTakenError,
)
from bot.services.humanlibrary.notices import (
    ConversationBooked,
    ConversationCancelled,
    LivingBookCalledOff,
    SlotGiven,
    booking_notices,
    shown,
    slot_calendar,
    slot_key,
)
from bot.services.humanlibrary.shelves import book_card, loaded_slot
from bot.services.outbox import Priority


def _changed(result: object) -> int:
    """Rows an UPDATE or DELETE changed."""
    return int(getattr(result, "rowcount", 0) or 0)


def _person_told(
    slot: LivingBookSlot, reader: Reader, now: datetime, *, cancelled: bool
) -> list[Notice]:
    person_id = slot.book.person_id
    if person_id is None:
        return []
    what = "cancelled" if cancelled else "booked"
    return [
        Notice(
            reader_id=person_id,
            data=ConversationBooked(
                slot=shown(slot), reader_name=reader.first_name or "—", cancelled=cancelled
            ),
            # Not under the booking's prefix: a give-back does not skip what the person is told.
            dedup_key=f"hl-person:{slot.id}:{reader.id}:{what}:{int(now.timestamp() * 1000)}",
        )
    ]


async def take_slot(
    session: AsyncSession, reader: Reader, slot_id: int, *, now: datetime
) -> LivingBookSlot:
    """Book the slot for the reader: exactly one of many readers pressing at once gets it."""
    slot = await loaded_slot(session, slot_id)
    if slot.starts_at <= now or slot.book.event.status is not EventStatus.PUBLISHED:
        raise SlotOverError("over")
    if slot.reader_id == reader.id:
        raise AlreadyBookedError("this slot")
    if slot.reader_id is not None:
        raise SlotTakenError("taken")
    held = await session.scalar(
        select(LivingBookSlot.id).where(
            LivingBookSlot.book_id == slot.book_id, LivingBookSlot.reader_id == reader.id
        )
    )
    if held is not None:
        raise AlreadyBookedError("another slot")
    try:
        async with write(session):
            if not await still_published(session, slot.book.event_id):
                raise SlotOverError("cancelled")
            # One reader per slot: only the first conditional update finds it free.
            taken = await session.execute(
                update(LivingBookSlot)
                .where(LivingBookSlot.id == slot.id, LivingBookSlot.reader_id.is_(None))
                .values(reader_id=reader.id, booked_at=now)
                .execution_options(synchronize_session=False)
            )
            if _changed(taken) != 1:
                raise SlotTakenError("taken")
            await session.execute(
                delete(LivingBookWait).where(
                    LivingBookWait.book_id == slot.book_id, LivingBookWait.reader_id == reader.id
                )
            )
            slot.reader_id, slot.booked_at = reader.id, now
            await outbox.enqueue_notices(
                session,
                [
                    *booking_notices(slot, reader.id, now),
                    *_person_told(slot, reader, now, cancelled=False),
                ],
                now=now,
            )
    except IntegrityError as error:
        # The unique (book, reader): they hold another slot of this living book.
        raise AlreadyBookedError("another slot") from error
    return slot


async def cancel_slot(
    session: AsyncSession, reader: Reader, slot_id: int, *, now: datetime
) -> LivingBookSlot | None:
    """Give the reader's slot back; it goes to the first reader waiting (returned), if any."""
    slot = await loaded_slot(session, slot_id)
    if slot.reader_id != reader.id:
        raise NotYourSlotError("not yours")
    if slot.starts_at <= now:
        raise SlotOverError("started")
    async with write(session):
        if not await still_published(session, slot.book.event_id):
            # The event's cancellation gave every booking back already.
            raise NotYourSlotError("cancelled")
        freed = await session.execute(
            update(LivingBookSlot)
            .where(LivingBookSlot.id == slot.id, LivingBookSlot.reader_id == reader.id)
            .values(reader_id=None, booked_at=None)
            .execution_options(synchronize_session=False)
        )
        if _changed(freed) != 1:
            raise NotYourSlotError("not yours")
        await outbox.skip_pending(session, slot_key(slot.id, reader.id), "booking cancelled")
        notices = _person_told(slot, reader, now, cancelled=True)
        given = await _give_to_waitlist(session, slot, now, notices)
        await outbox.enqueue_notices(session, notices, now=now)
    return given


async def _give_to_waitlist(
    session: AsyncSession, slot: LivingBookSlot, now: datetime, notices: list[Notice]
) -> LivingBookSlot | None:
    wait = await session.scalar(
        select(LivingBookWait)
        .where(LivingBookWait.book_id == slot.book_id)
        .order_by(LivingBookWait.created_at, LivingBookWait.id)
        .limit(1)
    )
    if wait is None:
        return None
    waiting = await session.get(Reader, wait.reader_id)
    await session.delete(wait)
    await session.execute(
        update(LivingBookSlot)
        .where(LivingBookSlot.id == slot.id, LivingBookSlot.reader_id.is_(None))
        .values(reader_id=wait.reader_id, booked_at=now)
        .execution_options(synchronize_session=False)
    )
    slot.reader_id, slot.booked_at = wait.reader_id, now
    notices.append(
        Notice(
            reader_id=wait.reader_id,
            data=SlotGiven(slot=shown(slot), calendar=slot_calendar(slot)),
            dedup_key=f"{slot_key(slot.id, wait.reader_id)}given:{int(now.timestamp() * 1000)}",
        )
    )
    notices.extend(booking_notices(slot, wait.reader_id, now))
    if waiting is not None:
        notices.extend(_person_told(slot, waiting, now, cancelled=False))
    return slot


@dataclass(frozen=True)
class Waiting:
    """The reader's place on a living book's waitlist, from 1."""

    rank: int


async def join_waitlist(
    session: AsyncSession, reader: Reader, book_id: int, *, now: datetime
) -> Waiting:
    """Wait for a slot of a fully booked living book."""
    card = await book_card(session, book_id, reader, now=now)
    if card.book.event.ends_at <= now or card.book.event.status is not EventStatus.PUBLISHED:
        raise SlotOverError("over")
    if card.my_slot is not None:
        raise AlreadyBookedError("booked")
    if card.waitlist_rank is not None:
        raise AlreadyWaitingError("waiting")
    if card.free_slots:
        raise SlotsFreeError("free")
    try:
        async with write(session):
            if not await still_published(session, card.book.event_id):
                raise SlotOverError("cancelled")
            session.add(LivingBookWait(book_id=book_id, reader_id=reader.id, created_at=now))
            await session.flush()
    except IntegrityError as error:
        raise AlreadyWaitingError("waiting") from error
    ahead = await session.scalar(
        select(func.count()).where(
            LivingBookWait.book_id == book_id, LivingBookWait.created_at <= now
        )
    )
    return Waiting(rank=ahead or 1)


async def leave_waitlist(session: AsyncSession, reader: Reader, book_id: int) -> bool:
    """Stop waiting for the living book; whether the reader was waiting."""
    async with write(session):
        left = await session.execute(
            delete(LivingBookWait).where(
                LivingBookWait.book_id == book_id, LivingBookWait.reader_id == reader.id
            )
        )
    return bool(_changed(left))


async def cancel_for_event(session: AsyncSession, event: Event, *, now: datetime) -> list[Notice]:
    """Inside an event's cancellation: give back its conversations to come, empty its
    waitlists, skip their reminders and prompts; the notices telling each reader."""
    titled = Names(name=event.title, name_en=event.title_en)
    slots = list(
        await session.scalars(
            select(LivingBookSlot)
            .join(LivingBook, LivingBookSlot.book_id == LivingBook.id)
            .where(
                LivingBook.event_id == event.id,
                LivingBookSlot.reader_id.is_not(None),
                LivingBookSlot.starts_at > now,
            )
            .options(selectinload(LivingBookSlot.book))
            .execution_options(populate_existing=True)
        )
    )
    notices: list[Notice] = []
    for slot in slots:
        reader_id = slot.reader_id
        assert reader_id is not None
        await outbox.skip_pending(session, slot_key(slot.id, reader_id), "event cancelled")
        notices.append(
            Notice(
                reader_id=reader_id,
                data=ConversationCancelled(
                    book=slot.book.name,
                    topic=slot.book.topic,
                    event=titled,
                    starts_at=slot.starts_at,
                ),
                dedup_key=f"hl-cancelled:{slot.id}:{reader_id}",
                priority=Priority.HIGH,
            )
        )
    if slots:
        await session.execute(
            update(LivingBookSlot)
            .where(LivingBookSlot.id.in_([slot.id for slot in slots]))
            .values(reader_id=None, booked_at=None)
            .execution_options(synchronize_session=False)
        )
    books = select(LivingBook.id).where(LivingBook.event_id == event.id)
    waits = (
        await session.execute(
            select(
                LivingBookWait.book_id, LivingBookWait.reader_id, LivingBook.name, LivingBook.topic
            )
            .join(LivingBook, LivingBookWait.book_id == LivingBook.id)
            .where(LivingBook.event_id == event.id)
        )
    ).all()
    for book_id, reader_id, name, topic in waits:
        notices.append(
            Notice(
                reader_id=reader_id,
                data=ConversationCancelled(book=name, topic=topic, event=titled),
                dedup_key=f"hl-cancelled-wait:{book_id}:{reader_id}",
                priority=Priority.HIGH,
            )
        )
    await session.execute(delete(LivingBookWait).where(LivingBookWait.book_id.in_(books)))
    return notices + await _people_told(session, event, titled, slots)


async def _people_told(
    session: AsyncSession, event: Event, titled: Names, called_off: list[LivingBookSlot]
) -> list[Notice]:
    """Each living book who is a reader hears that the event is off, and what it took."""
    people = (
        await session.execute(
            select(LivingBook.id, LivingBook.name, LivingBook.person_id).where(
                LivingBook.event_id == event.id, LivingBook.person_id.is_not(None)
            )
        )
    ).all()
    return [
        Notice(
            reader_id=person_id,
            data=LivingBookCalledOff(
                book=name,
                event=titled,
                conversations=sum(1 for slot in called_off if slot.book_id == book_id),
            ),
            dedup_key=f"hl-book-called-off:{book_id}",
            priority=Priority.HIGH,
        )
        for book_id, name, person_id in people
        if person_id is not None
    ]
