"""Reading events: what is coming up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.models import Event, EventStatus


async def upcoming_events(session: AsyncSession, now: datetime, limit: int = 10) -> list[Event]:
    """Published events that have not ended, soonest first."""
    rows = await session.scalars(
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
        .options(selectinload(Event.venue_library))
        .order_by(Event.starts_at)
        .limit(limit)
    )
    return list(rows)
