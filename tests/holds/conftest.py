"""A small alliance for holds: three pickup libraries at known distances, works and copies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Hold, Item, Library, Reader, Role, Work
from tests.factories import make_district, make_library, make_reader, make_work


@dataclass
class Alliance:
    """City and Campus 5 km apart, Riverside 30 km east; Always Open opens every day."""

    city: Library
    campus: Library
    riverside: Library
    work: Work


async def build_alliance(session: AsyncSession) -> Alliance:
    district = await make_district(session, latitude=31.2, longitude=121.4)
    city = await make_library(
        session,
        district,
        code="CITY",
        name="市图书馆",
        name_en="City Library",
        latitude=31.2,
        longitude=121.4,
        address="1 Market Street",
        opening_hours="Mo-Su 09:00-21:00",
    )
    campus = await make_library(
        session,
        district,
        code="UNI",
        name="大学图书馆",
        name_en="Campus Library",
        latitude=31.245,
        longitude=121.4,
        address="100 College Road",
        opening_hours="Mo-Fr 08:00-22:00",
    )
    riverside = await make_library(
        session,
        district,
        code="RIVER",
        name="河畔图书馆",
        name_en="Riverside Library",
        latitude=31.2,
        longitude=121.715,
        address="7 River Lane",
        opening_hours="Tu-Su 10:00-18:00",
    )
    work = await make_work(session, title="The Dream of the Red Chamber", libraries=(campus,))
    await session.commit()
    return Alliance(city, campus, riverside, work)


@pytest.fixture
async def alliance(session: AsyncSession) -> Alliance:
    return await build_alliance(session)


async def add_copy(
    session: AsyncSession, work: Work, library: Library, barcode: str, **fields: object
) -> Item:
    item = Item(work_id=work.id, library_id=library.id, barcode=barcode, **fields)
    session.add(item)
    await session.commit()
    return item


async def readers(session: AsyncSession, count: int) -> list[Reader]:
    made = [await make_reader(session) for _ in range(count)]
    await session.commit()
    return made


async def librarian(session: AsyncSession, library: Library) -> Reader:
    person = await make_reader(session, roles=(Role.LIBRARIAN,), library=library)
    await session.commit()
    return person


async def holds_of(maker: async_sessionmaker[AsyncSession], work_id: int) -> list[Hold]:
    async with maker() as session:
        return list(
            await session.scalars(
                select(Hold).where(Hold.work_id == work_id).order_by(Hold.queued_at, Hold.id)
            )
        )
