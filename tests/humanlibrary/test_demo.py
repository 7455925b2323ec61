"""The demo alliance has a human library event with three living books to book."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import LivingBook, LivingBookSlot, utcnow
from bot.services.demo import seed_demo
from bot.services.humanlibrary import booking, shelves
from tests.factories import make_reader


async def test_demo_living_books(session: AsyncSession, settings: Settings) -> None:
    zone = settings.zone
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    assert await session.scalar(select(func.count()).select_from(LivingBook)) == 3
    found = await shelves.shelves(session, now=utcnow())
    assert len(found) == 1 and [item.free for item in found[0].books] == [3, 3, 3]
    reader = await make_reader(session)
    await session.commit()
    slot = await session.scalar(select(LivingBookSlot).order_by(LivingBookSlot.id).limit(1))
    assert slot is not None
    await booking.take_slot(session, reader, slot.id, now=utcnow())
