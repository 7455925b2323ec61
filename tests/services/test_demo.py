"""The demo alliance: packaged data, holdings distribution and idempotent seeding."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.catalogue.reading import read_records
from bot.catalogue.records import BibRecord
from bot.models import (
    District,
    Event,
    EventCategory,
    Item,
    ItemStatus,
    Library,
    LibraryFollow,
    LibraryKind,
    Reader,
    Role,
    Work,
    WorkIsbn,
    utcnow,
)
from bot.services.demo.accounts import DEMO_ACCOUNTS
from bot.services.demo.activity import ACTIVITY_TELEGRAM_BASE
from bot.services.demo.data import demo_catalogue_path, demo_records
from bot.services.demo.holdings import CORE_WORKS, demo_holdings
from bot.services.demo.seeding import seed_demo
from bot.services.members import is_open_on
from bot.services.readers import is_valid_card_number

ZONE = ZoneInfo("Asia/Shanghai")
# Haibin lies in this box (the sandbox's preset places use 37.5, 121.4).
LATITUDES = (37.45, 37.60)
LONGITUDES = (121.20, 121.55)
RURAL_DISTRICTS = {"NANLING", "TAOYUAN", "YUWAN", "BAISHA"}
DISTRICT_RADIUS_KM = 6.0


def today() -> date:
    return datetime.now(ZONE).date()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# --- packaged data -----------------------------------------------------------------------


def test_the_catalogue_ships_in_the_package_and_reads_cleanly() -> None:
    path = demo_catalogue_path()
    records = list(read_records(path, format="csv"))

    assert path.name == "catalogue.csv"
    assert "bot" in path.parts
    good = [record for record in records if isinstance(record, BibRecord)]
    assert len(good) == len(records) >= 500
    assert len({record.work_key for record in good}) == len(good)


def test_the_catalogue_follows_its_conventions() -> None:
    records = demo_records()
    chinese = [record for record in records if record.language == "chi"]
    english = [record for record in records if record.language == "eng"]

    assert len(chinese) + len(english) == len(records)
    assert 0.4 <= len(chinese) / len(records) <= 0.6
    assert all(record.original_title and record.original_authors is not None for record in chinese)
    assert all(not record.original_title for record in english)
    assert not any(record.holdings for record in records)
    assert all(record.subjects for record in records)
    assert all(record.year is None or 0 < record.year <= 2025 for record in records)
    by_original = {record.original_title: record for record in chinese}
    dream = by_original["红楼梦"]
    assert dream.title == "Hong lou meng (Dream of the Red Chamber)"
    assert dream.authors[0] == "Cao, Xueqin"
    assert dream.year == 1791
    assert {"西游记", "三国演义", "水浒传"} <= set(by_original)


def isbn13_check_digit(first_twelve: str) -> str:
    """The ISBN-13 (EAN-13) check digit: weights 1 and 3 alternating, modulo 10."""
    total = sum(
        int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve)
    )
    return str(-total % 10)


def test_demo_works_carry_real_isbn13s() -> None:
    records = demo_records()
    isbns = [isbn for record in records for isbn in record.isbns]

    assert len(isbns) >= 300
    assert len(set(isbns)) == len(isbns)
    for isbn in isbns:
        assert len(isbn) == 13 and isbn.isdigit() and isbn.startswith(("978", "979")), isbn
        assert isbn[-1] == isbn13_check_digit(isbn[:12]), isbn
    for record in records:
        for isbn in record.isbns:
            # Chinese works: mainland editions (group 7); the rest: English-language editions.
            group = ("9787",) if record.language == "chi" else ("9780", "9781")
            assert isbn.startswith(group), (record.title, isbn)
    by_original = {record.original_title: record for record in records if record.original_title}
    assert by_original["三体"].isbns == ("9787536692930",)  # 重庆出版社, 2008
    assert by_original["红楼梦"].isbns == ("9787020002207",)  # 人民文学出版社


def test_the_check_digit_rule_catches_a_typo() -> None:
    assert isbn13_check_digit("978753669293") == "0"
    assert isbn13_check_digit("978753669239") != "0"  # two digits swapped


def test_holdings_are_deterministic_and_spread() -> None:
    records = demo_records()
    kinds = {
        "HBPL": LibraryKind.PUBLIC,
        "HBU": LibraryKind.UNIVERSITY,
        "TYPL": LibraryKind.PUBLIC,
        "BSMS": LibraryKind.SCHOOL,
        "MUSEUM": LibraryKind.PARTNER,
    }

    holdings = demo_holdings(records, kinds)

    assert holdings == demo_holdings(records, kinds)
    assert all(holding.copies >= 1 and holding.call_number for holding in holdings)
    libraries_per_work: dict[int, set[str]] = defaultdict(set)
    for holding in holdings:
        libraries_per_work[holding.work_row].add(holding.library_code)
    assert set(libraries_per_work) == {record.record_number for record in records}
    core_rows = {
        record.record_number
        for record in records
        if (record.original_title or record.title) in CORE_WORKS
    }
    assert len(core_rows) == len(CORE_WORKS)
    assert all(libraries_per_work[row] == set(kinds) for row in core_rows)


def test_a_library_added_later_gets_a_profile_of_its_kind() -> None:
    records = demo_records()[:50]

    holdings = demo_holdings(records, {"NEWSCHOOL": LibraryKind.SCHOOL})

    assert {holding.library_code for holding in holdings} == {"NEWSCHOOL"}
    assert {holding.work_row for holding in holdings} == {
        record.record_number for record in records
    }


# --- seeding -----------------------------------------------------------------------------


async def test_seed_demo_meets_the_minimums(session: AsyncSession) -> None:
    summary = await seed_demo(session, today=today(), zone=ZONE)

    assert summary.districts.created >= 8
    assert summary.libraries.created >= 12
    assert summary.works_created >= 500
    assert summary.events_created >= 15
    assert summary.readers_created == 4
    assert summary.roles_granted == 3
    assert summary.totals == {
        "districts": summary.districts.created,
        "libraries": summary.libraries.created,
        "works": summary.works_created,
        "items": summary.items_created,
        "events": summary.events_created,
        "readers": 4 + summary.activity_readers,
    }
    libraries = list(await session.scalars(select(Library)))
    assert {library.kind for library in libraries} == set(LibraryKind)
    kinds = Counter(library.kind for library in libraries)
    assert kinds[LibraryKind.UNIVERSITY] >= 3
    assert kinds[LibraryKind.PUBLIC] >= 4
    assert kinds[LibraryKind.SCHOOL] >= 2
    assert kinds[LibraryKind.PARTNER] >= 2
    assert all(library.opening_hours for library in libraries)
    assert any(not is_open_on(library.opening_hours, date(2026, 3, 2)) for library in libraries)
    works = list(await session.scalars(select(Work)))
    chinese = sum(work.language == "chi" for work in works)
    assert 0.4 <= chinese / len(works) <= 0.6


async def test_items_are_spread_unevenly_over_the_libraries(session: AsyncSession) -> None:
    await seed_demo(session, today=today(), zone=ZONE)
    libraries = {library.id: library for library in await session.scalars(select(Library))}
    district_codes = {
        district.id: district.code for district in await session.scalars(select(District))
    }
    items = list(await session.scalars(select(Item)))

    per_library = Counter(item.library_id for item in items)
    assert set(per_library) == set(libraries)
    central = next(library.id for library in libraries.values() if library.code == "HBPL")
    assert per_library.most_common(1)[0][0] == central
    libraries_per_work: dict[int, set[int]] = defaultdict(set)
    for item in items:
        libraries_per_work[item.work_id].add(item.library_id)
    spread = Counter(len(held_at) for held_at in libraries_per_work.values())
    assert spread[1] >= 50
    assert spread[len(libraries)] >= 10
    rural = {
        library_id
        for library_id, library in libraries.items()
        if district_codes[library.district_id] in RURAL_DISTRICTS
    }
    city_only = [
        held for held in libraries_per_work.values() if len(held) >= 3 and not held & rural
    ]
    assert len(city_only) >= 100
    statuses = Counter(item.status for item in items)
    assert set(statuses) == {ItemStatus.AVAILABLE, ItemStatus.ON_LOAN}
    assert 0.05 < statuses[ItemStatus.ON_LOAN] / len(items) < 0.3
    assert all((item.due_at is not None) == (item.status is ItemStatus.ON_LOAN) for item in items)
    assert all(item.due_at is None or item.due_at > utcnow() for item in items)
    assert len({item.barcode for item in items}) == len(items)


async def test_events_are_upcoming_and_cover_every_category(session: AsyncSession) -> None:
    day = today()
    await seed_demo(session, today=day, zone=ZONE)
    events = list(await session.scalars(select(Event).options(selectinload(Event.venue_library))))
    organiser = await session.scalar(select(Reader).where(Reader.telegram_id == 1002))

    assert organiser is not None
    now = utcnow()
    assert len([event for event in events if event.starts_at > now]) >= 15
    assert {event.category for event in events} == set(EventCategory) - {EventCategory.OTHER}
    assert min(event.capacity for event in events) <= 10
    assert len({event.checkin_token for event in events}) == len(events)
    for event in events:
        assert event.organiser_id == organiser.id
        assert event.ends_at > event.starts_at
        assert event.district_id is not None
        assert event.title and event.description
        local_day = event.starts_at.astimezone(ZONE).date()
        assert day < local_day <= day + timedelta(days=30)
        if event.venue_library is not None:
            assert is_open_on(event.venue_library.opening_hours, local_day)
        else:
            assert event.place_name and event.latitude and event.longitude


async def test_demo_accounts_are_onboarded_with_their_roles(session: AsyncSession) -> None:
    await seed_demo(session, today=today(), zone=ZONE)
    readers = {
        reader.telegram_id: reader
        for reader in await session.scalars(
            select(Reader).options(selectinload(Reader.roles), selectinload(Reader.district))
        )
    }
    central = await session.scalar(select(Library).where(Library.code == "HBPL"))
    assert central is not None

    accounts = sorted(r for r in readers if r < ACTIVITY_TELEGRAM_BASE)
    assert accounts == [1001, 1002, 1003, 1004]
    for account in DEMO_ACCOUNTS:
        reader = readers[account.telegram_id]
        assert reader.onboarded_at is not None
        assert reader.language in ("zh", "en")
        assert reader.district is not None and reader.district.code == account.district_code
        assert is_valid_card_number(reader.card_number)
        assert reader.first_name.startswith(("演示", "Demo"))
        roles = {(grant.role, grant.library_id) for grant in reader.roles}
        expected: set[tuple[Role, int | None]] = set()
        if account.role is not None:
            expected = {(account.role, central.id if account.library_code else None)}
        assert roles == expected
    # The librarian and the organiser belong to the central library (/broadcast needs it).
    assert {
        (account.role, account.library_code)
        for account in DEMO_ACCOUNTS
        if account.library_code is not None
    } == {(Role.LIBRARIAN, "HBPL"), (Role.ORGANISER, "HBPL")}


async def test_seeding_twice_duplicates_nothing(session: AsyncSession) -> None:
    first = await seed_demo(session, today=today(), zone=ZONE)

    second = await seed_demo(session, today=today(), zone=ZONE)

    assert second.totals == first.totals
    assert (second.districts.created, second.districts.updated) == (0, 0)
    assert second.districts.unchanged == first.districts.created
    assert (second.libraries.created, second.libraries.updated) == (0, 0)
    assert (
        second.readers_created,
        second.roles_granted,
        second.works_created,
        second.isbns_added,
        second.items_created,
        second.events_created,
        second.activity_readers,
        second.searches_logged,
        second.follows_created,
    ) == (0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert first.isbns_added >= 300 and first.follows_created >= 20


async def test_seeding_weeks_later_only_adds_new_upcoming_events(session: AsyncSession) -> None:
    first = await seed_demo(session, today=today() - timedelta(days=40), zone=ZONE)

    later = await seed_demo(session, today=today(), zone=ZONE)

    assert later.events_created == first.events_created
    assert later.totals["events"] == 2 * first.events_created
    assert later.works_created == later.items_created == later.readers_created == 0


async def test_every_library_lies_in_its_district(session: AsyncSession) -> None:
    await seed_demo(session, today=today(), zone=ZONE)
    libraries = list(await session.scalars(select(Library).options(selectinload(Library.district))))
    districts = list(await session.scalars(select(District)))

    places: list[District | Library] = [*districts, *libraries]
    for place in places:
        assert LATITUDES[0] <= place.latitude <= LATITUDES[1], place.code
        assert LONGITUDES[0] <= place.longitude <= LONGITUDES[1], place.code
    for library in libraries:
        district = library.district
        away = distance_km(
            library.latitude, library.longitude, district.latitude, district.longitude
        )
        assert away <= DISTRICT_RADIUS_KM, (library.code, away)
        nearest = min(
            districts,
            key=lambda other: distance_km(
                library.latitude, library.longitude, other.latitude, other.longitude
            ),
        )
        assert nearest.id == district.id, (library.code, nearest.code)
    populations = sorted(district.population for district in districts)
    assert populations[-1] >= 5 * populations[0]
    assert all(
        any(library.district_id == district.id for library in libraries) for district in districts
    )


async def test_seeded_works_have_their_isbns(session: AsyncSession) -> None:
    await seed_demo(session, today=today(), zone=ZONE)
    three_body = await session.scalar(
        select(Work).where(Work.original_title == "三体").options(selectinload(Work.isbns))
    )

    assert three_body is not None
    assert [isbn.isbn for isbn in three_body.isbns] == ["9787536692930"]
    stored = set(await session.scalars(select(WorkIsbn.isbn)))
    assert stored == {isbn for record in demo_records() for isbn in record.isbns}


async def test_readers_follow_libraries_and_the_organiser_has_followers(
    session: AsyncSession,
) -> None:
    await seed_demo(session, today=today(), zone=ZONE)
    libraries = {library.id: library for library in await session.scalars(select(Library))}
    readers = {reader.id: reader for reader in await session.scalars(select(Reader))}
    follows = [
        (readers[reader_id], libraries[library_id])
        for reader_id, library_id in (
            await session.execute(select(LibraryFollow.reader_id, LibraryFollow.library_id))
        ).all()
    ]
    followed_by: dict[int, set[str]] = defaultdict(set)
    for reader, library in follows:
        followed_by[reader.telegram_id].add(library.code)

    assert followed_by[1001] == {"HBPL", "HBPL-XS"}
    assert all(
        followed_by[reader.telegram_id]
        for reader in readers.values()
        if reader.telegram_id > ACTIVITY_TELEGRAM_BASE
    )
    # A district's readers follow a library of their district.
    assert all(
        library.district_id == reader.district_id
        for reader, library in follows
        if reader.telegram_id > ACTIVITY_TELEGRAM_BASE
    )
    central_followers = {
        reader.telegram_id for reader, library in follows if library.code == "HBPL"
    }
    assert 1001 in central_followers and len(central_followers) >= 5
