"""The work card: a work's facts and its holdings per library, nearest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.models import Item, ItemStatus, Library, Reader, Work
from bot.services.editions import family_of
from bot.services.errors import NotFoundError
from bot.services.search.holdings import (
    LibraryPlace,
    WorkFacts,
    by_distance,
    library_place,
    work_facts,
)
from bot.services.search.origin import ReaderOrigin, reader_origin
from bot.services.search.query import valid_id

# Holdings list statuses in the order ItemStatus declares them (available first).
_STATUS_RANK = {status: rank for rank, status in enumerate(ItemStatus)}


@dataclass(frozen=True)
class LibraryHoldings:
    """A work's copies at one library: how many in each status, and their call numbers."""

    library: LibraryPlace
    statuses: tuple[tuple[ItemStatus, int], ...]
    call_numbers: tuple[str, ...]

    @property
    def available(self) -> int:
        return sum(count for status, count in self.statuses if status is ItemStatus.AVAILABLE)


@dataclass(frozen=True)
class WorkCard:
    """Everything about a work: facts, ISBNs, summary and holdings sorted by distance."""

    work: WorkFacts
    isbns: tuple[str, ...]
    subjects: tuple[str, ...]
    summary: str | None
    holdings: tuple[LibraryHoldings, ...]
    origin: ReaderOrigin
    # Other editions and translations of the same work (records that say so).
    editions: tuple[WorkFacts, ...] = ()

    @property
    def author(self) -> str | None:
        """The name "More by this author" searches for."""
        names = self.work.authors or self.work.original_authors
        return names[0] if names else None


async def _work(session: AsyncSession, work_id: int) -> Work:
    work = None
    if valid_id(work_id):
        found = await session.scalars(
            select(Work).where(Work.id == work_id).options(joinedload(Work.isbns))
        )
        work = found.unique().one_or_none()
    if work is None:
        raise NotFoundError("work")
    return work


async def _holdings(
    session: AsyncSession, work: Work, origin: ReaderOrigin
) -> list[LibraryHoldings]:
    """The work's copies grouped by library, nearest library first."""
    rows = (
        await session.execute(
            select(Item.status, Item.call_number, Library)
            .join(Library, Library.id == Item.library_id)
            .where(Item.work_id == work.id)
            .order_by(Item.id)
        )
    ).all()
    places: dict[int, LibraryPlace] = {}
    statuses: dict[int, dict[ItemStatus, int]] = {}
    call_numbers: dict[int, dict[str, None]] = {}
    for status, call_number, library in rows:
        places.setdefault(library.id, library_place(library, origin))
        counts = statuses.setdefault(library.id, {})
        counts[status] = counts.get(status, 0) + 1
        if call_number:
            call_numbers.setdefault(library.id, {})[call_number] = None
    holdings = [
        LibraryHoldings(
            library=place,
            statuses=tuple(
                sorted(statuses[library_id].items(), key=lambda pair: _STATUS_RANK[pair[0]])
            ),
            call_numbers=tuple(call_numbers.get(library_id, {})),
        )
        for library_id, place in places.items()
    ]
    holdings.sort(key=lambda holding: by_distance(holding.library))
    return holdings


async def work_card(session: AsyncSession, reader: Reader, work_id: int) -> WorkCard:
    """A work with its holdings per library, nearest first (NotFoundError if unknown)."""
    work = await _work(session, work_id)
    origin = await reader_origin(session, reader)
    return WorkCard(
        work=work_facts(work),
        isbns=tuple(isbn.isbn for isbn in work.isbns),
        subjects=tuple(work.subjects or ()),
        summary=work.summary,
        holdings=tuple(await _holdings(session, work, origin)),
        origin=origin,
        editions=tuple(work_facts(edition) for edition in await family_of(session, work)),
    )
