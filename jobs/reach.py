"""The weekly reach measurement: store every district's reach for the period ending now."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services import reach
from bot.services.reach import ReachRule

logger = logging.getLogger(__name__)


async def measure_reach(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Tick: measure and store the reach snapshots; how many districts are under-reached."""
    async with sessionmaker() as session:
        report = await reach.measure_and_store(
            session,
            now=utcnow(),
            days=settings.reach_period_days,
            rule=ReachRule(settings.reach_rule, settings.reach_threshold_share),
        )
    logger.info("reach measured: %d under-reached districts", len(report.under_reached))
    return len(report.under_reached)
