"""A card's copies with their live status where the owning library's system is connected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Item, ItemStatus
from bot.services.ils.connections import live_connections
from bot.services.ils.live import LiveAvailability, LiveRequest

# Copies asked for per library on one card (the card counts them; it lists no barcodes).
COPIES_PER_LIBRARY = 8
# Statuses Bookbridge itself gives a copy for a hold: a system that still calls such a copy
# "available" has not been told yet; any other status it gives wins.
BOOKBRIDGE_STATUSES = frozenset({ItemStatus.HELD, ItemStatus.IN_TRANSIT})


@dataclass(frozen=True)
class CardCopy:
    """A copy a card will count."""

    item_id: int
    library_id: int
    library_code: str
    barcode: str
    status: ItemStatus
    updated_at: datetime


@dataclass(frozen=True)
class CopyView:
    """The status a card shows for a copy: live (``as_of`` None) or the last known, with age."""

    status: ItemStatus
    connected: bool
    as_of: datetime | None
    # What the library's system itself said (None: it has not, or said nothing usable).
    system_status: ItemStatus | None = None


def merged_status(stored: ItemStatus, live: ItemStatus | None) -> ItemStatus:
    """The library system's word, unless it only has not heard of Bookbridge's hold yet."""
    if live is None or (stored in BOOKBRIDGE_STATUSES and live is ItemStatus.AVAILABLE):
        return stored
    return live


async def copy_views(
    session: AsyncSession,
    live: LiveAvailability,
    copies: Sequence[CardCopy],
    library_order: Sequence[int],
    *,
    started: float | None = None,
) -> dict[int, CopyView]:
    """Each copy at a connected library (by item id): its status to show and its age."""
    connections = await live_connections(session, set(library_order))
    if not connections:
        return {}
    by_library: dict[int, list[CardCopy]] = {}
    for copy in copies:
        if copy.library_id in connections:
            by_library.setdefault(copy.library_id, []).append(copy)
    requests = [
        LiveRequest(
            code=by_library[library_id][0].library_code,
            connection=connections[library_id],
            barcodes=[copy.barcode for copy in by_library[library_id][:COPIES_PER_LIBRARY]],
        )
        for library_id in library_order
        if library_id in by_library
    ]
    answers = await live.copies(requests, started=started)
    views: dict[int, CopyView] = {}
    for library_copies in by_library.values():
        for copy in library_copies:
            answer = answers.get((copy.library_id, copy.barcode))
            if answer is None:
                views[copy.item_id] = CopyView(copy.status, connected=True, as_of=copy.updated_at)
                continue
            views[copy.item_id] = CopyView(
                merged_status(copy.status, answer.state.status),
                connected=True,
                as_of=None if answer.fresh else answer.state.checked_at,
                system_status=answer.state.status,
            )
    return views


async def staff_views(
    session: AsyncSession, live: LiveAvailability, items: Sequence[Item]
) -> dict[int, CopyView]:
    """The live status of copies staff look at (their libraries loaded), by item id."""
    copies = [
        CardCopy(
            item.id, item.library_id, item.library.code, item.barcode, item.status, item.updated_at
        )
        for item in items
    ]
    order = list(dict.fromkeys(copy.library_id for copy in copies))
    return await copy_views(session, live, copies, order)
