"""Member data: districts and libraries imported from CSV, and library opening hours.

CSV import
==========
``import_districts`` reads the columns ``code,name,population,lat,lon`` and optionally
``name_en``; ``import_libraries`` reads ``code,name,kind,district_code,address,lat,lon,
opening_hours`` and optionally ``name_en,is_pickup_point``. Columns may come in any
order; header names are matched case-insensitively. The text may start with a UTF-8 BOM
and use CRLF line endings; blank lines are skipped; surrounding spaces are trimmed.

* ``code``: 1-32 characters from ``A-Z a-z 0-9 _ . -``, starting with a letter or digit;
  the key of the import (a row whose code exists updates that row, others create one).
* ``population``: a whole number >= 0; ``lat`` -90..90 and ``lon`` -180..180 in decimal
  degrees; ``kind``: university, public, school or partner; ``district_code``: the code
  of a district already in the database; ``opening_hours``: the format below (empty
  means "not published"); ``is_pickup_point``: yes/no, true/false, 1/0 (empty: yes).
* An optional column left out of the file leaves that field of existing rows alone (a
  new row gets no English name and is a pickup point); present but empty, it clears it.

The import is all or nothing: every row is checked first, and if any row (or the header)
is bad nothing is written and the report lists every problem with its line number, an
English reason for the CLI, and a stable ``code`` with ``params`` for translation.

Opening hours
=============
A small subset of OpenStreetMap's ``opening_hours``::

    hours = rule *( ";" rule )
    rule  = days " " ( spans / "off" )
    days  = day-or-range *( "," day-or-range )    e.g. "Mo-Fr", "Sa,Su", "Tu-Th,Sa"
    spans = span *( "," span )                    e.g. "09:00-12:00,13:30-17:00"
    span  = HH:MM "-" HH:MM                       opening before closing, 00:00-23:59

Days are ``Mo Tu We Th Fr Sa Su`` (any letter case); a range may wrap (``Sa-Mo``). Days
no rule names are closed; a later rule replaces what earlier rules said about its days,
so ``Mo-Su 09:00-21:00; Mo off`` is closed on Mondays. Spans of one day may not overlap.
At least one day must be open. Example: ``Tu-Su 09:00-21:00; Mo 14:00-21:00``.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Library, LibraryKind
from bot.services.errors import InvalidInputError

__all__ = [
    "DISTRICT_COLUMNS",
    "LIBRARY_COLUMNS",
    "ImportProblem",
    "MemberImportReport",
    "OpeningHoursError",
    "import_districts",
    "import_libraries",
    "is_open_on",
    "parse_opening_hours",
]

CODE_MAX_LENGTH = 32
DISTRICT_COLUMNS = ("code", "name", "population", "lat", "lon")
DISTRICT_OPTIONAL_COLUMNS = ("name_en",)
LIBRARY_COLUMNS = (
    "code",
    "name",
    "kind",
    "district_code",
    "address",
    "lat",
    "lon",
    "opening_hours",
)
LIBRARY_OPTIONAL_COLUMNS = ("name_en", "is_pickup_point")

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})

ParamValue = str | int | float


# --- opening hours ---------------------------------------------------------------------


class OpeningHoursError(InvalidInputError):
    """Opening hours that do not follow the documented format: why (``reason``), in which
    rule, and the part of it at fault; the message says the same in English (for the CLI)."""

    ENGLISH = {
        "unknown_day": "{rule!r}: unknown day {part!r} (use Mo Tu We Th Fr Sa Su)",
        "not_a_time": "{rule!r}: {part} is not a time of day",
        "not_a_span": "{rule!r}: {part!r} is not HH:MM-HH:MM",
        "closes_before_opens": "{rule!r}: {part} closes before it opens",
        "overlap": "{rule!r}: the opening times overlap",
        "empty_rule": "{rule!r}: an empty rule between semicolons",
        "no_days": "{rule!r}: expected days then hours, e.g. 'Mo-Fr 09:00-17:00' or 'Su off'",
        "never_open": "{rule!r}: no day is open",
    }

    def __init__(self, reason: str, rule: str, part: str = "") -> None:
        super().__init__(self.ENGLISH[reason].format(rule=rule, part=part))
        self.reason = reason
        self.rule = rule
        self.part = part

    def params(self) -> dict[str, ParamValue]:
        """What a translated message needs: the English detail, and its parts."""
        return {"detail": str(self), "fault": self.reason, "rule": self.rule, "part": self.part}


DAY_ABBREVIATIONS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_NUMBERS = {name.lower(): number for number, name in enumerate(DAY_ABBREVIATIONS)}
_RULE = re.compile(r"(?P<days>[A-Za-z]{2}(?:\s*[-,]\s*[A-Za-z]{2})*)\s+(?P<hours>\S.*)")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")

OpeningHours = dict[int, list[tuple[time, time]]]


def _days(text: str, rule: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        ends = [end.strip().lower() for end in part.split("-")]
        if len(ends) > 2 or any(end not in _DAY_NUMBERS for end in ends):
            raise OpeningHoursError("unknown_day", rule, part.strip())
        first, last = _DAY_NUMBERS[ends[0]], _DAY_NUMBERS[ends[-1]]
        days.extend((first + offset) % 7 for offset in range((last - first) % 7 + 1))
    return days


def _clock(hours: str, minutes: str, rule: str) -> time:
    if int(hours) > 23 or int(minutes) > 59:
        raise OpeningHoursError("not_a_time", rule, f"{hours}:{minutes}")
    return time(int(hours), int(minutes))


def _spans(text: str, rule: str) -> list[tuple[time, time]]:
    spans: list[tuple[time, time]] = []
    for part in text.split(","):
        match = _SPAN.fullmatch(part.strip())
        if match is None:
            raise OpeningHoursError("not_a_span", rule, part.strip())
        opens = _clock(match[1], match[2], rule)
        closes = _clock(match[3], match[4], rule)
        if closes <= opens:
            raise OpeningHoursError("closes_before_opens", rule, part.strip())
        spans.append((opens, closes))
    spans.sort()
    for (_, earlier_close), (later_open, _) in itertools.pairwise(spans):
        if later_open < earlier_close:
            raise OpeningHoursError("overlap", rule)
    return spans


def parse_opening_hours(text: str) -> OpeningHours:
    """Weekday (Monday 0) -> opening spans; every day present, closed days empty; "" -> {}."""
    text = text.strip()
    if not text:
        return {}
    hours: OpeningHours = {day: [] for day in range(7)}
    for raw_rule in text.split(";"):
        rule = " ".join(raw_rule.split())
        if not rule:
            raise OpeningHoursError("empty_rule", text)
        match = _RULE.fullmatch(rule)
        if match is None:
            raise OpeningHoursError("no_days", rule)
        spans = [] if match["hours"].lower() == "off" else _spans(match["hours"], rule)
        for day in _days(match["days"], rule):
            hours[day] = list(spans)
    if not any(hours.values()):
        raise OpeningHoursError("never_open", text)
    return hours


_ZH_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def describe_opening_hours(text: str, language: str) -> str:
    """Opening hours as a reader of ``language`` reads them: in Chinese, day names and
    Chinese punctuation (周一至周五 08:00-21:30；周六 休息); as stored otherwise."""
    if language != "zh" or not text.strip():
        return text
    try:
        parse_opening_hours(text)
    except OpeningHoursError:
        return text
    rules = []
    for raw_rule in text.split(";"):
        match = _RULE.fullmatch(" ".join(raw_rule.split()))
        assert match is not None  # it parsed
        days = "、".join(
            "至".join(_ZH_DAYS[_DAY_NUMBERS[end.strip().lower()]] for end in part.split("-"))
            for part in match["days"].split(",")
        )
        spans = match["hours"]
        hours = "休息" if spans.lower() == "off" else "、".join(p.strip() for p in spans.split(","))
        rules.append(f"{days} {hours}")
    return "；".join(rules)


def is_open_on(text: str, day: date) -> bool:
    """Whether a library with these opening hours opens on that day (unpublished: yes)."""
    hours = parse_opening_hours(text)
    return not hours or bool(hours[day.weekday()])


# --- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """One bad line: where, why in English, and a stable code with parameters to translate."""

    line: int
    code: str
    reason: str
    params: dict[str, ParamValue] = field(default_factory=dict)


@dataclass
class MemberImportReport:
    """What an import did (counts) or, when ``problems`` is not empty, why it wrote nothing."""

    entity: Literal["districts", "libraries"]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file was accepted (and written)."""
        return not self.problems

    @property
    def errors(self) -> list[tuple[int, str]]:
        """The problems as (line, reason) pairs, in file order."""
        return [(problem.line, problem.reason) for problem in self.problems]

    def describe(self) -> str:
        """A short English account for the CLI."""
        if self.problems:
            lines = [f"{self.entity}: {len(self.problems)} problem(s), nothing imported"]
            lines += [f"  line {line}: {reason}" for line, reason in self.errors]
            return "\n".join(lines)
        return (
            f"{self.entity}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )


class _Problems:
    def __init__(self) -> None:
        self.items: list[ImportProblem] = []

    def add(self, line: int, code: str, reason: str, **params: ParamValue) -> None:
        self.items.append(ImportProblem(line, code, reason, params))


# --- reading the table -----------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class _Table:
    columns: frozenset[str]
    rows: list[_Row]


def _read_table(
    csv_text: str, required: Sequence[str], optional: Sequence[str], problems: _Problems
) -> _Table | None:
    """The rows of the CSV text, or None when the header makes the rows unreadable."""
    reader = csv.reader(io.StringIO(csv_text.removeprefix("\ufeff"), newline=""))
    known = (*required, *optional)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            problems.add(1, "empty_file", "the file is empty (no header row)")
            return None
        header_line = reader.line_num
        columns = [cell.strip().lower() for cell in header]
        unknown = [name for name in columns if name and name not in known]
        if unknown:
            problems.add(
                header_line,
                "unknown_columns",
                f"unknown column(s) {', '.join(unknown)}; known columns: {', '.join(known)}",
                columns=", ".join(unknown),
                known=", ".join(known),
            )
        repeated = sorted({name for name in columns if name and columns.count(name) > 1})
        if repeated:
            problems.add(
                header_line,
                "duplicate_columns",
                f"column(s) {', '.join(repeated)} appear more than once in the header",
                columns=", ".join(repeated),
            )
        missing = [name for name in required if name not in columns]
        if missing:
            problems.add(
                header_line,
                "missing_columns",
                f"missing column(s) {', '.join(missing)}; required: {', '.join(required)}",
                columns=", ".join(missing),
                required=", ".join(required),
            )
            return None
        rows: list[_Row] = []
        last_line = header_line
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            extra = [cell for cell in cells[len(columns) :] if cell.strip()]
            unnamed = [
                cell
                for name, cell in zip(columns, cells, strict=False)
                if not name and cell.strip()
            ]
            if extra or unnamed:
                problems.add(
                    line,
                    "extra_values",
                    f"{len(cells)} values but the header names {sum(map(bool, columns))} columns",
                    found=len(cells),
                    expected=sum(map(bool, columns)),
                )
                continue
            values = {name: "" for name in columns if name}
            for name, cell in zip(columns, cells, strict=False):
                if name:
                    values[name] = cell.strip()
            rows.append(_Row(line, values))
    except csv.Error as exc:
        problems.add(
            reader.line_num,
            "csv_error",
            f"the CSV cannot be parsed ({exc}); reading stopped",
            detail=str(exc),
        )
        return None
    return _Table(frozenset(name for name in columns if name), rows)


# --- checking values -------------------------------------------------------------------


class _Checker:
    """Checks the values of one row, recording a problem for each bad one."""

    def __init__(self, row: _Row, problems: _Problems) -> None:
        self.row = row
        self.problems = problems
        self.bad = False

    def problem(self, code: str, reason: str, **params: ParamValue) -> None:
        self.bad = True
        self.problems.add(self.row.line, code, reason, **params)

    def required(self, column: str) -> str | None:
        value = self.row.values.get(column, "")
        if not value:
            self.problem("missing_value", f"no value in column {column}", column=column)
            return None
        return value

    def text(self, column: str, limit: int, *, required: bool = True) -> str | None:
        value = self.required(column) if required else self.row.values.get(column, "")
        if value is not None and len(value) > limit:
            self.problem(
                "too_long",
                f"{column} is longer than {limit} characters",
                column=column,
                limit=limit,
            )
            return None
        return value

    def code(self, column: str = "code") -> str | None:
        value = self.required(column)
        if value is None:
            return None
        if len(value) > CODE_MAX_LENGTH:
            self.problem(
                "code_too_long",
                f"{column} {value!r} is longer than {CODE_MAX_LENGTH} characters",
                column=column,
                value=value,
                limit=CODE_MAX_LENGTH,
            )
            return None
        if not _CODE.fullmatch(value):
            self.problem(
                "bad_code",
                f"{column} {value!r} may only use letters, digits, '_', '.' and '-'",
                column=column,
                value=value,
            )
            return None
        return value

    def number(self, column: str) -> float | None:
        value = self.required(column)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.problem(
                "bad_number", f"{column} {value!r} is not a number", column=column, value=value
            )
            return None
        return number

    def coordinate(self, column: str, limit: float) -> float | None:
        number = self.number(column)
        if number is not None and not -limit <= number <= limit:
            name = "latitude" if limit == 90 else "longitude"
            self.problem(
                f"{name}_out_of_range",
                f"{column} {number:g} is outside -{limit:g}..{limit:g}",
                column=column,
                value=number,
            )
            return None
        return number

    def population(self) -> int | None:
        value = self.required("population")
        if value is None:
            return None
        digits = value.replace("_", "")
        if not re.fullmatch(r"[+-]?\d+", digits):
            self.problem(
                "bad_number",
                f"population {value!r} is not a whole number",
                column="population",
                value=value,
            )
            return None
        if int(digits) < 0:
            self.problem(
                "negative_population",
                f"population {value} is negative",
                value=int(digits),
            )
            return None
        return int(digits)

    def boolean(self, column: str) -> bool | None:
        value = self.row.values.get(column, "").lower()
        if not value or value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.problem(
            "bad_boolean",
            f"{column} {value!r} is not yes or no",
            column=column,
            value=value,
        )
        return None


def _duplicates(checker: _Checker, code: str | None, seen: dict[str, int]) -> None:
    if code is None:
        return
    if code in seen:
        checker.problem(
            "duplicate_code",
            f"code {code!r} already appears on line {seen[code]}",
            value=code,
            first_line=seen[code],
        )
    else:
        seen[code] = checker.row.line


# --- applying --------------------------------------------------------------------------

FieldValues = dict[str, object]


def _apply(target: object, values: FieldValues) -> bool:
    """Set the fields that differ; whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


async def _finish(
    session: AsyncSession,
    report: MemberImportReport,
    *,
    commit: bool,
    write: Callable[[], None],
) -> MemberImportReport:
    if report.problems:
        report.created = report.updated = report.unchanged = 0
        if commit:
            await session.rollback()
        return report
    write()
    if not commit:
        await session.flush()
        return report
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        report.created = report.updated = report.unchanged = 0
        report.problems.append(
            ImportProblem(
                0,
                "conflict",
                "another change to the same codes happened at the same time; import again",
            )
        )
    return report


async def import_districts(
    session: AsyncSession, csv_text: str, *, commit: bool = True
) -> MemberImportReport:
    """Create or update districts from CSV text, all or nothing (``commit=False``: flush only)."""
    report = MemberImportReport("districts")
    problems = _Problems()
    table = _read_table(csv_text, DISTRICT_COLUMNS, DISTRICT_OPTIONAL_COLUMNS, problems)
    staged: list[tuple[str, FieldValues]] = []
    if table is not None:
        seen: dict[str, int] = {}
        for row in table.rows:
            check = _Checker(row, problems)
            code = check.code()
            _duplicates(check, code, seen)
            values: FieldValues = {
                "name": check.text("name", 100),
                "population": check.population(),
                "latitude": check.coordinate("lat", 90),
                "longitude": check.coordinate("lon", 180),
            }
            if "name_en" in table.columns:
                values["name_en"] = check.text("name_en", 100, required=False) or None
            if not check.bad and code is not None:
                staged.append((code, values))
    report.problems = problems.items
    existing: dict[str, District] = {}
    if not report.problems:
        codes = [code for code, _ in staged]
        found = await session.scalars(select(District).where(District.code.in_(codes)))
        existing = {district.code: district for district in found}

    def write() -> None:
        for code, values in staged:
            district = existing.get(code)
            if district is None:
                session.add(District(code=code, **values))
                report.created += 1
            elif _apply(district, values):
                report.updated += 1
            else:
                report.unchanged += 1

    return await _finish(session, report, commit=commit, write=write)


async def import_libraries(
    session: AsyncSession, csv_text: str, *, commit: bool = True
) -> MemberImportReport:
    """Create or update libraries from CSV text, all or nothing (``commit=False``: flush only)."""
    report = MemberImportReport("libraries")
    problems = _Problems()
    table = _read_table(csv_text, LIBRARY_COLUMNS, LIBRARY_OPTIONAL_COLUMNS, problems)
    staged: list[tuple[str, FieldValues]] = []
    if table is not None:
        pairs = await session.execute(select(District.code, District.id))
        districts: dict[str, int] = dict(pairs.all())
        kinds = [kind.value for kind in LibraryKind]
        seen: dict[str, int] = {}
        for row in table.rows:
            check = _Checker(row, problems)
            code = check.code()
            _duplicates(check, code, seen)
            values: FieldValues = {
                "name": check.text("name", 200),
                "address": check.text("address", 300, required=False),
                "latitude": check.coordinate("lat", 90),
                "longitude": check.coordinate("lon", 180),
                "opening_hours": check.text("opening_hours", 300, required=False),
            }
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
                    check.problem(
                        "bad_opening_hours", f"opening_hours: {exc}", value=hours, **exc.params()
                    )
            if "name_en" in table.columns:
                values["name_en"] = check.text("name_en", 200, required=False) or None
            if "is_pickup_point" in table.columns:
                values["is_pickup_point"] = check.boolean("is_pickup_point")
            if not check.bad and code is not None:
                staged.append((code, values))
    report.problems = problems.items
    existing: dict[str, Library] = {}
    if not report.problems:
        codes = [code for code, _ in staged]
        found = await session.scalars(select(Library).where(Library.code.in_(codes)))
        existing = {library.code: library for library in found}

    def write() -> None:
        for code, values in staged:
            library = existing.get(code)
            if library is None:
                session.add(Library(code=code, **values))
                report.created += 1
            elif _apply(library, values):
                report.updated += 1
            else:
                report.unchanged += 1

    return await _finish(session, report, commit=commit, write=write)
