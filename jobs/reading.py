"""The reading job: recount the pairs of works reserved by the same readers for the card."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.reading import recommend

logger = logging.getLogger(__name__)

# How often the "readers who reserved this also reserved" pairs are recounted.
PAIRS_EVERY_S = 15 * 60


async def refresh_pairs(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Tick: recount every also-reserved pair; how many pairs are kept."""
    async with sessionmaker() as session:
        pairs = await recommend.refresh_also_reserved(session)
    logger.info("also-reserved pairs recounted: %d", pairs)
    return pairs
