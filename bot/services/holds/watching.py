"""Works without copies: "tell me when it arrives", and telling the watchers when it does."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Reader, Work, WorkWatch, utcnow
from bot.services.errors import NotFoundError
from bot.services.holds import notices
from bot.services.holds.access import circulating_copies, valid_id

WATCH_BATCH = 500


async def watch_work(session: AsyncSession, reader: Reader, work_id: int) -> bool:
    """Tell the reader when a copy of the work arrives; False if already watching. Commits."""
    async with write(session):
        work = await session.get(Work, work_id) if valid_id(work_id) else None
        if work is None:
            raise NotFoundError("work")
        existing = await session.scalar(
            select(WorkWatch).where(WorkWatch.reader_id == reader.id, WorkWatch.work_id == work.id)
        )
        if existing is not None:
            if existing.notified_at is None:
                return False
            existing.created_at, existing.arrived_at, existing.notified_at = utcnow(), None, None
            return True
        try:
            async with session.begin_nested():
                session.add(WorkWatch(reader_id=reader.id, work_id=work.id))
        except IntegrityError:
            return False
    return True


async def work_without_copies(session: AsyncSession, work_id: int) -> Work | None:
    """The work with its ISBNs if no copy circulates (NotFoundError if unknown), else None."""
    work = (
        await session.scalar(
            select(Work).where(Work.id == work_id).options(selectinload(Work.isbns))
        )
        if valid_id(work_id)
        else None
    )
    if work is None:
        raise NotFoundError("work")
    if await circulating_copies(session, work.id):
        return None
    return work


async def mark_watches_arrived(
    session: AsyncSession, work_ids: Collection[int], now: datetime
) -> None:
    """Catalogue import hook: copies of these works arrived (caller's transaction)."""
    ids = sorted(work_ids)
    for start in range(0, len(ids), WATCH_BATCH):
        await session.execute(
            update(WorkWatch)
            .where(
                WorkWatch.work_id.in_(ids[start : start + WATCH_BATCH]),
                WorkWatch.arrived_at.is_(None),
                WorkWatch.notified_at.is_(None),
            )
            .values(arrived_at=now)
        )


async def notify_watchers(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Tell readers who watched a work that copies arrived (marked by the catalogue import)."""
    async with write(session):
        watches = list(
            await session.scalars(
                select(WorkWatch)
                .where(WorkWatch.arrived_at.is_not(None), WorkWatch.notified_at.is_(None))
                .order_by(WorkWatch.id)
                .limit(limit)
            )
        )
        for watch in watches:
            work = await session.get(Work, watch.work_id)
            watch.notified_at = now
            if work is not None:
                await notices.copy_arrived(
                    session, watch_id=watch.id, reader_id=watch.reader_id, work=work, now=now
                )
    return len(watches)
