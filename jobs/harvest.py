"""The scheduled harvest: every connected library's repository, every HARVEST_INTERVAL_MINUTES."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services.harvest.run import harvest_all

logger = logging.getLogger(__name__)

# A library harvested this much less than an interval ago (by hand, or before a restart) waits.
_SLACK = timedelta(minutes=1)


async def harvest_connected(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int:
    """Tick: harvest the libraries that are due; how many stopped with an error.

    Each running instance indexes what changed from the catalogue changes the harvest records.
    """
    interval = timedelta(minutes=settings.harvest_interval_minutes)
    reports = await harvest_all(sessionmaker, settings, started_before=utcnow() - interval + _SLACK)
    failed = [report for report in reports if report.error is not None]
    for report in failed:
        logger.warning("harvest of %s stopped: %s", report.library_code, report.error)
    return len(failed)
