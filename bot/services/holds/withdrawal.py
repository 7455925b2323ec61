"""Copies a library withdraws from the catalogue (its record was deleted at the source).

The copies are deleted; a hold that had one of them takes another copy or queues again in
its place, as for a missing copy, and when no copy of the work is left the library cancels
the work's holds with a notice. Runs in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Hold, HoldStatus, Item
from bot.services.holds import notices
from bot.services.holds.access import circulating_copies, load_relations, lock_work
from bot.services.holds.desk import cancel_holds_of_lost_work
from bot.services.holds.queue import target

__all__ = ["withdraw_copies"]


async def _requeue_holds_on(
    session: AsyncSession, item_ids: list[int], *, settings: Settings
) -> list[Hold]:
    holds = list(
        await session.scalars(
            select(Hold)
            .where(
                Hold.item_id.in_(item_ids),
                Hold.status.in_((HoldStatus.IN_TRANSIT, HoldStatus.READY)),
            )
            .with_for_update()
        )
    )
    for hold in holds:
        await load_relations(session, hold)
        was_ready = hold.status is HoldStatus.READY
        hold.status = HoldStatus.QUEUED
        hold.item_id = None
        hold.ready_at = hold.ready_until = hold.in_transit_at = hold.pulled_at = None
        await session.flush()
        if was_ready:
            await notices.settle_ready_notice(session, hold, settings=settings)
    return holds


async def withdraw_copies(
    session: AsyncSession,
    library_id: int,
    barcodes: Collection[str],
    *,
    settings: Settings,
    now: datetime,
) -> set[int]:
    """Delete the library's copies with these barcodes; return the works they belonged to."""
    if not barcodes:
        return set()
    rows = (
        await session.execute(
            select(Item.id, Item.work_id)
            .where(Item.library_id == library_id, Item.barcode.in_(list(barcodes)))
            .order_by(Item.work_id, Item.id)
        )
    ).all()
    by_work: dict[int, list[int]] = {}
    for item_id, work_id in rows:
        by_work.setdefault(work_id, []).append(item_id)
    for work_id, item_ids in by_work.items():
        # Lock order everywhere: work, then copy, then holds.
        await lock_work(session, work_id)
        holds = await _requeue_holds_on(session, item_ids, settings=settings)
        await session.execute(delete(Item).where(Item.id.in_(item_ids)))
        for hold in holds:
            await target(session, hold, settings=settings, now=now)
        if not await circulating_copies(session, work_id):
            await cancel_holds_of_lost_work(session, work_id, settings=settings, now=now)
    return set(by_work)
