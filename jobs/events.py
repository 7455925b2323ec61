"""The events tick: reminders, offer expiry, feedback prompts, completing past events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services.events import tick
from bot.services.events.registration import WaitlistRules

logger = logging.getLogger(__name__)


@dataclass
class EventsTick:
    """One pass over events: each step is its own transaction, safe to repeat or run twice."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)

    async def run(self) -> dict[str, int]:
        """Expire offers, queue reminders and feedback prompts, complete past events."""
        now = self.clock()
        rules = WaitlistRules.for_alliance(self.settings)
        async with self.sessionmaker() as session:
            expired = await tick.expire_offers(session, now=now, rules=rules)
        async with self.sessionmaker() as session:
            reminders = await tick.queue_reminders(
                session, now=now, hours=self.settings.event_reminder_hours
            )
        async with self.sessionmaker() as session:
            prompts = await tick.queue_feedback_prompts(session, now=now)
        async with self.sessionmaker() as session:
            completed = await tick.complete_past_events(session, now=now)
        report = {
            "offers_expired": expired,
            "reminders": reminders,
            "feedback_prompts": prompts,
            "completed": completed,
        }
        if any(report.values()):
            logger.info("events tick: %s", report)
        return report


async def tick_events(job: EventsTick) -> None:
    """The scheduled job."""
    await job.run()
