"""Factories for the entities tests need: districts, libraries, readers, works, events."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    District,
    Event,
    EventCategory,
    Item,
    Library,
    LibraryKind,
    Reader,
    Role,
    RoleGrant,
    Work,
    utcnow,
)

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


async def make_district(session: AsyncSession, **fields: object) -> District:
    n = _next()
    values: dict[str, object] = {
        "code": f"D{n:03d}",
        "name": f"第{n}区",
        "name_en": f"District {n}",
        "population": 100_000,
        "latitude": 37.5 + n / 1000,
        "longitude": 121.4 + n / 1000,
    }
    values.update(fields)
    district = District(**values)
    session.add(district)
    await session.flush()
    return district


async def make_library(
    session: AsyncSession, district: District | None = None, **fields: object
) -> Library:
    n = _next()
    district = district or await make_district(session)
    values: dict[str, object] = {
        "code": f"L{n:03d}",
        "name": f"第{n}图书馆",
        "name_en": f"Library {n}",
        "kind": LibraryKind.PUBLIC,
        "district_id": district.id,
        "address": f"{n} Reading Road",
        "latitude": district.latitude,
        "longitude": district.longitude,
        "opening_hours": "Mo-Su 09:00-21:00",
    }
    values.update(fields)
    library = Library(**values)
    session.add(library)
    await session.flush()
    return library


async def make_reader(
    session: AsyncSession,
    *,
    roles: tuple[Role, ...] = (),
    library: Library | None = None,
    **fields: object,
) -> Reader:
    n = _next()
    values: dict[str, object] = {
        "telegram_id": 500_000 + n,
        "chat_id": 500_000 + n,
        "first_name": f"Reader{n}",
        "language": "en",
        "card_number": f"T{n:09d}",
        "onboarded_at": utcnow(),
    }
    values.update(fields)
    reader = Reader(**values)
    session.add(reader)
    await session.flush()
    for role in roles:
        session.add(
            RoleGrant(
                reader_id=reader.id,
                role=role,
                library_id=library.id if library and role is Role.LIBRARIAN else None,
            )
        )
    await session.flush()
    return reader


async def make_work(
    session: AsyncSession, *, libraries: tuple[Library, ...] = (), **fields: object
) -> Work:
    n = _next()
    values: dict[str, object] = {
        "title": f"Work {n}",
        "authors": [f"Author {n}"],
        "language": "eng",
        "work_key": f"work{n}",
    }
    values.update(fields)
    work = Work(**values)
    session.add(work)
    await session.flush()
    for library in libraries:
        session.add(Item(work_id=work.id, library_id=library.id, barcode=f"B{_next():08d}"))
    await session.flush()
    return work


async def make_event(
    session: AsyncSession, *, starts_at: datetime | None = None, **fields: object
) -> Event:
    starts = starts_at or utcnow() + timedelta(days=3)
    values: dict[str, object] = {
        "title": f"Book club {_next()}",
        "category": EventCategory.BOOK_CLUB,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "capacity": 20,
        "checkin_token": secrets.token_urlsafe(12),
    }
    values.update(fields)
    event = Event(**values)
    session.add(event)
    await session.flush()
    return event
