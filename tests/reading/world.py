"""A small alliance for reading-life tests: a district with two libraries and some works."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.models import (
    District,
    Hold,
    HoldStatus,
    Library,
    LibraryKind,
    Reader,
    ReadingLog,
    Work,
    WorkIsbn,
    utcnow,
)
from tests.factories import make_district, make_library, make_reader, make_work
from tests.harness import BotHarness, ChatUser

RED_CHAMBER_ISBN = "9787020002207"


@dataclass
class World:
    district: District
    city: Library
    campus: Library
    works: list[Work]


async def build_world(harness: BotHarness, works: int = 8) -> World:
    async with harness.app.sessionmaker() as session:
        district = await make_district(session, latitude=31.2, longitude=121.4)
        city = await make_library(
            session, district, code="CITY", name="市图书馆", name_en="City Library"
        )
        campus = await make_library(
            session,
            district,
            code="UNI",
            name="大学图书馆",
            name_en="Campus Library",
            kind=LibraryKind.UNIVERSITY,
        )
        made = [
            await make_work(
                session,
                title="Hong lou meng" if n == 0 else f"Book {n}",
                original_title="红楼梦" if n == 0 else None,
                libraries=(city,),
            )
            for n in range(works)
        ]
        session.add(WorkIsbn(isbn=RED_CHAMBER_ISBN, work_id=made[0].id))
        await session.commit()
        return World(district, city, campus, made)


async def chat_reader(harness: BotHarness, user_id: int, language: str = "en") -> ChatUser:
    user = harness.user(user_id, f"Reader{user_id}")
    await user.onboard(language)
    return user


async def reader_of(harness: BotHarness, user: ChatUser) -> Reader:
    async with harness.app.sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == user.user_id))
        assert reader is not None
        return reader


async def set_district(harness: BotHarness, user: ChatUser, district: District) -> Reader:
    reader = await reader_of(harness, user)
    async with harness.app.sessionmaker() as session:
        row = await session.get(Reader, reader.id)
        assert row is not None
        row.district_id = district.id
        await session.commit()
    return reader


async def reads_of(harness: BotHarness, reader_id: int) -> list[ReadingLog]:
    async with harness.app.sessionmaker() as session:
        return list(
            await session.scalars(
                select(ReadingLog).where(ReadingLog.reader_id == reader_id).order_by(ReadingLog.id)
            )
        )


async def crowd(
    harness: BotHarness,
    world: World,
    count: int,
    *,
    holds: tuple[Work, ...] = (),
    reads: tuple[Work, ...] = (),
    at: datetime | None = None,
    pickup: Library | None = None,
) -> list[Reader]:
    """`count` readers of the district, each holding and reading the given works."""
    moment = at or utcnow()
    made = []
    async with harness.app.sessionmaker() as session:
        for _ in range(count):
            reader = await make_reader(session, district_id=world.district.id)
            made.append(reader)
            for work in holds:
                session.add(
                    Hold(
                        reader_id=reader.id,
                        work_id=work.id,
                        pickup_library_id=(pickup or world.city).id,
                        status=HoldStatus.CANCELLED,
                        queued_at=moment,
                        closed_at=moment,
                    )
                )
            for work in reads:
                session.add(
                    ReadingLog(reader_id=reader.id, work_id=work.id, source="card", read_at=moment)
                )
        await session.commit()
    return made
