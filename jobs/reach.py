"""The weekly reach measurement: store every district's reach for the period ending now."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services import reach
from bot.services.reach import ReachRule

logger = logging.getLogger(__name__)


async def measure_reach(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int | None:
    """Tick: measure and store the reach when the stored one is a period old (not at every
    start); how many districts are under-reached, None when it was not due."""
    async with sessionmaker() as session:
        report = await reach.measure_if_due(
            session,
            now=utcnow(),
            days=settings.reach_period_days,
            rule=ReachRule(settings.reach_rule, settings.reach_threshold_share),
            every=timedelta(hours=settings.reach_job_hours),
        )
    if report is None:
        return None
    logger.info("reach measured: %d under-reached districts", len(report.under_reached))
    return len(report.under_reached)
