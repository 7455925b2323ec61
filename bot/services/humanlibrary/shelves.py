"""Living books: organisers add them to events; readers browse them; they see their schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import (
    Event,
    EventStatus,
    LivingBook,
    LivingBookSlot,
    LivingBookWait,
    Reader,
)
from bot.services import audit
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.events.records import managed_event
from bot.services.roles import RoleSet

SLOT_MINUTES = range(20, 41)
NAME_LIMIT = 100
TOPIC_LIMIT = 200
BLURB_LIMIT = 1000


@dataclass(frozen=True)
class NewLivingBook:
    """What an organiser says about a living book."""

    name: str
    topic: str
    blurb: str
    minutes: int


def check_new_book(book: NewLivingBook) -> None:
    """InvalidInputError naming the first field that is wrong."""
    if book.minutes not in SLOT_MINUTES:
        raise InvalidInputError("minutes")
    if not 0 < len(book.name) <= NAME_LIMIT:
        raise InvalidInputError("name")
    if not 0 < len(book.topic) <= TOPIC_LIMIT:
        raise InvalidInputError("topic")
    if len(book.blurb) > BLURB_LIMIT:
        raise InvalidInputError("blurb")


def slot_times(event: Event, minutes: int, now: datetime) -> list[tuple[datetime, datetime]]:
    """Back-to-back slots of ``minutes`` from the event's start (or now) to its end."""
    length = timedelta(minutes=minutes)
    start = event.starts_at
    while start < now:
        start += length
    times = []
    while start + length <= event.ends_at:
        times.append((start, start + length))
        start += length
    return times


async def add_living_book(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    book: NewLivingBook,
    *,
    person: Reader | None,
    now: datetime,
) -> tuple[LivingBook, int]:
    """A living book with its slots over the event (organiser of the event or admin)."""
    check_new_book(book)
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED or event.ends_at <= now:
        raise InvalidInputError("event over")
    times = slot_times(event, book.minutes, now)
    if not times:
        raise InvalidInputError("no slot fits")
    async with write(session):
        living = LivingBook(
            event_id=event.id,
            person_id=person.id if person else None,
            name=book.name,
            topic=book.topic,
            blurb=book.blurb,
            slot_minutes=book.minutes,
        )
        session.add(living)
        await session.flush()
        session.add_all(
            LivingBookSlot(book_id=living.id, starts_at=start, ends_at=end) for start, end in times
        )
        audit.record(
            session,
            actor,
            "humanlibrary.add",
            target_type="event",
            target_id=event.id,
            book_id=living.id,
            slots=len(times),
        )
    return living, len(times)


@dataclass(frozen=True)
class ShelfBook:
    """A living book as the list shows it: free slots to come."""

    book: LivingBook
    free: int


@dataclass(frozen=True)
class Shelf:
    """An event with its living books."""

    event: Event
    books: list[ShelfBook]


async def shelves(session: AsyncSession, *, now: datetime) -> list[Shelf]:
    """Published events not yet over that have living books, soonest first."""
    books = list(
        await session.scalars(
            select(LivingBook)
            .join(Event, LivingBook.event_id == Event.id)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
            .options(selectinload(LivingBook.event))
            .order_by(Event.starts_at, Event.id, LivingBook.id)
        )
    )
    free = await _free_counts(session, [book.id for book in books], now)
    result: list[Shelf] = []
    for book in books:
        if not result or result[-1].event.id != book.event_id:
            result.append(Shelf(event=book.event, books=[]))
        result[-1].books.append(ShelfBook(book=book, free=free.get(book.id, 0)))
    return result


async def _free_counts(session: AsyncSession, book_ids: list[int], now: datetime) -> dict[int, int]:
    if not book_ids:
        return {}
    rows = await session.execute(
        select(LivingBookSlot.book_id, func.count())
        .where(
            LivingBookSlot.book_id.in_(book_ids),
            LivingBookSlot.reader_id.is_(None),
            LivingBookSlot.starts_at > now,
        )
        .group_by(LivingBookSlot.book_id)
    )
    return {int(book_id): int(count) for book_id, count in rows}


@dataclass(frozen=True)
class BookCard:
    """A living book for one reader: its free slots, the reader's slot or waitlist place."""

    book: LivingBook
    free_slots: list[LivingBookSlot]
    my_slot: LivingBookSlot | None
    waitlist_rank: int | None
    waiting: int


async def load_book(session: AsyncSession, book_id: int) -> LivingBook:
    """The living book with its event and venue (NotFoundError if unknown)."""
    book = await session.scalar(
        select(LivingBook)
        .where(LivingBook.id == book_id)
        .options(
            selectinload(LivingBook.event).selectinload(Event.venue_library),
            selectinload(LivingBook.person),
        )
    )
    if book is None:
        raise NotFoundError("living book")
    return book


async def book_card(
    session: AsyncSession, book_id: int, reader: Reader, *, now: datetime
) -> BookCard:
    """The living book's card as this reader sees it."""
    book = await load_book(session, book_id)
    slots = list(
        await session.scalars(
            select(LivingBookSlot)
            .where(LivingBookSlot.book_id == book.id)
            .order_by(LivingBookSlot.starts_at)
        )
    )
    mine = next((slot for slot in slots if slot.reader_id == reader.id), None)
    waits = list(
        await session.scalars(
            select(LivingBookWait.reader_id)
            .where(LivingBookWait.book_id == book.id)
            .order_by(LivingBookWait.created_at, LivingBookWait.id)
        )
    )
    rank = waits.index(reader.id) + 1 if reader.id in waits else None
    free = [slot for slot in slots if slot.reader_id is None and slot.starts_at > now]
    return BookCard(
        book=book, free_slots=free, my_slot=mine, waitlist_rank=rank, waiting=len(waits)
    )


async def schedule(session: AsyncSession, person: Reader, *, now: datetime) -> list[LivingBookSlot]:
    """The living book's own conversations not yet over, with who booked each."""
    return list(
        await session.scalars(
            select(LivingBookSlot)
            .join(LivingBook, LivingBookSlot.book_id == LivingBook.id)
            .where(LivingBook.person_id == person.id, LivingBookSlot.ends_at > now)
            .options(
                selectinload(LivingBookSlot.reader),
                selectinload(LivingBookSlot.book).selectinload(LivingBook.event),
            )
            .order_by(LivingBookSlot.starts_at)
        )
    )


async def is_living_book(session: AsyncSession, person: Reader) -> bool:
    """Whether the person is a living book at all."""
    found = await session.scalar(
        select(LivingBook.id).where(LivingBook.person_id == person.id).limit(1)
    )
    return found is not None


async def loaded_slot(session: AsyncSession, slot_id: int) -> LivingBookSlot:
    """A slot with its book, the book's event and venue (NotFoundError if unknown)."""
    slot = await session.scalar(
        select(LivingBookSlot)
        .where(LivingBookSlot.id == slot_id)
        .options(
            selectinload(LivingBookSlot.book)
            .selectinload(LivingBook.event)
            .selectinload(Event.venue_library)
        )
        .execution_options(populate_existing=True)
    )
    if slot is None:
        raise NotFoundError("slot")
    return slot


async def my_conversations(
    session: AsyncSession, reader: Reader, *, now: datetime
) -> list[LivingBookSlot]:
    """The reader's booked conversations not yet over."""
    return list(
        await session.scalars(
            select(LivingBookSlot)
            .where(LivingBookSlot.reader_id == reader.id, LivingBookSlot.ends_at > now)
            .options(selectinload(LivingBookSlot.book).selectinload(LivingBook.event))
            .order_by(LivingBookSlot.starts_at)
        )
    )
