"""Copies a catalogue export or harvest says are back on the shelf (on loan, missing or not
for loan before): each goes to the next queued hold of its work, as ``/checkin`` gives a
returned copy, and the reader is told. Runs in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Hold, Item, ItemStatus, Library
from bot.services.holds.access import lock_work
from bot.services.holds.queue import fill_next

__all__ = ["offer_returned_copies"]


async def offer_returned_copies(
    session: AsyncSession, item_ids: Collection[int], *, settings: Settings, now: datetime
) -> list[Hold]:
    """Give each available copy among ``item_ids`` to its work's next queued hold, if any.

    The copy is on the shelf, not in a librarian's hands: a hold it fills is not marked as
    pulled, so it appears on the pull list.
    """
    if not item_ids:
        return []
    rows = (
        await session.execute(
            select(Item.id, Item.work_id)
            .where(Item.id.in_(list(item_ids)))
            .order_by(Item.work_id, Item.id)
        )
    ).all()
    filled: list[Hold] = []
    for item_id, work_id in rows:
        # Lock order everywhere: work, then copy, then holds.
        await lock_work(session, work_id)
        item = await session.get(Item, item_id, with_for_update=True, populate_existing=True)
        if item is None or item.status is not ItemStatus.AVAILABLE:
            continue
        library = await session.get(Library, item.library_id)
        assert library is not None
        hold = await fill_next(session, item, library, pulled=False, settings=settings, now=now)
        if hold is not None:
            filled.append(hold)
    return filled
