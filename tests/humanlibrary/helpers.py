"""Shared steps of the human library tests: a running event with a living book on it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import DeliveryWorker
from bot.models import Event, LivingBook, LivingBookSlot, Reader, Role, RoleGrant, utcnow
from bot.services.humanlibrary.shelves import NewLivingBook, add_living_book
from bot.services.roles import RoleSet
from tests.factories import make_event, make_reader
from tests.harness import BotHarness
from tests.outbox.conftest import FakeTime

ADMIN = RoleSet(roles=frozenset({Role.ADMIN}))


async def event_with_book(
    session: AsyncSession,
    *,
    minutes: int = 30,
    hours: float = 1,
    person: Reader | None = None,
    starts_at: datetime | None = None,
) -> tuple[Event, LivingBook, list[LivingBookSlot]]:
    """An event (a day away by default) with one living book on it, slots back to back."""
    starts = starts_at or (utcnow() + timedelta(days=1)).replace(microsecond=0)
    event = await make_event(
        session,
        title="Human library night",
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
    )
    organiser = await make_reader(session)
    await session.commit()
    book, _count = await add_living_book(
        session,
        organiser,
        ADMIN,
        event.id,
        NewLivingBook(
            name="Lin, a retired sailor", topic="Forty years at sea", blurb="", minutes=minutes
        ),
        person=person,
        now=utcnow(),
    )
    slots = list(
        await session.scalars(
            select(LivingBookSlot)
            .where(LivingBookSlot.book_id == book.id)
            .order_by(LivingBookSlot.starts_at)
        )
    )
    return event, book, slots


async def grant_organiser(session: AsyncSession, telegram_id: int) -> Reader:
    """Make the person an organiser."""
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
    assert reader is not None
    session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
    await session.commit()
    return reader


async def reader_of(maker: async_sessionmaker[AsyncSession], telegram_id: int) -> Reader:
    """The reader row of a chat user."""
    async with maker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
        assert reader is not None
        return reader


async def deliver(
    harness: BotHarness, maker: async_sessionmaker[AsyncSession], at: datetime
) -> None:
    """Send what the outbox holds that is due at ``at``."""
    worker = DeliveryWorker(
        maker, harness.bot, harness.app.i18n, harness.app.settings, timekeeper=FakeTime(at)
    )
    await worker.drain()
