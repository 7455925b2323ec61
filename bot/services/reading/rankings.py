"""Rankings: the works most reserved, most searched-for and most read this week or month,
by scope. "Searched-for" counts the readers whose searches led them to the work (they opened
its card from the results), not the words they typed.

A work shows in a ranking only when at least ``MIN_READERS`` different readers are behind it,
so no ranking ever tells what one person reserved or read. Forgotten readers count for
nothing: their reads are deleted, and their kept holds are left out here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    AgeGroup,
    Hold,
    Item,
    Library,
    LibraryFollow,
    LibraryKind,
    Reader,
    ReadingLog,
    SearchedWork,
    Work,
)
from bot.services.errors import InvalidInputError

MIN_READERS = 5
RANKING_SIZE = 10
ARRIVALS_DAYS = 30
ARRIVALS_PER_LIBRARY = 5
ARRIVAL_LIBRARIES = 6


class Metric(enum.StrEnum):
    RESERVED = "reserved"
    SEARCHED = "searched"
    READ = "read"


class Period(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"

    @property
    def span(self) -> timedelta:
        return timedelta(days=7 if self is Period.WEEK else 30)


class Scope(enum.StrEnum):
    DISTRICT = "district"
    INSTITUTION = "institution"
    ALLIANCE = "alliance"
    AGE = "age"


class ScopeUnavailable(InvalidInputError):
    """The reader has no district, university library or age group for this scope."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope.value)
        self.scope = scope


@dataclass(frozen=True)
class RankedWork:
    work_id: int
    title: str
    original_title: str | None
    readers: int


@dataclass(frozen=True)
class ScopeOf:
    """Which district, university library or age group a reader's ranking covers."""

    scope: Scope
    district_id: int | None = None
    library: Library | None = None
    age_group: AgeGroup | None = None


@dataclass(frozen=True)
class Ranking:
    metric: Metric
    period: Period
    where: ScopeOf
    works: tuple[RankedWork, ...]


async def institution_of(
    session: AsyncSession,
    reader_id: int,
    kinds: tuple[LibraryKind, ...] = (LibraryKind.UNIVERSITY,),
) -> Library | None:
    """The university library (or a library of ``kinds``) the reader belongs to: one they
    follow, else their latest pickup."""
    followed = await session.scalar(
        select(Library)
        .join(LibraryFollow, LibraryFollow.library_id == Library.id)
        .where(LibraryFollow.reader_id == reader_id, Library.kind.in_(kinds))
        .order_by(LibraryFollow.created_at.desc())
        .limit(1)
    )
    if followed is not None:
        return followed
    return await session.scalar(
        select(Library)
        .join(Hold, Hold.pickup_library_id == Library.id)
        .where(Hold.reader_id == reader_id, Library.kind.in_(kinds))
        .order_by(Hold.queued_at.desc())
        .limit(1)
    )


async def scope_of(session: AsyncSession, reader: Reader, scope: Scope) -> ScopeOf:
    """The reader's district, university library or age group, or ScopeUnavailable."""
    if scope is Scope.ALLIANCE:
        return ScopeOf(scope)
    if scope is Scope.DISTRICT and reader.district_id is not None:
        return ScopeOf(scope, district_id=reader.district_id)
    if scope is Scope.AGE and reader.age_group is not None:
        return ScopeOf(scope, age_group=reader.age_group)
    if scope is Scope.INSTITUTION:
        library = await institution_of(session, reader.id)
        if library is not None:
            return ScopeOf(scope, library=library)
    raise ScopeUnavailable(scope)


def _members(where: ScopeOf) -> ColumnElement[bool] | None:
    """The condition on ``readers`` for the scope (None: everyone)."""
    if where.district_id is not None:
        return Reader.district_id == where.district_id
    if where.age_group is not None:
        return Reader.age_group == where.age_group
    if where.library is not None:
        library_id = where.library.id
        members = union(
            select(LibraryFollow.reader_id).where(LibraryFollow.library_id == library_id),
            select(Hold.reader_id).where(Hold.pickup_library_id == library_id),
        )
        return Reader.id.in_(members)
    return None


def activity(metric: Metric, since: datetime, until: datetime) -> Select[Any, Any]:
    """(reader_id, work_id) of the reserves, searches or reads in the window."""
    if metric is Metric.RESERVED:
        rows = select(Hold.reader_id.label("reader_id"), Hold.work_id.label("work_id")).where(
            Hold.queued_at >= since, Hold.queued_at < until
        )
    elif metric is Metric.SEARCHED:
        # Kept by day: the days after the window's first, up to the window's last.
        rows = select(
            SearchedWork.reader_id.label("reader_id"), SearchedWork.work_id.label("work_id")
        ).where(SearchedWork.day > since.date(), SearchedWork.day <= until.date())
    else:
        rows = select(
            ReadingLog.reader_id.label("reader_id"), ReadingLog.work_id.label("work_id")
        ).where(ReadingLog.read_at >= since, ReadingLog.read_at < until)
    return rows


async def ranking(
    session: AsyncSession,
    reader: Reader,
    metric: Metric,
    period: Period,
    scope: Scope,
    now: datetime,
    *,
    limit: int = RANKING_SIZE,
) -> Ranking:
    """The top works of the scope, each with at least MIN_READERS different readers."""
    where = await scope_of(session, reader, scope)
    events = activity(metric, now - period.span, now).subquery()
    readers = func.count(func.distinct(events.c.reader_id))
    query = (
        select(Work.id, Work.title, Work.original_title, readers)
        .join(events, events.c.work_id == Work.id)
        .join(Reader, Reader.id == events.c.reader_id)
        .where(Reader.forgotten_at.is_(None))
        .group_by(Work.id, Work.title, Work.original_title)
        .having(readers >= MIN_READERS)
        .order_by(readers.desc(), Work.id)
        .limit(limit)
    )
    condition = _members(where)
    if condition is not None:
        query = query.where(condition)
    rows = await session.execute(query)
    works = tuple(
        RankedWork(work_id, title, original, count) for work_id, title, original, count in rows
    )
    return Ranking(metric, period, where, works)


@dataclass(frozen=True)
class Arrivals:
    """Works that came to one library lately, newest first."""

    library: Library
    works: tuple[RankedWork, ...]


async def new_arrivals(session: AsyncSession, reader: Reader, now: datetime) -> list[Arrivals]:
    """New copies per library in the reader's district (the alliance without one)."""
    since = now - timedelta(days=ARRIVALS_DAYS)
    query = (
        select(Library, Work.id, Work.title, Work.original_title, func.max(Item.created_at))
        .join(Item, Item.library_id == Library.id)
        .join(Work, Work.id == Item.work_id)
        .where(Item.created_at >= since)
        .group_by(Library.id, Work.id, Work.title, Work.original_title)
        .order_by(Library.id, func.max(Item.created_at).desc(), Work.id.desc())
    )
    if reader.district_id is not None:
        query = query.where(Library.district_id == reader.district_id)
    found: dict[int, list[RankedWork]] = {}
    libraries: dict[int, Library] = {}
    for library, work_id, title, original, _arrived in await session.execute(query):
        works = found.setdefault(library.id, [])
        libraries[library.id] = library
        if len(works) < ARRIVALS_PER_LIBRARY:
            works.append(RankedWork(work_id, title, original, 0))
    ordered = sorted(found, key=lambda library_id: -len(found[library_id]))[:ARRIVAL_LIBRARIES]
    return [Arrivals(libraries[library_id], tuple(found[library_id])) for library_id in ordered]
