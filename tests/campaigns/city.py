"""A seeded city where one district is clearly under-reached, with hand-countable activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    District,
    Event,
    Hold,
    HoldStatus,
    Library,
    Reader,
    Registration,
    RegistrationStatus,
    SearchLog,
    Work,
)
from tests.factories import make_district, make_event, make_library, make_reader, make_work


@dataclass
class City:
    """Four districts: A, B and C about equally reached, D hardly at all."""

    districts: dict[str, District]
    library: Library
    work: Work
    event: Event
    readers: dict[str, list[Reader]] = field(default_factory=dict)


async def _activity(
    session: AsyncSession,
    city: City,
    reader: Reader,
    at: datetime,
    *,
    search: bool = True,
    hold: bool = False,
    register: bool = False,
    attend: bool = False,
) -> None:
    if search:
        session.add(
            SearchLog(
                reader_id=reader.id,
                district_id=reader.district_id,
                query="sea",
                hit_count=3,
                created_at=at,
            )
        )
    if hold:
        session.add(
            Hold(
                reader_id=reader.id,
                work_id=city.work.id,
                pickup_library_id=city.library.id,
                status=HoldStatus.QUEUED,
                queued_at=at,
            )
        )
    if register:
        session.add(
            Registration(
                event_id=city.event.id,
                reader_id=reader.id,
                status=RegistrationStatus.ATTENDED if attend else RegistrationStatus.CONFIRMED,
                created_at=at,
                attended_at=at + timedelta(hours=1) if attend else None,
            )
        )


async def seed_city(session: AsyncSession, now: datetime, *, idle_in_d: int = 19) -> City:
    """A, B (10,000 people), C (20,000) and D (10,000); activity 10 days before ``now``.

    A and B: 4 active readers (a search each), 2 holds, 2 registrations, 1 attended.
    C: twice that. D: 1 active reader with one search, and ``idle_in_d`` readers who did
    nothing. One search in A 100 days ago falls outside the 90-day period.
    """
    districts = {
        "A": await make_district(session, code="DA", name_en="A", population=10_000),
        "B": await make_district(session, code="DB", name_en="B", population=10_000),
        "C": await make_district(session, code="DC", name_en="C", population=20_000),
        "D": await make_district(
            session, code="DD", name_en="D", population=10_000, latitude=37.9, longitude=121.9
        ),
    }
    library = await make_library(session, districts["A"])
    work = await make_work(session, libraries=(library,))
    event = await make_event(session, starts_at=now - timedelta(days=20))
    city = City(districts=districts, library=library, work=work, event=event)
    at = now - timedelta(days=10)
    for code, active, holds, registrations, attended in (
        ("A", 4, 2, 2, 1),
        ("B", 4, 2, 2, 1),
        ("C", 8, 4, 4, 2),
        ("D", 1, 0, 0, 0),
    ):
        readers = [
            await make_reader(session, district_id=districts[code].id) for _ in range(active)
        ]
        for number, reader in enumerate(readers):
            await _activity(
                session,
                city,
                reader,
                at,
                hold=number < holds,
                register=number < registrations,
                attend=number < attended,
            )
        city.readers[code] = readers
    city.readers["D"] += [
        await make_reader(session, district_id=districts["D"].id) for _ in range(idle_in_d)
    ]
    await _activity(session, city, city.readers["A"][0], now - timedelta(days=100))
    await session.commit()
    return city
