"""The events tick: reminders, offer expiry, feedback prompts, completing past events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import utcnow
from bot.services import events
from bot.services.events import Notices

logger = logging.getLogger(__name__)


@dataclass
class EventsTick:
    """One pass over events: each step is its own transaction, safe to repeat or run twice."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    i18n: I18n
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def notices(self) -> Notices:
        """The notices helper for this alliance."""
        return Notices.for_alliance(self.settings, self.i18n)

    async def run(self) -> dict[str, int]:
        """Expire offers, queue reminders and feedback prompts, complete past events."""
        now = self.clock()
        notices = self.notices
        async with self.sessionmaker() as session:
            expired = await events.expire_offers(session, now=now, notices=notices)
        async with self.sessionmaker() as session:
            reminders = await events.queue_reminders(
                session, now=now, hours=self.settings.event_reminder_hours, notices=notices
            )
        async with self.sessionmaker() as session:
            prompts = await events.queue_feedback_prompts(session, now=now, notices=notices)
        async with self.sessionmaker() as session:
            completed = await events.complete_past_events(session, now=now)
        report = {
            "offers_expired": expired,
            "reminders": reminders,
            "feedback_prompts": prompts,
            "completed": completed,
        }
        if any(report.values()):
            logger.info("events tick: %s", report)
        return report


async def tick_events(tick: EventsTick) -> None:
    """The scheduled job."""
    await tick.run()
