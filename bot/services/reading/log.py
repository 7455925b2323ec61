"""The reading log: a reader marks a work read, with an optional rating and a short note."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import insert_new, write
from bot.models import Hold, HoldStatus, Reader, ReadingLog, Work, WorkIsbn
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.search.query import valid_id
from search.isbn import isbn13

MIN_RATING = 1
MAX_RATING = 5
NOTE_CHARS = 200
# Collected holds this recent are offered in My holds and /read to be marked read.
COLLECTED_WITHIN = timedelta(days=60)


class ReadSource(enum.StrEnum):
    """Where the reader marked the work read."""

    CARD = "card"
    HOLDS = "holds"
    ISBN = "isbn"


class RatingOutOfRange(InvalidInputError):
    """A rating that is not a whole number from 1 to 5."""


class NoteTooLong(InvalidInputError):
    """A note longer than NOTE_CHARS."""


class NotAnIsbn(InvalidInputError):
    """The text is not a valid ISBN."""


class UnknownIsbn(NotFoundError):
    """A valid ISBN that no work in the catalogue has."""

    def __init__(self, isbn: str) -> None:
        super().__init__(isbn)
        self.isbn = isbn


@dataclass(frozen=True)
class ReadEntry:
    """One logged read as the reader sees it."""

    entry_id: int
    work_id: int
    title: str
    original_title: str | None
    rating: int | None
    note: str | None
    read_at: datetime
    created: bool


def check_rating(rating: int | None) -> int | None:
    """The rating, or RatingOutOfRange."""
    if rating is not None and not MIN_RATING <= rating <= MAX_RATING:
        raise RatingOutOfRange(str(rating))
    return rating


def clean_note(note: str | None) -> str | None:
    """The note trimmed (None when empty), or NoteTooLong."""
    text = " ".join((note or "").split())
    if len(text) > NOTE_CHARS:
        raise NoteTooLong(str(len(text)))
    return text or None


async def work_by_isbn(session: AsyncSession, text: str) -> Work:
    """The work with this ISBN (10 or 13, any spelling), or NotAnIsbn / UnknownIsbn."""
    isbn = isbn13(text)
    if isbn is None:
        raise NotAnIsbn(text)
    work = await session.scalar(
        select(Work).join(WorkIsbn, WorkIsbn.work_id == Work.id).where(WorkIsbn.isbn == isbn)
    )
    if work is None:
        raise UnknownIsbn(isbn)
    return work


def _entry(row: ReadingLog, work: Work, created: bool) -> ReadEntry:
    return ReadEntry(
        entry_id=row.id,
        work_id=work.id,
        title=work.title,
        original_title=work.original_title,
        rating=row.rating,
        note=row.note,
        read_at=row.read_at,
        created=created,
    )


async def _upsert(
    session: AsyncSession,
    reader: Reader,
    work: Work,
    source: ReadSource,
    now: datetime,
    changes: dict[str, object],
) -> ReadEntry:
    """One entry per reader and work: inserted if missing (a concurrent insert wins
    quietly), then locked and updated."""
    async with write(session):
        inserted = await session.execute(
            insert_new(session, ReadingLog, ["reader_id", "work_id"])
            .values(
                reader_id=reader.id,
                work_id=work.id,
                source=source.value,
                read_at=now,
                created_at=now,
            )
            .returning(ReadingLog.id)
        )
        created = inserted.first() is not None
        row = await session.scalar(
            select(ReadingLog)
            .where(ReadingLog.reader_id == reader.id, ReadingLog.work_id == work.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        for name, value in changes.items():
            setattr(row, name, value)
        await session.flush()
        return _entry(row, work, created)


async def mark_read(
    session: AsyncSession,
    reader: Reader,
    work_id: int,
    *,
    source: ReadSource,
    now: datetime,
    rating: int | None = None,
    note: str | None = None,
    library_id: int | None = None,
) -> ReadEntry:
    """Log the work as read (again: keep the entry, update what is given).

    A rating or note given replaces the stored one; none given keeps it. Two presses at
    once make one entry: the second insert yields to the first (ON CONFLICT DO NOTHING)
    and updates it.
    """
    changes: dict[str, object] = {}
    if rating is not None:
        changes["rating"] = check_rating(rating)
    if note is not None:
        changes["note"] = clean_note(note)
    if library_id is not None:
        changes["library_id"] = library_id
    work = await session.get(Work, work_id) if valid_id(work_id) else None
    if work is None:
        raise NotFoundError("work")
    return await _upsert(session, reader, work, source, now, changes)


async def mark_read_by_isbn(
    session: AsyncSession,
    reader: Reader,
    isbn_text: str,
    *,
    now: datetime,
    rating: int | None = None,
    note: str | None = None,
) -> ReadEntry:
    """Log the work with this ISBN as read; the rating and note are checked first."""
    check_rating(rating)
    clean_note(note)
    work = await work_by_isbn(session, isbn_text)
    return await mark_read(
        session, reader, work.id, source=ReadSource.ISBN, now=now, rating=rating, note=note
    )


async def mark_collected_read(
    session: AsyncSession, reader: Reader, hold_id: int, *, now: datetime
) -> ReadEntry:
    """Log the work of the reader's collected hold as read (from My holds)."""
    hold = await session.get(Hold, hold_id) if valid_id(hold_id) else None
    if hold is None or hold.reader_id != reader.id or hold.status is not HoldStatus.COLLECTED:
        raise NotFoundError("hold")
    return await mark_read(
        session,
        reader,
        hold.work_id,
        source=ReadSource.HOLDS,
        now=now,
        library_id=hold.pickup_library_id,
    )


@dataclass(frozen=True)
class CollectedUnread:
    """A recently collected hold whose work the reader has not marked read."""

    hold_id: int
    work_id: int
    title: str
    original_title: str | None


async def collected_unread(
    session: AsyncSession, reader_id: int, now: datetime, limit: int = 5
) -> list[CollectedUnread]:
    """The reader's recently collected holds not yet in their reading log, newest first."""
    logged = select(ReadingLog.work_id).where(ReadingLog.reader_id == reader_id)
    rows = await session.execute(
        select(Hold.id, Work.id, Work.title, Work.original_title)
        .join(Work, Work.id == Hold.work_id)
        .where(
            Hold.reader_id == reader_id,
            Hold.status == HoldStatus.COLLECTED,
            Hold.collected_at >= now - COLLECTED_WITHIN,
            Hold.work_id.not_in(logged),
        )
        .order_by(Hold.collected_at.desc(), Hold.id.desc())
        .limit(limit)
    )
    seen: set[int] = set()
    found = []
    for hold_id, work_id, title, original in rows:
        if work_id not in seen:
            seen.add(work_id)
            found.append(CollectedUnread(hold_id, work_id, title, original))
    return found


async def recent_reads(session: AsyncSession, reader_id: int, limit: int = 10) -> list[ReadEntry]:
    """The reader's latest reads, newest first."""
    rows = await session.execute(
        select(ReadingLog, Work)
        .join(Work, Work.id == ReadingLog.work_id)
        .where(ReadingLog.reader_id == reader_id)
        .order_by(ReadingLog.read_at.desc(), ReadingLog.id.desc())
        .limit(limit)
    )
    return [_entry(row, work, False) for row, work in rows]


async def read_count(session: AsyncSession, reader_id: int) -> int:
    """How many works the reader has logged."""
    count = await session.scalar(
        select(func.count()).select_from(ReadingLog).where(ReadingLog.reader_id == reader_id)
    )
    return int(count or 0)
