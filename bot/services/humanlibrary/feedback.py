"""Ratings after a conversation, by its reader and by the living book."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import LivingBook, LivingBookFeedback, LivingBookSlot, Reader
from bot.services.errors import InvalidInputError
from bot.services.humanlibrary.errors import AlreadyRatedError, NotOverError, NotYourSlotError
from bot.services.humanlibrary.shelves import loaded_slot

RATINGS = range(1, 6)


async def rate_conversation(
    session: AsyncSession, author: Reader, slot_id: int, rating: int, *, now: datetime
) -> LivingBookSlot:
    """Store a 1–5 rating of a conversation that is over, once per person."""
    if rating not in RATINGS:
        raise InvalidInputError("rating")
    slot = await loaded_slot(session, slot_id)
    if author.id not in (slot.reader_id, slot.book.person_id):
        raise NotYourSlotError("not in this conversation")
    if slot.ends_at > now:
        raise NotOverError("not over")
    rated = await session.scalar(
        select(LivingBookFeedback.id).where(
            LivingBookFeedback.slot_id == slot.id, LivingBookFeedback.author_id == author.id
        )
    )
    if rated is not None:
        raise AlreadyRatedError("rated")
    try:
        async with write(session):
            session.add(
                LivingBookFeedback(
                    slot_id=slot.id, author_id=author.id, rating=rating, created_at=now
                )
            )
            await session.flush()
    except IntegrityError as error:
        raise AlreadyRatedError("rated") from error
    return slot


async def readers_rating(session: AsyncSession, book: LivingBook) -> tuple[float | None, int]:
    """The average rating readers gave the living book, and how many ratings."""
    row = (
        await session.execute(
            select(func.avg(LivingBookFeedback.rating), func.count())
            .join(LivingBookSlot, LivingBookFeedback.slot_id == LivingBookSlot.id)
            .where(
                LivingBookSlot.book_id == book.id,
                LivingBookFeedback.author_id != func.coalesce(book.person_id, 0),
            )
        )
    ).one()
    average, count = row
    return (float(average) if average is not None else None), int(count)
