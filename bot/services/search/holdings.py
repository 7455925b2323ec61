"""Result lines by work: how many copies, how many on the shelf, and the nearest library."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Item, ItemStatus, Library, LibraryKind, Work, display_name
from bot.services.search.origin import ReaderOrigin
from bot.services.search.query import LIBRARY_KINDS, KindFilter


@dataclass(frozen=True)
class LibraryPlace:
    """A library as a reader needs it: name, kind, address, hours and distance."""

    library_id: int
    code: str
    name: str
    name_en: str | None
    kind: LibraryKind
    address: str
    opening_hours: str
    distance_km: float | None
    address_en: str | None = None

    def display_address(self, language: str) -> str:
        """The address in the reader's language: the English one when there is one."""
        return display_name(self.address, self.address_en, language)


@dataclass(frozen=True)
class WorkFacts:
    """What identifies a work to a reader."""

    work_id: int
    title: str
    original_title: str | None
    authors: tuple[str, ...]
    original_authors: tuple[str, ...]
    year: int | None
    publisher: str | None
    language: str | None


@dataclass(frozen=True)
class WorkSummary:
    """One result line: the work and where copies are on the shelf."""

    work: WorkFacts
    copies: int
    available_copies: int
    holding_libraries: int
    available_libraries: int
    nearest_available: LibraryPlace | None


def kind_condition(kind: KindFilter) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Library`` for the kind-of-library filter (none for any kind)."""
    if kind is KindFilter.ANY:
        return []
    return [Library.kind == LIBRARY_KINDS[kind]]


def work_facts(work: Work) -> WorkFacts:
    """The facts of a work a reader recognises it by."""
    return WorkFacts(
        work_id=work.id,
        title=work.title,
        original_title=work.original_title,
        authors=tuple(work.authors or ()),
        original_authors=tuple(work.original_authors or ()),
        year=work.year,
        publisher=work.publisher,
        language=work.language,
    )


def library_place(library: Library, origin: ReaderOrigin) -> LibraryPlace:
    """A library with its distance from the reader's origin."""
    return LibraryPlace(
        library_id=library.id,
        code=library.code,
        name=library.name,
        name_en=library.name_en,
        kind=library.kind,
        address=library.address,
        address_en=library.address_en,
        opening_hours=library.opening_hours,
        distance_km=origin.distance_km(library.latitude, library.longitude),
    )


def by_distance(place: LibraryPlace) -> tuple[float, str]:
    """Sort key: nearest first, libraries without a distance last, then by name."""
    return (math.inf if place.distance_km is None else place.distance_km, place.name)


def _summary(
    work: Work,
    libraries: dict[int, dict[ItemStatus, int]],
    places: dict[int, LibraryPlace],
) -> WorkSummary:
    with_available = [
        places[library_id]
        for library_id, statuses in libraries.items()
        if statuses.get(ItemStatus.AVAILABLE, 0) > 0
    ]
    return WorkSummary(
        work=work_facts(work),
        copies=sum(sum(statuses.values()) for statuses in libraries.values()),
        available_copies=sum(
            statuses.get(ItemStatus.AVAILABLE, 0) for statuses in libraries.values()
        ),
        holding_libraries=len(libraries),
        available_libraries=len(with_available),
        nearest_available=min(with_available, key=by_distance, default=None),
    )


async def summaries(
    session: AsyncSession,
    work_ids: Sequence[int],
    origin: ReaderOrigin,
    kind: KindFilter = KindFilter.ANY,
) -> list[WorkSummary]:
    """Result lines for the works in the given order, in three queries whatever their number."""
    if not work_ids:
        return []
    found = await session.scalars(select(Work).where(Work.id.in_(work_ids)))
    works = {work.id: work for work in found}
    rows = (
        await session.execute(
            select(Item.work_id, Item.library_id, Item.status, func.count(Item.id))
            .join(Library, Library.id == Item.library_id)
            .where(Item.work_id.in_(work_ids), *kind_condition(kind))
            .group_by(Item.work_id, Item.library_id, Item.status)
        )
    ).all()
    library_ids = {library_id for _, library_id, _, _ in rows}
    places = {
        library.id: library_place(library, origin)
        for library in await session.scalars(select(Library).where(Library.id.in_(library_ids)))
    }
    counts: dict[int, dict[int, dict[ItemStatus, int]]] = {}
    for work_id, library_id, status, count in rows:
        counts.setdefault(work_id, {}).setdefault(library_id, {})[status] = count
    return [
        _summary(works[work_id], counts.get(work_id, {}), places)
        for work_id in work_ids
        if work_id in works
    ]
