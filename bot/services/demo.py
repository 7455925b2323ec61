"""The demo alliance of Haibin (海滨市), a fictional coastal city, seeded from packaged data.

The data files live in the package ``bot.demo`` and are read with importlib.resources:

* ``districts.csv`` and ``libraries.csv``: member data in the import format of
  ``bot.services.members`` (9 districts, from the dense harbour district to rural
  Taoyuan County and the fishing villages of Yuwan; 16 libraries of all four kinds).
* ``catalogue.csv``: real, well-known works in the catalogue CSV format of
  ``bot.catalogue.csv_rows``, about half Chinese. Chinese rows: ``original_title`` and
  ``original_authors`` in Chinese characters; ``title`` is the Hanyu Pinyin
  romanisation in Library of Congress style (syllables separated, proper names joined
  and capitalised), followed by a published or customary English title in brackets when
  one exists, e.g. ``Hong lou meng (Dream of the Red Chamber)``; ``authors`` are
  romanised "Surname, Given" (``Cao, Xueqin``). English-language rows (originals and
  English translations) have no original-script fields. ``year`` is the year of first
  publication, empty for ancient texts; ``isbn`` is always empty (no edition is
  implied); ``subjects`` come in English/Chinese pairs. Barcode, call number and copies
  are empty: copies are placed by ``demo_holdings``.
* ``events.json``: upcoming reading events, with day offsets from "today" and local
  times, at member libraries (by code) or at named places with coordinates.

Holdings (``demo_holdings``) are derived, not stored: each work falls in one collection
(children, genre, science, humanities, classics or literature), each library has a
collecting profile (the share of each collection it holds, less for English-language
works at the periphery, more for the sea at the ocean university and the museum), and
generators seeded with the work's key and the library's code decide, so the result is
the same on every run and one library's holdings do not depend on the other libraries
(except for works held by a single library). A dozen core works are at every
library; about a fifth of the works are held by a single library; the libraries of
the rural districts hold few English-language works and no science or humanities
beyond the core works.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue.reading import read_records
from bot.catalogue.records import BibRecord
from bot.models import (
    District,
    Event,
    EventAudience,
    EventCategory,
    Item,
    ItemStatus,
    Library,
    LibraryKind,
    Reader,
    Role,
    RoleGrant,
    SearchLog,
    Work,
    utcnow,
)
from bot.services.errors import DomainError
from bot.services.members import (
    MemberImportReport,
    import_districts,
    import_libraries,
    is_open_on,
)
from bot.services.readers import new_card_number

__all__ = [
    "CENTRAL_LIBRARY",
    "DEMO_ACCOUNTS",
    "DemoAccount",
    "DemoDataError",
    "DemoHolding",
    "DemoSummary",
    "demo_catalogue_path",
    "demo_holdings",
    "demo_records",
    "seed_demo",
]

DEMO_PACKAGE = "bot.demo"
CENTRAL_LIBRARY = "HBPL"
HOLDINGS_SEED = "haibin"
ON_LOAN_SHARE = 0.15
SINGLE_LIBRARY_SHARE = 0.15


class DemoDataError(DomainError):
    """The packaged demo data is broken (a bug in the data files, not the user's fault)."""


@dataclass(frozen=True)
class DemoAccount:
    """A sandbox account of the demo: not a person, a role to try the bot as."""

    telegram_id: int
    first_name: str
    username: str
    language: str
    district_code: str
    role: Role | None = None
    library_code: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount(1001, "演示读者", "demo_reader", "zh", "XISHAN"),
    DemoAccount(1002, "演示活动组织者", "demo_organiser", "zh", "GANGKOU", Role.ORGANISER),
    DemoAccount(
        1003, "演示馆员", "demo_librarian", "zh", "GANGKOU", Role.LIBRARIAN, CENTRAL_LIBRARY
    ),
    DemoAccount(1004, "Demo admin", "demo_admin", "en", "GAOXIN", Role.ADMIN),
)
ORGANISER_TELEGRAM_ID = 1002


@dataclass(frozen=True)
class DemoHolding:
    """Copies of one catalogue row (``work_row``: 1-based data row) at one library."""

    work_row: int
    library_code: str
    copies: int
    call_number: str


@dataclass
class DemoSummary:
    """What seeding created; zero counts on a second run show it was already seeded."""

    districts: MemberImportReport
    libraries: MemberImportReport
    readers_created: int = 0
    roles_granted: int = 0
    works_created: int = 0
    items_created: int = 0
    events_created: int = 0
    activity_readers: int = 0
    searches_logged: int = 0
    totals: dict[str, int] = field(default_factory=dict)


# --- data files ---------------------------------------------------------------------------


def _data_text(name: str) -> str:
    return files(DEMO_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def demo_catalogue_path() -> Path:
    """The packaged demo catalogue (a catalogue CSV, ``bot.catalogue.csv_rows``) on disk."""
    resource = files(DEMO_PACKAGE).joinpath("catalogue.csv")
    if not isinstance(resource, Path):
        raise DemoDataError("the demo catalogue is not on the file system (zipped install?)")
    return resource


def demo_records() -> list[BibRecord]:
    """The records of the demo catalogue, in file order."""
    records: list[BibRecord] = []
    for record in read_records(demo_catalogue_path(), format="csv"):
        if not isinstance(record, BibRecord):
            raise DemoDataError(f"demo catalogue record {record.record_number}: {record.reason}")
        records.append(record)
    return records


# --- holdings -----------------------------------------------------------------------------

# Held by every library: the four classic novels and a few works every reader asks for.
CORE_WORKS = frozenset(
    {
        "红楼梦",
        "西游记",
        "三国演义",
        "水浒传",
        "论语",
        "唐诗三百首",
        "三体",
        "平凡的世界",
        "活着",
        "草房子",
        "Harry Potter and the Philosopher's Stone",
        "The Little Prince",
    }
)

_CHILDREN = frozenset({"Children's literature", "Chinese children's literature", "Picture books"})
_GENRE = frozenset(
    {"Science fiction", "Fantasy", "Detective and mystery fiction", "Martial arts fiction"}
)
_SCIENCE = frozenset(
    {
        "Popular science",
        "Mathematics",
        "Physics and astronomy",
        "Biology",
        "Medicine",
        "Nature",
        "Technology",
        "History of science and technology",
    }
)
_HUMANITIES = frozenset(
    {
        "History",
        "Chinese history",
        "Biography and memoir",
        "Philosophy",
        "Chinese classics",
        "Society",
        "Economics",
        "Psychology",
        "Art",
        "Reading and writing",
        "Travel and exploration",
        "Language and writing systems",
        "Literary criticism",
    }
)
SEA_SUBJECT = "The sea"


def _collection(record: BibRecord) -> str:
    subjects = set(record.subjects)
    if subjects & _CHILDREN:
        return "children"
    if subjects & _GENRE:
        return "genre"
    if subjects & _SCIENCE:
        return "science"
    if subjects & _HUMANITIES:
        return "humanities"
    return "classics" if record.year is None or record.year < 1950 else "literature"


@dataclass(frozen=True)
class _Profile:
    shares: Mapping[str, float]
    english: float = 1.0
    sea: float = 0.0
    max_copies: int = 1


_PROFILES: dict[str, _Profile] = {
    "HBPL": _Profile(
        {
            "classics": 0.8,
            "literature": 0.8,
            "genre": 0.7,
            "children": 0.5,
            "science": 0.6,
            "humanities": 0.7,
        },
        english=0.8,
        sea=0.8,
        max_copies=3,
    ),
    "HBPL-CH": _Profile(
        {"children": 0.9, "science": 0.3, "genre": 0.15, "classics": 0.1}, english=0.8, max_copies=2
    ),
    "HBPL-XS": _Profile(
        {
            "literature": 0.45,
            "genre": 0.45,
            "children": 0.35,
            "classics": 0.35,
            "science": 0.25,
            "humanities": 0.2,
        },
        english=0.5,
        max_copies=2,
    ),
    "HBPL-DH": _Profile(
        {
            "literature": 0.4,
            "genre": 0.45,
            "children": 0.35,
            "classics": 0.3,
            "science": 0.3,
            "humanities": 0.2,
        },
        english=0.6,
        sea=0.3,
        max_copies=2,
    ),
    "NLPL": _Profile(
        {"literature": 0.15, "genre": 0.15, "children": 0.25, "classics": 0.2}, english=0.15
    ),
    "TYPL": _Profile(
        {"literature": 0.12, "genre": 0.12, "children": 0.2, "classics": 0.2}, english=0.1
    ),
    "YWRR": _Profile({"children": 0.08, "classics": 0.06, "literature": 0.04}, english=0.0),
    "HBU": _Profile(
        {
            "literature": 0.6,
            "classics": 0.6,
            "humanities": 0.8,
            "science": 0.8,
            "genre": 0.35,
            "children": 0.03,
        },
        max_copies=2,
    ),
    "HOU": _Profile(
        {"science": 0.6, "humanities": 0.2, "literature": 0.15, "genre": 0.2}, sea=0.95
    ),
    "HNC": _Profile(
        {
            "children": 0.55,
            "literature": 0.55,
            "classics": 0.65,
            "humanities": 0.45,
            "science": 0.3,
            "genre": 0.2,
        },
        english=0.9,
    ),
    "HVC": _Profile(
        {"science": 0.3, "genre": 0.3, "literature": 0.2, "classics": 0.1, "humanities": 0.1},
        english=0.6,
    ),
    "HBNO1": _Profile(
        {"children": 0.3, "classics": 0.35, "literature": 0.2, "science": 0.3, "genre": 0.2},
        english=0.6,
    ),
    "DHPS": _Profile({"children": 0.5, "science": 0.15, "classics": 0.05}, english=0.5),
    "BSMS": _Profile({"children": 0.15, "classics": 0.15, "literature": 0.05}, english=0.0),
    "SEABREEZE": _Profile(
        {
            "literature": 0.3,
            "genre": 0.35,
            "children": 0.2,
            "science": 0.15,
            "humanities": 0.15,
            "classics": 0.1,
        },
        english=0.7,
    ),
    "MUSEUM": _Profile({"humanities": 0.25, "classics": 0.1}, english=0.3, sea=0.6),
}
# Libraries added later (not in the demo files) collect like a small member of their kind.
_DEFAULT_PROFILES = {
    LibraryKind.UNIVERSITY: _PROFILES["HVC"],
    LibraryKind.PUBLIC: _PROFILES["NLPL"],
    LibraryKind.SCHOOL: _PROFILES["BSMS"],
    LibraryKind.PARTNER: _Profile({"literature": 0.1, "genre": 0.1}),
}

# Chinese Library Classification (中图法) classes used as demo call numbers.
_NATIONAL_LITERATURE = {
    "British literature": "I561",
    "Irish literature": "I562",
    "American literature": "I712",
    "Canadian literature": "I711",
    "Australian literature": "I611",
    "Nigerian literature": "I437",
    "Indian literature": "I351",
    "Lebanese literature": "I378",
    "Ancient Greek literature": "I545",
    "Italian literature": "I546",
    "Spanish literature": "I551",
    "German literature": "I516",
    "Austrian literature": "I521",
    "French literature": "I565",
    "Russian literature": "I512",
    "Norwegian literature": "I533",
    "Swedish literature": "I532",
    "Danish literature": "I534",
    "Finnish literature": "I531",
    "Swiss literature": "I522",
    "Dutch literature": "I563",
    "Czech literature": "I524",
    "Turkish literature": "I374",
    "Colombian literature": "I775",
    "Argentine literature": "I783",
    "Brazilian literature": "I777",
    "Japanese literature": "I313",
}
_FORM_SUFFIX = {
    "Poetry": ".2",
    "Drama": ".3",
    "Essays": ".6",
    "Children's literature": ".8",
    "Picture books": ".8",
}
_SUBJECT_CLASSES = {
    "Classical Chinese fiction": "I242",
    "Classical Chinese poetry": "I222",
    "Classical Chinese drama": "I237",
    "Classical Chinese prose": "I262",
    "Modern Chinese fiction": "I246",
    "Contemporary Chinese fiction": "I247",
    "Martial arts fiction": "I247",
    "Modern Chinese poetry": "I22",
    "Chinese essays": "I26",
    "Chinese drama": "I23",
    "Chinese children's literature": "I28",
    "Literary criticism": "I206",
    "Chinese classics": "B22",
    "Chinese history": "K2",
    "History of science and technology": "N09",
    "Popular science": "N49",
    "Mathematics": "O1",
    "Physics and astronomy": "O4",
    "Biology": "Q",
    "Medicine": "R",
    "Nature": "Q",
    "The sea": "P7",
    "History": "K",
    "Biography and memoir": "K81",
    "Philosophy": "B",
    "Society": "C91",
    "Economics": "F",
    "Psychology": "B84",
    "Art": "J",
    "Reading and writing": "G792",
    "Travel and exploration": "K91",
    "Technology": "T",
    "Language and writing systems": "H1",
}


def demo_call_number(record: BibRecord) -> str:
    """A Chinese Library Classification class for the record, used as its call number."""
    for subject in record.subjects:
        if subject in _NATIONAL_LITERATURE:
            suffix = next(
                (_FORM_SUFFIX[form] for form in record.subjects if form in _FORM_SUFFIX), ".4"
            )
            return _NATIONAL_LITERATURE[subject] + suffix
    if record.language == "chi" and set(record.subjects) & _GENRE:
        return "I247"
    for subject in record.subjects:
        if subject in _SUBJECT_CLASSES:
            return _SUBJECT_CLASSES[subject]
    return "Z"


def _chance(profile: _Profile, record: BibRecord, collection: str) -> float:
    share = profile.shares.get(collection, 0.0)
    if SEA_SUBJECT in record.subjects:
        share = max(share, profile.sea)
    if record.language != "chi":
        share *= profile.english
    return min(share, 1.0)


def _copies(rng: random.Random, profile: _Profile) -> int:
    if profile.max_copies == 1 or rng.random() < 0.7:
        return 1
    return rng.randint(2, profile.max_copies)


def demo_holdings(
    records: Sequence[BibRecord],
    libraries: Mapping[str, LibraryKind],
    *,
    seed: str = HOLDINGS_SEED,
) -> list[DemoHolding]:
    """Which library holds how many copies of each record: deterministic, see the module doc."""
    profiles = {
        code: _PROFILES.get(code, _DEFAULT_PROFILES[kind]) for code, kind in libraries.items()
    }
    codes = sorted(profiles)
    fallback = CENTRAL_LIBRARY if CENTRAL_LIBRARY in profiles else (codes[0] if codes else None)
    holdings: list[DemoHolding] = []
    for record in records:
        call_number = demo_call_number(record)
        # One generator per work and per (work, library): a library's draws never depend
        # on which other libraries exist.
        draws = {code: random.Random(f"{seed}:{record.work_key}:{code}") for code in codes}
        if (record.original_title or record.title) in CORE_WORKS:
            for code in codes:
                copies = (
                    profiles[code].max_copies + 1 if code == fallback else draws[code].randint(1, 2)
                )
                holdings.append(DemoHolding(record.record_number, code, copies, call_number))
            continue
        collection = _collection(record)
        chances = {code: _chance(profiles[code], record, collection) for code in codes}
        included = [code for code in codes if draws[code].random() < chances[code]]
        # Weighted choice of one library (Efraimidis-Spirakis keys), for single holdings.
        keys = {
            code: draws[code].random() ** (1 / chances[code]) for code in codes if chances[code]
        }
        single = random.Random(f"{seed}:{record.work_key}").random() < SINGLE_LIBRARY_SHARE
        if keys and (single or not included):
            included = [max(keys, key=keys.__getitem__)]
        elif not included:
            included = [fallback] if fallback else []
        holdings.extend(
            DemoHolding(
                record.record_number, code, _copies(draws[code], profiles[code]), call_number
            )
            for code in included
        )
    return holdings


# --- seeding ------------------------------------------------------------------------------


async def _seed_readers(
    session: AsyncSession,
    districts: Mapping[str, District],
    libraries: Mapping[str, Library],
    summary: DemoSummary,
) -> dict[int, Reader]:
    telegram_ids = [account.telegram_id for account in DEMO_ACCOUNTS]
    found = await session.scalars(select(Reader).where(Reader.telegram_id.in_(telegram_ids)))
    readers = {reader.telegram_id: reader for reader in found}
    taken = set(await session.scalars(select(Reader.card_number)))
    for account in DEMO_ACCOUNTS:
        reader = readers.get(account.telegram_id)
        if reader is None:
            card_number = new_card_number()
            while card_number in taken:
                card_number = new_card_number()
            taken.add(card_number)
            district = districts[account.district_code]
            reader = Reader(
                telegram_id=account.telegram_id,
                chat_id=account.telegram_id,
                first_name=account.first_name,
                username=account.username,
                language=account.language,
                district_id=district.id,
                latitude=round(district.latitude, 3),
                longitude=round(district.longitude, 3),
                card_number=card_number,
                onboarded_at=utcnow(),
            )
            session.add(reader)
            await session.flush()
            readers[account.telegram_id] = reader
            summary.readers_created += 1
        if account.role is None:
            continue
        library_id = libraries[account.library_code].id if account.library_code else None
        grant = await session.scalar(
            select(RoleGrant.id).where(
                RoleGrant.reader_id == reader.id,
                RoleGrant.role == account.role,
                RoleGrant.library_id.is_(None)
                if library_id is None
                else RoleGrant.library_id == library_id,
            )
        )
        if grant is None:
            session.add(RoleGrant(reader_id=reader.id, role=account.role, library_id=library_id))
            summary.roles_granted += 1
    await session.flush()
    return readers


def _due_at(rng: random.Random, today: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(today + timedelta(days=rng.randint(1, 28)), time(21, 0), zone)


async def _seed_catalogue(
    session: AsyncSession,
    libraries: Mapping[str, Library],
    summary: DemoSummary,
    *,
    today: date,
    zone: ZoneInfo,
) -> None:
    records = demo_records()
    keys = [record.work_key for record in records]
    found = await session.execute(select(Work.work_key, Work.id).where(Work.work_key.in_(keys)))
    work_ids: dict[str, int] = dict(found.all())
    new_works: dict[str, Work] = {}
    for record in records:
        if record.work_key in work_ids or record.work_key in new_works:
            continue
        new_works[record.work_key] = Work(
            title=record.title,
            original_title=record.original_title,
            authors=list(record.authors),
            original_authors=list(record.original_authors),
            subjects=list(record.subjects),
            language=record.language,
            year=record.year,
            publisher=record.publisher,
            summary=record.summary,
            work_key=record.work_key,
        )
    session.add_all(new_works.values())
    await session.flush()
    work_ids.update({key: work.id for key, work in new_works.items()})
    summary.works_created = len(new_works)

    kinds = {code: library.kind for code, library in libraries.items()}
    holdings = demo_holdings(records, kinds)
    barcodes = {
        f"{holding.library_code}-{holding.work_row:04d}-{copy}"
        for holding in holdings
        for copy in range(1, holding.copies + 1)
    }
    existing = set(await session.scalars(select(Item.barcode).where(Item.barcode.in_(barcodes))))
    rows = {record.record_number: record for record in records}
    items: list[Item] = []
    for holding in holdings:
        for copy in range(1, holding.copies + 1):
            barcode = f"{holding.library_code}-{holding.work_row:04d}-{copy}"
            if barcode in existing:
                continue
            rng = random.Random(f"{HOLDINGS_SEED}:{barcode}")
            on_loan = rng.random() < ON_LOAN_SHARE
            items.append(
                Item(
                    work_id=work_ids[rows[holding.work_row].work_key],
                    library_id=libraries[holding.library_code].id,
                    barcode=barcode,
                    call_number=holding.call_number,
                    status=ItemStatus.ON_LOAN if on_loan else ItemStatus.AVAILABLE,
                    due_at=_due_at(rng, today, zone) if on_loan else None,
                )
            )
    session.add_all(items)
    await session.flush()
    summary.items_created = len(items)


def _event_specs() -> list[dict[str, Any]]:
    specs = json.loads(_data_text("events.json"))
    if not isinstance(specs, list):
        raise DemoDataError("events.json must hold a list of events")
    return specs


async def _seed_events(
    session: AsyncSession,
    districts: Mapping[str, District],
    libraries: Mapping[str, Library],
    organiser: Reader,
    summary: DemoSummary,
    *,
    today: date,
    zone: ZoneInfo,
) -> None:
    start_of_today = datetime.combine(today, time(0, 0), zone)
    upcoming = set(
        await session.scalars(
            select(Event.title).where(
                Event.organiser_id == organiser.id, Event.starts_at >= start_of_today
            )
        )
    )
    for spec in _event_specs():
        title = str(spec["title"])
        if title in upcoming:
            continue
        day = today + timedelta(days=int(spec["day_offset"]))
        venue = libraries[spec["venue"]] if spec.get("venue") else None
        place: dict[str, Any] = spec.get("place") or {}
        if venue is not None:
            # Never on a day the venue is closed: move to its next open day.
            for _ in range(7):
                if is_open_on(venue.opening_hours, day):
                    break
                day += timedelta(days=1)
        starts_at = datetime.combine(day, time.fromisoformat(spec["start"]), zone)
        session.add(
            Event(
                title=title,
                description=str(spec["description"]),
                category=EventCategory(spec["category"]),
                audience=EventAudience(spec.get("audience", "everyone")),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=int(spec["duration_minutes"])),
                venue_library_id=venue.id if venue else None,
                place_name=place.get("name"),
                latitude=float(place["lat"]) if place else None,
                longitude=float(place["lon"]) if place else None,
                district_id=(venue.district_id if venue else districts[str(place["district"])].id),
                capacity=int(spec["capacity"]),
                organiser_id=organiser.id,
                partners=[str(partner) for partner in spec.get("partners", [])],
                checkin_token=secrets.token_urlsafe(12),
            )
        )
        summary.events_created += 1
    await session.flush()


# Reach (bot.services.reach) needs some activity to rank the districts: per district, readers
# who searched in the last weeks and readers who did nothing yet. Nanling and Taoyuan get
# only idle readers, so /reach marks them under-reached and a campaign there has recipients.
DEMO_ACTIVITY: tuple[tuple[str, int, int], ...] = (
    ("GANGKOU", 6, 0),
    ("XISHAN", 4, 0),
    ("DONGHAI", 5, 0),
    ("GAOXIN", 3, 0),
    ("JINGKAI", 3, 0),
    ("NANLING", 0, 2),
    ("BAISHA", 1, 0),
    ("TAOYUAN", 0, 1),
    ("YUWAN", 1, 0),
)
ACTIVITY_TELEGRAM_BASE = 2001
ACTIVITY_QUERIES = ("红楼梦", "海错图", "Moby Dick", "三体", "poetry", "鲁迅")


async def _seed_activity(
    session: AsyncSession,
    districts: Mapping[str, District],
    summary: DemoSummary,
    *,
    today: date,
    zone: ZoneInfo,
) -> None:
    """Demo readers in every district, some with searches in the last weeks (idempotent)."""
    telegram_id = ACTIVITY_TELEGRAM_BASE
    existing = set(
        await session.scalars(
            select(Reader.telegram_id).where(Reader.telegram_id >= ACTIVITY_TELEGRAM_BASE)
        )
    )
    taken = set(await session.scalars(select(Reader.card_number)))
    for code, active, idle in DEMO_ACTIVITY:
        district = districts.get(code)
        for number in range(active + idle):
            telegram_id += 1
            if district is None or telegram_id in existing:
                continue
            card_number = new_card_number()
            while card_number in taken:
                card_number = new_card_number()
            taken.add(card_number)
            reader = Reader(
                telegram_id=telegram_id,
                chat_id=telegram_id,
                first_name=f"{district.name}读者{number + 1}",
                language="zh" if number % 2 == 0 else "en",
                district_id=district.id,
                card_number=card_number,
                onboarded_at=utcnow(),
            )
            session.add(reader)
            await session.flush()
            summary.activity_readers += 1
            if number >= active:
                continue
            for search in range(number % 3 + 1):
                moment = datetime.combine(
                    today - timedelta(days=3 + 5 * number + search), time(10 + search), zone
                )
                session.add(
                    SearchLog(
                        reader_id=reader.id,
                        district_id=district.id,
                        query=ACTIVITY_QUERIES[(number + search) % len(ACTIVITY_QUERIES)],
                        hit_count=1,
                        source="chat",
                        created_at=moment,
                    )
                )
                summary.searches_logged += 1
    await session.flush()


async def _totals(session: AsyncSession) -> dict[str, int]:
    totals: dict[str, int] = {}
    for name, model in (
        ("districts", District),
        ("libraries", Library),
        ("works", Work),
        ("items", Item),
        ("events", Event),
        ("readers", Reader),
    ):
        totals[name] = await session.scalar(select(func.count()).select_from(model)) or 0
    return totals


async def seed_demo(session: AsyncSession, *, today: date, zone: ZoneInfo) -> DemoSummary:
    """Seed the demo alliance (idempotent: a second run adds nothing) in one transaction."""
    try:
        districts_report = await import_districts(
            session, _data_text("districts.csv"), commit=False
        )
        if not districts_report.ok:
            raise DemoDataError(districts_report.describe())
        libraries_report = await import_libraries(
            session, _data_text("libraries.csv"), commit=False
        )
        if not libraries_report.ok:
            raise DemoDataError(libraries_report.describe())
        summary = DemoSummary(districts_report, libraries_report)
        districts = {
            district.code: district for district in await session.scalars(select(District))
        }
        libraries = {library.code: library for library in await session.scalars(select(Library))}
        readers = await _seed_readers(session, districts, libraries, summary)
        await _seed_catalogue(session, libraries, summary, today=today, zone=zone)
        await _seed_events(
            session,
            districts,
            libraries,
            readers[ORGANISER_TELEGRAM_ID],
            summary,
            today=today,
            zone=zone,
        )
        await _seed_activity(session, districts, summary, today=today, zone=zone)
        summary.totals = await _totals(session)
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    return summary
