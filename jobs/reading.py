"""The reading jobs: recount the also-reserved pairs for the card; queue weekly digests."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services.reading import digest, recommend

logger = logging.getLogger(__name__)

# How often the "readers who reserved this also reserved" pairs are recounted.
PAIRS_EVERY_S = 15 * 60
# How often readers whose weekly digest is due get it queued.
DIGEST_EVERY_S = 60 * 60


async def refresh_pairs(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Tick: recount every also-reserved pair; how many pairs are kept."""
    async with sessionmaker() as session:
        pairs = await recommend.refresh_also_reserved(session)
    logger.info("also-reserved pairs recounted: %d", pairs)
    return pairs


async def queue_digests(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Tick: queue the weekly digests that are due; how many."""
    async with sessionmaker() as session:
        queued = await digest.queue_digests(session, utcnow(), settings.zone)
    if queued:
        logger.info("weekly reading digests queued: %d", queued)
    return queued
