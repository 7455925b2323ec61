"""The work card: a work's facts and its holdings per library, nearest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.models import Item, ItemStatus, Library, Reader, Work, utcnow
from bot.services.editions import family_of
from bot.services.errors import NotFoundError
from bot.services.ils.availability import CardCopy, CopyView, copy_views
from bot.services.ils.live import LiveAvailability
from bot.services.search.holdings import (
    LibraryPlace,
    WorkFacts,
    by_distance,
    library_place,
    work_facts,
)
from bot.services.search.origin import ReaderOrigin, reader_origin
from bot.services.search.query import valid_id
from bot.services.search.search_log import log_searched_work

# Holdings list statuses in the order ItemStatus declares them (available first).
_STATUS_RANK = {status: rank for rank, status in enumerate(ItemStatus)}


@dataclass(frozen=True)
class LibraryHoldings:
    """A work's copies at one library: how many in each status, and their call numbers."""

    library: LibraryPlace
    statuses: tuple[tuple[ItemStatus, int], ...]
    call_numbers: tuple[str, ...]
    # A connected library: statuses come from its system; ``as_of`` is the age of the oldest
    # status shown when the system did not answer in time (None: all live).
    connected: bool = False
    as_of: datetime | None = None

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
    # Chinese Library Classification numbers (CNMARC 690), e.g. "I242.4".
    clc_numbers: tuple[str, ...] = ()
    edition: str | None = None
    series: str | None = None
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
    session: AsyncSession,
    work: Work,
    origin: ReaderOrigin,
    live: LiveAvailability | None,
    live_libraries: int,
) -> list[LibraryHoldings]:
    """The work's copies grouped by library, nearest library first."""
    started = live.clock() if live is not None else None
    rows = (
        await session.execute(
            select(Item.id, Item.barcode, Item.status, Item.updated_at, Item.call_number, Library)
            .join(Library, Library.id == Item.library_id)
            .where(Item.work_id == work.id)
            .order_by(Item.id)
        )
    ).all()
    places: dict[int, LibraryPlace] = {}
    for row in rows:
        places.setdefault(row.Library.id, library_place(row.Library, origin))
    nearest = sorted(places.values(), key=by_distance)[:live_libraries]
    views: dict[int, CopyView] = {}
    if live is not None and nearest:
        copies = [
            CardCopy(
                row.id, row.Library.id, row.Library.code, row.barcode, row.status, row.updated_at
            )
            for row in rows
        ]
        order = [place.library_id for place in nearest]
        views = await copy_views(session, live, copies, order, started=started)
    statuses: dict[int, dict[ItemStatus, int]] = {}
    call_numbers: dict[int, dict[str, None]] = {}
    connected: set[int] = set()
    as_of: dict[int, datetime] = {}
    for row in rows:
        library_id = row.Library.id
        view = views.get(row.id)
        status = row.status if view is None else view.status
        if view is not None:
            connected.add(library_id)
            if view.as_of is not None:
                as_of[library_id] = min(view.as_of, as_of.get(library_id, view.as_of))
        counts = statuses.setdefault(library_id, {})
        counts[status] = counts.get(status, 0) + 1
        if row.call_number:
            call_numbers.setdefault(library_id, {})[row.call_number] = None
    holdings = [
        LibraryHoldings(
            library=place,
            statuses=tuple(
                sorted(statuses[library_id].items(), key=lambda pair: _STATUS_RANK[pair[0]])
            ),
            call_numbers=tuple(call_numbers.get(library_id, {})),
            connected=library_id in connected,
            as_of=as_of.get(library_id),
        )
        for library_id, place in places.items()
    ]
    holdings.sort(key=lambda holding: by_distance(holding.library))
    return holdings


async def work_card(
    session: AsyncSession,
    reader: Reader,
    work_id: int,
    *,
    live: LiveAvailability | None = None,
    live_libraries: int = 10,
) -> WorkCard:
    """A work with its holdings per library, nearest first (NotFoundError if unknown); with
    ``live``, the copies of the nearest ``live_libraries`` connected libraries are asked for."""
    work = await _work(session, work_id)
    origin = await reader_origin(session, reader)
    return WorkCard(
        work=work_facts(work),
        isbns=tuple(isbn.isbn for isbn in work.isbns),
        subjects=tuple(work.subjects or ()),
        summary=work.summary,
        holdings=tuple(await _holdings(session, work, origin, live, live_libraries)),
        origin=origin,
        clc_numbers=tuple(work.clc_numbers or ()),
        edition=work.edition,
        series=work.series,
        editions=tuple(work_facts(edition) for edition in await family_of(session, work)),
    )


async def card_from_results(
    session: AsyncSession,
    reader: Reader,
    work_id: int,
    search_id: int,
    *,
    live: LiveAvailability | None = None,
    live_libraries: int = 10,
) -> WorkCard:
    """A work's card opened from a button; from search results (``search_id``), the work is
    first counted as one the reader's search led to (one insert, before the card's reads)."""
    if search_id:
        await log_searched_work(session, reader, search_id, work_id, utcnow().date())
    return await work_card(session, reader, work_id, live=live, live_libraries=live_libraries)
