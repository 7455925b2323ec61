"""The holds tick: expire, remind, warn, reactivate, and tell watchers a copy arrived."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services.holds import shelf, watching

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HoldsTickReport:
    """What one tick did."""

    expired_ready: int
    reminded: int
    warned: int
    expired_unfilled: int
    reactivated: int
    watchers: int


@dataclass
class HoldsJob:
    """Everything the holds tick needs; ``clock`` lets tests move time."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = field(default=utcnow)

    async def tick(self) -> HoldsTickReport:
        """One pass: each step in its own session, so one failure does not stop the rest."""
        now = self.clock()
        settings = self.settings
        async with self.sessionmaker() as session:
            reactivated = await shelf.reactivate_suspended_holds(
                session, settings=settings, now=now
            )
        async with self.sessionmaker() as session:
            expired_ready = await shelf.expire_ready_holds(session, settings=settings, now=now)
        async with self.sessionmaker() as session:
            reminded = await shelf.remind_ready_holds(session, settings=settings, now=now)
        async with self.sessionmaker() as session:
            warned, expired_unfilled = await shelf.expire_unfilled_holds(
                session, settings=settings, now=now
            )
        async with self.sessionmaker() as session:
            watchers = await watching.notify_watchers(session, now=now)
        report = HoldsTickReport(
            expired_ready, reminded, warned, expired_unfilled, reactivated, watchers
        )
        if any(vars(report).values()):
            logger.info("holds tick: %s", report)
        return report


async def run_holds_tick(job: HoldsJob) -> None:
    """Tick: the periodic hold work (see HoldsJob.tick)."""
    await job.tick()
