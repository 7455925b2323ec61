"""The quiz tick: each live question's leaderboard goes out once its deadline has passed."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import utcnow
from bot.services.quizzes.boards import send_due_boards

logger = logging.getLogger(__name__)


async def send_quiz_boards(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """The scheduled job: queue the leaderboards now due (safe to run in two processes)."""
    async with sessionmaker() as session:
        sent = await send_due_boards(session, now=utcnow())
    if sent:
        logger.info("quiz tick: %d leaderboard(s) queued", sent)
    return sent
