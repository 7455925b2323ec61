"""A read and what it earns, in one transaction: the reading-log entry, the challenges it
completes (each once) and the badges it earns (each once, announced through the outbox).

Two reads landing at once cannot both award a badge or both complete a challenge: the
badge rows are unique per reader and badge, and completion is a conditional UPDATE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Challenge, Reader
from bot.services.reading import badges, challenges, log


@dataclass(frozen=True)
class Logged:
    """A logged read, the challenges it completed and the badges it earned just now."""

    entry: log.ReadEntry
    completed: list[Challenge]
    badges: list[badges.Badge]


async def _logged(
    session: AsyncSession,
    reader: Reader,
    mark: Callable[[], Awaitable[log.ReadEntry]],
    now: datetime,
    zone: tzinfo,
) -> Logged:
    async with write(session):
        entry = await mark()
        completed = await challenges.record_reads(session, reader, now)
        streak = await challenges.streak_weeks(session, reader.id, now, zone)
        qualified = await badges.earned_by_read(session, reader.id, entry.work_id, streak)
        earned = await badges.award(session, reader.id, qualified, now)
    return Logged(entry, completed, earned)


async def read_work(
    session: AsyncSession,
    reader: Reader,
    work_id: int,
    *,
    source: log.ReadSource,
    now: datetime,
    zone: tzinfo,
) -> Logged:
    """``log.mark_read``, with what it earns."""
    return await _logged(
        session,
        reader,
        lambda: log.mark_read(session, reader, work_id, source=source, now=now),
        now,
        zone,
    )


async def read_isbn(
    session: AsyncSession,
    reader: Reader,
    isbn_text: str,
    *,
    now: datetime,
    zone: tzinfo,
    rating: int | None = None,
    note: str | None = None,
) -> Logged:
    """``log.mark_read_by_isbn``, with what it earns."""
    return await _logged(
        session,
        reader,
        lambda: log.mark_read_by_isbn(
            session, reader, isbn_text, now=now, rating=rating, note=note
        ),
        now,
        zone,
    )


async def read_collected(
    session: AsyncSession, reader: Reader, hold_id: int, *, now: datetime, zone: tzinfo
) -> Logged:
    """``log.mark_collected_read``, with what it earns."""
    return await _logged(
        session,
        reader,
        lambda: log.mark_collected_read(session, reader, hold_id, now=now),
        now,
        zone,
    )
