"""Admins add and edit districts and libraries: one at a time (wizard) or by CSV with a preview.

The wizard's values are checked with the same rules as the CSV import in
``bot.services.members`` (code format, coordinates, population, kind, opening hours); a
CSV upload is first imported inside a transaction that is rolled back, to show what would
change, and only a confirmation imports it for real (all or nothing).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import District, Library, LibraryKind, Reader
from bot.services import audit, members
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.members import Entity, MemberImportReport
from bot.services.opening_hours import OpeningHoursError, parse_opening_hours

__all__ = [
    "DistrictValues",
    "Entity",
    "ImportPreview",
    "LibraryValues",
    "MemberInputError",
    "apply_import",
    "check_code",
    "check_coordinates",
    "check_kind",
    "check_name",
    "check_opening_hours",
    "check_population",
    "district_of",
    "ensure_new_code",
    "find_district",
    "find_library",
    "preview_import",
    "save_district",
    "save_library",
]

DISTRICT_NAME_LIMIT = 100
LIBRARY_NAME_LIMIT = 200
ADDRESS_LIMIT = 300
HOURS_LIMIT = 300
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_COORDINATES = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*[,，\s]\s*([-+]?\d+(?:\.\d+)?)\s*")
_WHOLE = re.compile(r"[+-]?\d[\d_,]*")


class MemberInputError(InvalidInputError):
    """A wizard value was refused; ``code`` and ``params`` let a handler say why."""

    def __init__(self, code: str, **params: str | int | float) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def check_code(text: str) -> str:
    """A district or library code: 1-32 of ``A-Z a-z 0-9 _ . -``, starting alphanumeric."""
    code = text.strip()
    if len(code) > members.CODE_MAX_LENGTH:
        raise MemberInputError("code_too_long", limit=members.CODE_MAX_LENGTH)
    if not _CODE.fullmatch(code):
        raise MemberInputError("bad_code")
    return code


def check_name(text: str, limit: int) -> str:
    """A non-empty name of at most ``limit`` characters."""
    name = " ".join(text.split())
    if not name:
        raise MemberInputError("empty")
    if len(name) > limit:
        raise MemberInputError("too_long", limit=limit)
    return name


POPULATION_MAX = 2_000_000_000


def check_population(text: str) -> int:
    """A whole number of inhabitants, at least 0 (``1,200,000`` and ``1_200_000`` are fine)."""
    cleaned = text.strip()
    if not _WHOLE.fullmatch(cleaned):
        raise MemberInputError("bad_population")
    number = int(cleaned.replace("_", "").replace(",", ""))
    if number < 0:
        raise MemberInputError("negative_population")
    if number > POPULATION_MAX:
        raise MemberInputError("population_too_large", limit=f"{POPULATION_MAX:,}")
    return number


def check_coordinates(text: str) -> tuple[float, float]:
    """``latitude, longitude`` in decimal degrees, within -90..90 and -180..180."""
    match = _COORDINATES.fullmatch(text)
    if match is None:
        raise MemberInputError("bad_coordinates")
    latitude, longitude = float(match[1]), float(match[2])
    if not math.isfinite(latitude) or not -90 <= latitude <= 90:
        raise MemberInputError("latitude_out_of_range", value=latitude)
    if not math.isfinite(longitude) or not -180 <= longitude <= 180:
        raise MemberInputError("longitude_out_of_range", value=longitude)
    return latitude, longitude


def check_kind(text: str) -> LibraryKind:
    """university, public, school or partner."""
    try:
        return LibraryKind(text.strip().lower())
    except ValueError:
        raise MemberInputError("unknown_kind") from None


def check_opening_hours(text: str) -> str:
    """Opening hours in the documented OpenStreetMap subset; ``-`` means not published."""
    hours = " ".join(text.split())
    if hours in ("", "-"):
        return ""
    if len(hours) > HOURS_LIMIT:
        raise MemberInputError("too_long", limit=HOURS_LIMIT)
    try:
        parse_opening_hours(hours)
    except OpeningHoursError as exc:
        raise MemberInputError("bad_opening_hours", **exc.params()) from None
    return hours


async def find_district(session: AsyncSession, code: str) -> District:
    """A district by code (case-insensitive)."""
    district = await session.scalar(
        select(District).where(func.lower(District.code) == code.strip().lower())
    )
    if district is None:
        raise NotFoundError("district")
    return district


async def find_library(session: AsyncSession, code: str) -> Library:
    """A library by code (case-insensitive)."""
    library = await session.scalar(
        select(Library).where(func.lower(Library.code) == code.strip().lower())
    )
    if library is None:
        raise NotFoundError("library")
    return library


async def district_of(session: AsyncSession, library: Library) -> District:
    """The district a library is in."""
    district = await session.get(District, library.district_id)
    if district is None:
        raise NotFoundError("district")
    return district


async def ensure_new_code(session: AsyncSession, entity: Entity, code: str) -> None:
    """Refuse a code another district (or library) already has, ignoring letter case."""
    model = District if entity == "districts" else Library
    taken = await session.scalar(
        select(model.code).where(func.lower(model.code) == code.strip().lower())
    )
    if taken is not None:
        raise MemberInputError("duplicate_code", value=taken)


@dataclass
class DistrictValues:
    """A district to add, or the new values of one being edited."""

    code: str
    name: str = ""
    name_en: str | None = None
    population: int = 0
    latitude: float = 0.0
    longitude: float = 0.0


@dataclass
class LibraryValues:
    """A library to add, or the new values of one being edited."""

    code: str
    name: str = ""
    name_en: str | None = None
    kind: LibraryKind = LibraryKind.PUBLIC
    district_code: str = ""
    address: str = ""
    address_en: str | None = None
    latitude: float = 0.0
    longitude: float = 0.0
    opening_hours: str = ""
    is_pickup_point: bool = True


def _changes(target: object, values: dict[str, object]) -> dict[str, object]:
    changed = {name: value for name, value in values.items() if getattr(target, name) != value}
    for name, value in changed.items():
        setattr(target, name, value)
    return changed


async def save_district(
    session: AsyncSession, actor: Reader, draft: DistrictValues, *, editing: bool
) -> District:
    """Create the district (its code must be new) or update the one with the draft's code."""
    code = check_code(draft.code)
    values: dict[str, object] = {
        "name": check_name(draft.name, DISTRICT_NAME_LIMIT),
        "name_en": check_name(draft.name_en, DISTRICT_NAME_LIMIT) if draft.name_en else None,
        "population": draft.population,
        "latitude": draft.latitude,
        "longitude": draft.longitude,
    }
    check_population(str(draft.population))
    check_coordinates(f"{draft.latitude},{draft.longitude}")
    try:
        async with write(session):
            if editing:
                district = await find_district(session, code)
                changed = _changes(district, values)
                audit.record(
                    session,
                    actor,
                    "district.update",
                    target_type="district",
                    target_id=district.id,
                    code=district.code,
                    fields=sorted(changed),
                )
            else:
                await ensure_new_code(session, "districts", code)
                district = District(code=code, **values)
                session.add(district)
                await session.flush()
                audit.record(
                    session,
                    actor,
                    "district.create",
                    target_type="district",
                    target_id=district.id,
                    code=code,
                )
    except IntegrityError:
        await session.rollback()
        raise MemberInputError("duplicate_code", value=code) from None
    return district


def _library_values(draft: LibraryValues, district: District) -> dict[str, object]:
    check_coordinates(f"{draft.latitude},{draft.longitude}")
    return {
        "name": check_name(draft.name, LIBRARY_NAME_LIMIT),
        "name_en": check_name(draft.name_en, LIBRARY_NAME_LIMIT) if draft.name_en else None,
        "kind": check_kind(draft.kind),
        "district_id": district.id,
        "address": draft.address.strip()[:ADDRESS_LIMIT],
        "address_en": check_name(draft.address_en, ADDRESS_LIMIT) if draft.address_en else None,
        "latitude": draft.latitude,
        "longitude": draft.longitude,
        "opening_hours": check_opening_hours(draft.opening_hours),
        "is_pickup_point": draft.is_pickup_point,
    }


async def save_library(
    session: AsyncSession, actor: Reader, draft: LibraryValues, *, editing: bool
) -> Library:
    """Create the library (its code must be new) or update the one with the draft's code."""
    code = check_code(draft.code)
    try:
        district = await find_district(session, draft.district_code)
    except NotFoundError:
        raise MemberInputError("unknown_district", value=draft.district_code) from None
    values = _library_values(draft, district)
    try:
        async with write(session):
            if editing:
                library = await find_library(session, code)
                changed = _changes(library, values)
                audit.record(
                    session,
                    actor,
                    "library.update",
                    target_type="library",
                    target_id=library.id,
                    code=library.code,
                    fields=sorted(changed),
                )
            else:
                await ensure_new_code(session, "libraries", code)
                library = Library(code=code, **values)
                session.add(library)
                await session.flush()
                audit.record(
                    session,
                    actor,
                    "library.create",
                    target_type="library",
                    target_id=library.id,
                    code=code,
                )
    except IntegrityError:
        await session.rollback()
        raise MemberInputError("duplicate_code", value=code) from None
    return library


# --- CSV upload with a preview -----------------------------------------------------------

_DISTRICT_FIELDS = ("name", "name_en", "population", "latitude", "longitude")
_LIBRARY_FIELDS = (
    "name",
    "name_en",
    "kind",
    "district_id",
    "address",
    "address_en",
    "latitude",
    "longitude",
    "opening_hours",
    "is_pickup_point",
)


@dataclass
class ImportPreview:
    """What a CSV would change: new codes, changed codes with their fields; or its problems."""

    report: MemberImportReport
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)


async def _snapshot(session: AsyncSession, entity: Entity) -> dict[str, tuple[object, ...]]:
    if entity == "districts":
        districts = await session.scalars(select(District))
        return {d.code: tuple(getattr(d, name) for name in _DISTRICT_FIELDS) for d in districts}
    libraries = await session.scalars(select(Library))
    return {lib.code: tuple(getattr(lib, name) for name in _LIBRARY_FIELDS) for lib in libraries}


async def _run_import(
    session: AsyncSession, entity: Entity, csv_text: str, *, commit: bool
) -> MemberImportReport:
    if entity == "districts":
        return await members.import_districts(session, csv_text, commit=commit)
    return await members.import_libraries(session, csv_text, commit=commit)


async def preview_import(session: AsyncSession, entity: Entity, csv_text: str) -> ImportPreview:
    """Import the CSV in a transaction that is rolled back: what it would create and change."""
    before = await _snapshot(session, entity)
    try:
        report = await _run_import(session, entity, csv_text, commit=False)
        preview = ImportPreview(report)
        if report.ok:
            after = await _snapshot(session, entity)
            names = _DISTRICT_FIELDS if entity == "districts" else _LIBRARY_FIELDS
            for code, values in sorted(after.items()):
                if code not in before:
                    preview.created.append(code)
                elif values != before[code]:
                    preview.updated[code] = [
                        name
                        for name, old, new in zip(names, before[code], values, strict=True)
                        if old != new
                    ]
    finally:
        await session.rollback()
    return preview


async def apply_import(
    session: AsyncSession, actor: Reader, entity: Entity, csv_text: str
) -> MemberImportReport:
    """Import the CSV for real (all or nothing), with an audit entry when it is accepted."""

    async def run() -> MemberImportReport:
        report = await _run_import(session, entity, csv_text, commit=False)
        if report.ok:
            audit.record(
                session,
                actor,
                "district.import" if entity == "districts" else "library.import",
                target_type=entity,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
            )
        return report

    return await members.committed_import(session, entity, run)
