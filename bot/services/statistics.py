"""Alliance statistics for a period: readers, searches, unmet demand, holds, events.

Counting rules (after the circulation and patron reports of Koha and Evergreen):

* ``readers``: readers who finished onboarding before the period's end; ``new_readers``:
  those who finished it during the period.
* ``active_readers``: distinct readers who searched, placed a hold, registered for an
  event or suggested a purchase during the period.
* ``searches`` and ``zero_hit_searches``: catalogue searches logged during the period,
  by the district recorded with the search.
* ``holds_placed``: holds queued during the period; ``holds_collected``: holds collected
  during it; ``registrations``: event registrations made during it (any later status);
  ``attended``: check-ins during it.

Per district the reader-side figures count where the reader lives (their home district
at the time of the report); per library, holds count at their pickup library and
registrations and attendance at the event's venue library. Readers without a home
district are counted apart as "no district", so the districts and that row add up to the
alliance totals.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Challenge,
    ChallengeEntry,
    District,
    Event,
    Hold,
    Library,
    PurchaseVote,
    Reader,
    ReadingLog,
    Registration,
    SearchLog,
)
from bot.services.errors import InvalidInputError

__all__ = [
    "AllianceStatistics",
    "BadPeriodError",
    "Counts",
    "DistrictStatistics",
    "LibraryStatistics",
    "Period",
    "UnmetDemand",
    "alliance_statistics",
    "parse_period",
    "statistics_csv",
]

DEFAULT_PERIOD = "30d"
MAX_PERIOD_DAYS = 3660
UNMET_PER_DISTRICT = 5
UNMET_ALLIANCE = 10
PER_10K = 10_000

_DAYS = re.compile(r"(\d{1,4})d")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class BadPeriodError(InvalidInputError):
    """A period that is not ``Nd``, ``YYYY-MM`` or ``FROM..TO``; ``reason`` says what is wrong."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason = reason
        self.text = text


@dataclass(frozen=True)
class Period:
    """A half-open span of time [start, end) in UTC, with the words it was asked for in."""

    start: datetime
    end: datetime
    label: str


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _bound(text: str, *, upper: bool) -> date:
    """A date from ``YYYY-MM-DD`` or ``YYYY-MM``; an upper month bound is its last day + 1."""
    if match := _DATE.fullmatch(text):
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise BadPeriodError("bad_date", text) from None
        return day + timedelta(days=1) if upper else day
    if match := _MONTH.fullmatch(text):
        if not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
            raise BadPeriodError("bad_date", text)
        first = date(int(match[1]), int(match[2]), 1)
        return _next_month(first) if upper else first
    raise BadPeriodError("format", text)


def parse_period(text: str | None, *, now: datetime, zone: tzinfo) -> Period:
    """``7d``/``30d``/``90d`` (the last N days), ``2026-11`` (a month), or ``FROM..TO`` (dates
    or months, both included), in the alliance's time zone; empty means the last 30 days."""
    cleaned = (text or "").strip().lower() or DEFAULT_PERIOD
    if len(cleaned) > 40:
        raise BadPeriodError("format", cleaned[:40])
    if match := _DAYS.fullmatch(cleaned):
        days = int(match[1])
        if not 1 <= days <= MAX_PERIOD_DAYS:
            raise BadPeriodError("too_long" if days else "empty", cleaned)
        return Period(start=now - timedelta(days=days), end=now, label=cleaned)
    if ".." in cleaned:
        first, _, last = (part.strip() for part in cleaned.partition(".."))
        start_day, end_day = _bound(first, upper=False), _bound(last, upper=True)
    else:
        if not _MONTH.fullmatch(cleaned) and not _DATE.fullmatch(cleaned):
            raise BadPeriodError("format", cleaned)
        start_day, end_day = _bound(cleaned, upper=False), _bound(cleaned, upper=True)
    if end_day <= start_day:
        raise BadPeriodError("order", cleaned)
    if (end_day - start_day).days > MAX_PERIOD_DAYS:
        raise BadPeriodError("too_long", cleaned)
    start = _local_midnight(start_day, zone)
    if start > now:
        raise BadPeriodError("future", cleaned)
    return Period(start=start, end=_local_midnight(end_day, zone), label=cleaned)


@dataclass(frozen=True)
class Counts:
    """The figures of one district, one library or the whole alliance."""

    readers: int = 0
    new_readers: int = 0
    active_readers: int = 0
    searches: int = 0
    zero_hit_searches: int = 0
    holds_placed: int = 0
    holds_collected: int = 0
    registrations: int = 0
    attended: int = 0
    # Reading life: reads logged, and readers in a challenge running during the period.
    reads: int = 0
    challenge_participants: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)}
        )


@dataclass(frozen=True)
class DistrictStatistics:
    """One district's figures (``district_id`` None: readers without a home district)."""

    district_id: int | None
    code: str | None
    name: str | None
    name_en: str | None
    population: int
    counts: Counts

    @property
    def active_per_10k(self) -> float | None:
        """Active readers per 10,000 inhabitants (None without a population)."""
        if not self.population:
            return None
        return self.counts.active_readers * PER_10K / self.population


@dataclass(frozen=True)
class LibraryStatistics:
    """One library's figures: holds at its pickup desk, events at its venue."""

    library_id: int
    code: str
    name: str
    name_en: str | None
    district_code: str
    holds_placed: int = 0
    holds_collected: int = 0
    registrations: int = 0
    attended: int = 0


@dataclass(frozen=True)
class UnmetDemand:
    """A query that found nothing: how often, and by how many readers."""

    query: str
    searches: int
    readers: int


@dataclass(frozen=True)
class AllianceStatistics:
    """Everything ``/stats`` shows for one period."""

    period: Period
    totals: Counts
    districts: list[DistrictStatistics]
    libraries: list[LibraryStatistics]
    unmet_by_district: dict[int | None, list[UnmetDemand]] = field(default_factory=dict)
    unmet: list[UnmetDemand] = field(default_factory=list)


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    within: ColumnElement[bool] = (column >= period.start) & (column < period.end)
    return within


async def _grouped(session: AsyncSession, query: Select[Any, Any]) -> dict[int | None, int]:
    rows = await session.execute(query)
    return {row[0]: int(row[1]) for row in rows.all()}


async def _by_district(session: AsyncSession, period: Period) -> dict[str, dict[int | None, int]]:
    onboarded = Reader.onboarded_at.is_not(None)
    active_ids = union(
        select(SearchLog.reader_id.label("reader_id")).where(
            SearchLog.reader_id.is_not(None), _within(SearchLog.created_at, period)
        ),
        select(Hold.reader_id).where(_within(Hold.queued_at, period)),
        select(Registration.reader_id).where(_within(Registration.created_at, period)),
        select(PurchaseVote.reader_id).where(_within(PurchaseVote.created_at, period)),
        select(ReadingLog.reader_id).where(_within(ReadingLog.read_at, period)),
        select(ChallengeEntry.reader_id).where(_within(ChallengeEntry.joined_at, period)),
    ).subquery()
    count = func.count()
    queries: dict[str, Select[Any, Any]] = {
        "readers": select(Reader.district_id, count)
        .where(onboarded, Reader.onboarded_at < period.end)
        .group_by(Reader.district_id),
        "new_readers": select(Reader.district_id, count)
        .where(onboarded, _within(Reader.onboarded_at, period))
        .group_by(Reader.district_id),
        "active_readers": select(Reader.district_id, func.count(func.distinct(Reader.id)))
        .where(Reader.id.in_(select(active_ids.c.reader_id)))
        .group_by(Reader.district_id),
        "searches": select(SearchLog.district_id, count)
        .where(_within(SearchLog.created_at, period))
        .group_by(SearchLog.district_id),
        "zero_hit_searches": select(SearchLog.district_id, count)
        .where(_within(SearchLog.created_at, period), SearchLog.hit_count == 0)
        .group_by(SearchLog.district_id),
        "holds_placed": select(Reader.district_id, count)
        .select_from(Hold)
        .join(Reader, Reader.id == Hold.reader_id)
        .where(_within(Hold.queued_at, period))
        .group_by(Reader.district_id),
        "holds_collected": select(Reader.district_id, count)
        .select_from(Hold)
        .join(Reader, Reader.id == Hold.reader_id)
        .where(_within(Hold.collected_at, period))
        .group_by(Reader.district_id),
        "registrations": select(Reader.district_id, count)
        .select_from(Registration)
        .join(Reader, Reader.id == Registration.reader_id)
        .where(_within(Registration.created_at, period))
        .group_by(Reader.district_id),
        "attended": select(Reader.district_id, count)
        .select_from(Registration)
        .join(Reader, Reader.id == Registration.reader_id)
        .where(_within(Registration.attended_at, period))
        .group_by(Reader.district_id),
        "reads": select(Reader.district_id, count)
        .select_from(ReadingLog)
        .join(Reader, Reader.id == ReadingLog.reader_id)
        .where(_within(ReadingLog.read_at, period))
        .group_by(Reader.district_id),
        "challenge_participants": select(
            Reader.district_id, func.count(func.distinct(ChallengeEntry.reader_id))
        )
        .select_from(ChallengeEntry)
        .join(Challenge, Challenge.id == ChallengeEntry.challenge_id)
        .join(Reader, Reader.id == ChallengeEntry.reader_id)
        .where(Challenge.starts_at < period.end, Challenge.ends_at > period.start)
        .group_by(Reader.district_id),
    }
    return {name: await _grouped(session, query) for name, query in queries.items()}


async def _by_library(session: AsyncSession, period: Period) -> dict[str, dict[int | None, int]]:
    count = func.count()
    queries: dict[str, Select[Any, Any]] = {
        "holds_placed": select(Hold.pickup_library_id, count)
        .where(_within(Hold.queued_at, period))
        .group_by(Hold.pickup_library_id),
        "holds_collected": select(Hold.pickup_library_id, count)
        .where(_within(Hold.collected_at, period))
        .group_by(Hold.pickup_library_id),
        "registrations": select(Event.venue_library_id, count)
        .select_from(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(_within(Registration.created_at, period))
        .group_by(Event.venue_library_id),
        "attended": select(Event.venue_library_id, count)
        .select_from(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(_within(Registration.attended_at, period))
        .group_by(Event.venue_library_id),
    }
    return {name: await _grouped(session, query) for name, query in queries.items()}


async def _unmet_demand(
    session: AsyncSession, period: Period
) -> tuple[dict[int | None, list[UnmetDemand]], list[UnmetDemand]]:
    """The most repeated zero-hit queries per district and in the whole alliance."""
    query_text = func.lower(func.trim(SearchLog.query))
    zero_hits = (_within(SearchLog.created_at, period), SearchLog.hit_count == 0)
    searches = func.count()
    readers = func.count(func.distinct(SearchLog.reader_id))
    grouped = (
        select(
            SearchLog.district_id.label("district_id"),
            query_text.label("query"),
            searches.label("searches"),
            readers.label("readers"),
        )
        .where(*zero_hits)
        .group_by(SearchLog.district_id, query_text)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=grouped.c.district_id,
            order_by=(grouped.c.searches.desc(), grouped.c.readers.desc(), grouped.c.query),
        )
        .label("rank")
    )
    ranked = select(grouped, rank).subquery()
    rows = await session.execute(
        select(ranked.c.district_id, ranked.c.query, ranked.c.searches, ranked.c.readers)
        .where(ranked.c.rank <= UNMET_PER_DISTRICT)
        .order_by(ranked.c.district_id, ranked.c.rank)
    )
    by_district: dict[int | None, list[UnmetDemand]] = defaultdict(list)
    for district_id, text, count, people in rows.all():
        by_district[district_id].append(UnmetDemand(str(text), int(count), int(people)))
    alliance = await session.execute(
        select(query_text, searches, readers)
        .where(*zero_hits)
        .group_by(query_text)
        .order_by(searches.desc(), readers.desc(), query_text)
        .limit(UNMET_ALLIANCE)
    )
    return dict(by_district), [
        UnmetDemand(str(text), int(count), int(people)) for text, count, people in alliance.all()
    ]


def _counts(figures: Mapping[str, Mapping[int | None, int]], key: int | None) -> Counts:
    return Counts(**{name: values.get(key, 0) for name, values in figures.items()})


async def alliance_statistics(session: AsyncSession, period: Period) -> AllianceStatistics:
    """Every figure of ``/stats`` for the period, per district, per library and in total."""
    district_figures = await _by_district(session, period)
    library_figures = await _by_library(session, period)
    unmet_by_district, unmet = await _unmet_demand(session, period)
    districts = list(await session.scalars(select(District).order_by(District.code)))
    rows = [
        DistrictStatistics(
            district_id=district.id,
            code=district.code,
            name=district.name,
            name_en=district.name_en,
            population=district.population,
            counts=_counts(district_figures, district.id),
        )
        for district in districts
    ]
    unassigned = _counts(district_figures, None)
    if unassigned != Counts():
        rows.append(DistrictStatistics(None, None, None, None, 0, unassigned))
    totals = Counts()
    for row in rows:
        totals = totals + row.counts
    # A reader counts once in the alliance however many districts the searches came from.
    totals = replace(totals, active_readers=sum(district_figures["active_readers"].values()))
    library_rows = await session.execute(
        select(Library, District.code).join(District).order_by(District.code, Library.code)
    )
    libraries = [
        LibraryStatistics(
            library_id=library.id,
            code=library.code,
            name=library.name,
            name_en=library.name_en,
            district_code=district_code,
            **{name: values.get(library.id, 0) for name, values in library_figures.items()},
        )
        for library, district_code in library_rows.all()
    ]
    return AllianceStatistics(
        period=period,
        totals=totals,
        districts=rows,
        libraries=libraries,
        unmet_by_district=unmet_by_district,
        unmet=unmet,
    )


CSV_COLUMNS = (
    "level",
    "code",
    "name",
    "district",
    "population",
    *(f.name for f in fields(Counts)),
    "active_per_10k",
)


def statistics_csv(stats: AllianceStatistics) -> str:
    """The figures as CSV: one row for the alliance, one per district, one per library."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    population = sum(row.population for row in stats.districts)
    total = DistrictStatistics(None, "", "", None, population, stats.totals)
    reader_figures = [f.name for f in fields(Counts)]

    def district_row(level: str, row: DistrictStatistics) -> list[object]:
        per_10k = row.active_per_10k
        return [
            level,
            row.code or "",
            row.name or "",
            row.code or "",
            row.population,
            *(getattr(row.counts, name) for name in reader_figures),
            "" if per_10k is None else f"{per_10k:.2f}",
        ]

    writer.writerow(district_row("alliance", total))
    for row in stats.districts:
        writer.writerow(district_row("district" if row.district_id else "no_district", row))
    for library in stats.libraries:
        writer.writerow(
            [
                "library",
                library.code,
                library.name,
                library.district_code,
                "",
                *(
                    getattr(library, name) if hasattr(library, name) else ""
                    for name in reader_figures
                ),
                "",
            ]
        )
    return out.getvalue()
