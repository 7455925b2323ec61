"""The ILS job: holds relayed to the libraries' systems, and their copies reconciled."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services.ils.holds import ReconcileReport, reconcile
from bot.services.ils.live import LiveAvailability

logger = logging.getLogger(__name__)


@dataclass
class IlsJob:
    """The scheduler's own links to the libraries' systems; ``clock`` lets tests move time."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    live: LiveAvailability
    clock: Callable[[], datetime] = field(default=utcnow)

    async def tick(self) -> ReconcileReport:
        """One pass of reconciliation."""
        async with self.sessionmaker() as session:
            report = await reconcile(session, self.live, settings=self.settings, now=self.clock())
        if any(vars(report).values()):
            logger.info("ils: %s", report)
        return report

    async def close(self) -> None:
        await self.live.close()


async def run_ils_tick(job: IlsJob) -> None:
    """Tick: relay and reconcile (a database error waits for the next tick)."""
    try:
        await job.tick()
    except SQLAlchemyError as exc:
        logger.warning("ils: reconciliation failed (%s); next tick tries again", type(exc).__name__)
