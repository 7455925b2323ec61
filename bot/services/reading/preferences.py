"""A reader's reading-life choices: personal recommendations and the weekly digest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import ReadingPreference


async def preferences(session: AsyncSession, reader_id: int) -> ReadingPreference:
    """The reader's choices (the defaults, unsaved, when they made none)."""
    found = await session.get(ReadingPreference, reader_id)
    if found is None:
        return ReadingPreference(reader_id=reader_id, recommendations=True, weekly_digest=False)
    return found


async def set_preference(
    session: AsyncSession,
    reader_id: int,
    *,
    recommendations: bool | None = None,
    weekly_digest: bool | None = None,
) -> ReadingPreference:
    """Change one or both choices; the row is made on the first change."""
    async with write(session):
        found = await session.get(ReadingPreference, reader_id, with_for_update=True)
        if found is None:
            found = ReadingPreference(
                reader_id=reader_id, recommendations=True, weekly_digest=False
            )
            session.add(found)
        if recommendations is not None:
            found.recommendations = recommendations
        if weekly_digest is not None:
            found.weekly_digest = weekly_digest
        await session.flush()
        return found
