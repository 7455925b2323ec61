"""Holds: a reader's requests for works, and their place in the queue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.models import ACTIVE_HOLD_STATUSES, Hold, HoldStatus


@dataclass(frozen=True)
class HoldView:
    """A hold as the reader sees it, with their queue position when queued."""

    hold: Hold
    position: int | None


async def active_holds(session: AsyncSession, reader_id: int) -> list[HoldView]:
    """The reader's active holds, oldest first, with queue positions."""
    holds = list(
        await session.scalars(
            select(Hold)
            .where(Hold.reader_id == reader_id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            .order_by(Hold.queued_at)
        )
    )
    views = []
    for hold in holds:
        position = None
        if hold.status is HoldStatus.QUEUED:
            ahead = await session.scalar(
                select(func.count(Hold.id)).where(
                    Hold.work_id == hold.work_id,
                    Hold.status == HoldStatus.QUEUED,
                    Hold.queued_at < hold.queued_at,
                )
            )
            position = (ahead or 0) + 1
        views.append(HoldView(hold=hold, position=position))
    return views
