"""A small alliance catalogue, indexed, and readers who search it through the real dispatcher."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import District, Item, ItemStatus, Library, LibraryKind, Reader, Work, WorkIsbn
from tests.factories import make_district, make_library, make_work
from tests.harness import BotHarness, ChatUser

_BARCODES = itertools.count(1)


@dataclass
class Catalogue:
    """What the tests search: three libraries in two districts, a few dozen copies."""

    east: District
    west: District
    city: Library
    campus: Library
    riverside: Library
    dream: Work
    stone: Work
    chamber: Work
    biography: Work
    journey: Work
    lonely: Work
    gardens: list[Work] = field(default_factory=list)


def garden_language(number: int) -> str:
    return "chi" if number % 3 == 0 else "eng"


def garden_is_university(number: int) -> bool:
    return number % 2 == 0


def garden_is_available(number: int) -> bool:
    return number % 4 != 1


async def _items(
    session: AsyncSession, work: Work, *holdings: tuple[Library, ItemStatus, str | None]
) -> None:
    for library, status, call_number in holdings:
        session.add(
            Item(
                work_id=work.id,
                library_id=library.id,
                barcode=f"SC{next(_BARCODES):08d}",
                call_number=call_number,
                status=status,
            )
        )
        await session.flush()


async def build_catalogue(harness: BotHarness) -> Catalogue:
    """Districts, libraries, works and copies, then the index, marked ready."""
    async with harness.app.sessionmaker() as session:
        east = await make_district(
            session, code="EAST", name="东区", name_en="East", latitude=31.2, longitude=121.4
        )
        west = await make_district(
            session, code="WEST", name="西区", name_en="West", latitude=31.3, longitude=121.7
        )
        city = await make_library(
            session,
            east,
            code="CITY",
            name="市图书馆",
            name_en="City Library",
            kind=LibraryKind.PUBLIC,
            latitude=31.21,
            longitude=121.41,
            address="1 Market Street",
            opening_hours="Mo-Su 09:00-21:00",
        )
        campus = await make_library(
            session,
            east,
            code="UNI",
            name="大学图书馆",
            name_en="Campus Library",
            kind=LibraryKind.UNIVERSITY,
            latitude=31.25,
            longitude=121.5,
            address="100 College Road",
            opening_hours="Mo-Fr 08:00-22:00",
        )
        riverside = await make_library(
            session,
            west,
            code="RIVER",
            name="河畔图书馆",
            name_en="Riverside Library",
            kind=LibraryKind.PUBLIC,
            latitude=31.3,
            longitude=121.7,
            address="7 River Lane",
            opening_hours="Tu-Su 10:00-18:00",
        )
        dream = await make_work(
            session,
            title="Hong lou meng",
            original_title="紅樓夢",
            authors=["Cao, Xueqin"],
            original_authors=["曹雪芹"],
            language="chi",
            year=1982,
            publisher="Ren min wen xue chu ban she",
        )
        session.add(WorkIsbn(isbn="9787020002207", work_id=dream.id))
        await _items(
            session,
            dream,
            (city, ItemStatus.AVAILABLE, "I242.47/C1"),
            (campus, ItemStatus.ON_LOAN, "I242.47/C2"),
            (campus, ItemStatus.MISSING, "I242.47/C2"),
            (riverside, ItemStatus.AVAILABLE, "I242.47/C3"),
            (riverside, ItemStatus.AVAILABLE, "I242.47/C3"),
            (riverside, ItemStatus.IN_TRANSIT, "I242.47/C3"),
        )
        stone = await make_work(
            session,
            title="Harry Potter and the philosopher's stone",
            authors=["Rowling, J. K."],
            language="eng",
            year=1997,
        )
        session.add(WorkIsbn(isbn="9780747532699", work_id=stone.id))
        await _items(session, stone, (campus, ItemStatus.AVAILABLE, "PZ7.R79835 Har 1997"))
        chamber = await make_work(
            session,
            title="Harry Potter and the chamber of secrets",
            authors=["Rowling, J. K."],
            language="eng",
            year=1998,
        )
        await _items(session, chamber, (city, ItemStatus.ON_LOAN, None))
        biography = await make_work(
            session, title="Rowling : a biography", authors=["Smith, Sean"], language="eng"
        )
        await _items(session, biography, (riverside, ItemStatus.HELD, None))
        journey = await make_work(
            session,
            title="Xi you ji",
            original_title="西遊記",
            authors=["Wu, Cheng'en"],
            original_authors=["吳承恩"],
            language="chi",
        )
        await _items(session, journey, (campus, ItemStatus.AVAILABLE, None))
        lonely = await make_work(session, title="A lonely pamphlet", authors=["Nobody, N."])
        gardens = []
        for number in range(1, 13):
            garden = await make_work(
                session,
                title=f"Garden notes {number}",
                authors=["Green, Ann"],
                language=garden_language(number),
                year=2000 + number,
            )
            await _items(
                session,
                garden,
                (
                    campus if garden_is_university(number) else city,
                    ItemStatus.AVAILABLE if garden_is_available(number) else ItemStatus.ON_LOAN,
                    None,
                ),
            )
            gardens.append(garden)
        await session.commit()
        works = [dream, stone, chamber, biography, journey, lonely, *gardens]
        await harness.app.indexer.sync(session, [work.id for work in works])
    await harness.app.indexer.ensure_ready()
    assert harness.app.indexer.status.ready
    return Catalogue(
        east,
        west,
        city,
        campus,
        riverside,
        dream,
        stone,
        chamber,
        biography,
        journey,
        lonely,
        gardens,
    )


@pytest.fixture
async def catalogue(harness: BotHarness) -> Catalogue:
    return await build_catalogue(harness)


async def reader(
    harness: BotHarness,
    user_id: int,
    *,
    language: str = "en",
    location: tuple[float, float] | None = None,
    district: District | None = None,
) -> ChatUser:
    """An onboarded reader, with a shared location or a home district if asked."""
    user = harness.user(user_id, f"Reader{user_id}", language_code=language)
    await user.onboard(language)
    if location is not None:
        await user.share_location(*location)
        user.new_bot_messages()
    if district is not None:
        async with harness.app.sessionmaker() as session:
            await session.execute(
                update(Reader).where(Reader.telegram_id == user_id).values(district_id=district.id)
            )
            await session.commit()
    return user


def sessions(harness: BotHarness) -> async_sessionmaker[AsyncSession]:
    return harness.app.sessionmaker
