"""Creating or updating districts and libraries from CSV text, all or nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import District, Library, LibraryKind
from bot.services.members.csv_rows import (
    DISTRICT_COLUMNS,
    DISTRICT_OPTIONAL_COLUMNS,
    LIBRARY_COLUMNS,
    LIBRARY_OPTIONAL_COLUMNS,
    Entity,
    MemberImportReport,
    Problems,
    RowChecker,
    check_duplicate,
    read_table,
)
from bot.services.opening_hours import OpeningHoursError, parse_opening_hours

# --- applying --------------------------------------------------------------------------

FieldValues = dict[str, object]
Member = TypeVar("Member", District, Library)


def _apply(target: object, values: FieldValues) -> bool:
    """Set the fields that differ; whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


async def _store(
    session: AsyncSession,
    model: type[Member],
    staged: list[tuple[str, FieldValues]],
    report: MemberImportReport,
) -> None:
    """Create the new codes and update the known ones (flushed, not committed)."""
    codes = [code for code, _ in staged]
    found = await session.scalars(select(model).where(model.code.in_(codes)))
    existing = {row.code: row for row in found}
    for code, values in staged:
        row = existing.get(code)
        if row is None:
            session.add(model(code=code, **values))
            report.created += 1
        elif _apply(row, values):
            report.updated += 1
        else:
            report.unchanged += 1
    await session.flush()


class _Refused(Exception):
    """An import with problems: its unit of work is rolled back."""


async def committed_import(
    session: AsyncSession,
    entity: Entity,
    run: Callable[[], Awaitable[MemberImportReport]],
) -> MemberImportReport:
    """Run an import that only flushes (and whatever the caller adds, e.g. an audit entry)
    as one unit of work: committed when the file is accepted, rolled back when not; a
    concurrent change to the same codes is reported as a problem."""
    report: MemberImportReport | None = None
    try:
        async with write(session):
            report = await run()
            if not report.ok:
                raise _Refused
    except _Refused:
        assert report is not None
    except IntegrityError:
        await session.rollback()
        report = report or MemberImportReport(entity)
        report.conflict()
    return report


def _district_values(check: RowChecker, columns: frozenset[str]) -> FieldValues:
    values: FieldValues = {
        "name": check.text("name", 100),
        "population": check.population(),
        "latitude": check.coordinate("lat", 90),
        "longitude": check.coordinate("lon", 180),
    }
    if "name_en" in columns:
        values["name_en"] = check.text("name_en", 100, required=False) or None
    return values


async def import_districts(
    session: AsyncSession, csv_text: str, *, commit: bool = True
) -> MemberImportReport:
    """Create or update districts from CSV text, all or nothing (``commit=False``: flush only)."""
    if commit:
        return await committed_import(
            session, "districts", lambda: import_districts(session, csv_text, commit=False)
        )
    report = MemberImportReport("districts")
    problems = Problems()
    table = read_table(csv_text, DISTRICT_COLUMNS, DISTRICT_OPTIONAL_COLUMNS, problems)
    staged: list[tuple[str, FieldValues]] = []
    if table is not None:
        seen: dict[str, int] = {}
        for row in table.rows:
            check = RowChecker(row, problems)
            code = check.code()
            check_duplicate(check, code, seen)
            values = _district_values(check, table.columns)
            if not check.bad and code is not None:
                staged.append((code, values))
    report.problems = problems.items
    if not report.problems:
        await _store(session, District, staged, report)
    return report


def _library_values(
    check: RowChecker, columns: frozenset[str], districts: dict[str, int]
) -> FieldValues:
    values: FieldValues = {
        "name": check.text("name", 200),
        "address": check.text("address", 300, required=False),
        "latitude": check.coordinate("lat", 90),
        "longitude": check.coordinate("lon", 180),
        "opening_hours": check.text("opening_hours", 300, required=False),
    }
    kinds = [kind.value for kind in LibraryKind]
    kind = check.required("kind")
    if kind is not None:
        if kind.lower() in kinds:
            values["kind"] = LibraryKind(kind.lower())
        else:
            check.problem(
                "unknown_kind",
                f"kind {kind!r} is not one of {', '.join(kinds)}",
                value=kind,
                known=", ".join(kinds),
            )
    district_code = check.required("district_code")
    if district_code is not None:
        if district_code in districts:
            values["district_id"] = districts[district_code]
        else:
            known = ", ".join(sorted(districts)) or "(none yet: import districts first)"
            check.problem(
                "unknown_district",
                f"district_code {district_code!r} is not a known district; known: {known}",
                value=district_code,
                known=known,
            )
    hours = values["opening_hours"]
    if isinstance(hours, str) and hours:
        try:
            parse_opening_hours(hours)
        except OpeningHoursError as exc:
            check.problem("bad_opening_hours", f"opening_hours: {exc}", value=hours, **exc.params())
    if "name_en" in columns:
        values["name_en"] = check.text("name_en", 200, required=False) or None
    if "address_en" in columns:
        values["address_en"] = check.text("address_en", 300, required=False) or None
    if "is_pickup_point" in columns:
        values["is_pickup_point"] = check.boolean("is_pickup_point")
    return values


async def import_libraries(
    session: AsyncSession, csv_text: str, *, commit: bool = True
) -> MemberImportReport:
    """Create or update libraries from CSV text, all or nothing (``commit=False``: flush only)."""
    if commit:
        return await committed_import(
            session, "libraries", lambda: import_libraries(session, csv_text, commit=False)
        )
    report = MemberImportReport("libraries")
    problems = Problems()
    table = read_table(csv_text, LIBRARY_COLUMNS, LIBRARY_OPTIONAL_COLUMNS, problems)
    staged: list[tuple[str, FieldValues]] = []
    if table is not None:
        pairs = await session.execute(select(District.code, District.id))
        districts: dict[str, int] = dict(pairs.all())
        seen: dict[str, int] = {}
        for row in table.rows:
            check = RowChecker(row, problems)
            code = check.code()
            check_duplicate(check, code, seen)
            values = _library_values(check, table.columns, districts)
            if not check.bad and code is not None:
                staged.append((code, values))
    report.problems = problems.items
    if not report.problems:
        await _store(session, Library, staged, report)
    return report
