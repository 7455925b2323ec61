"""The demo alliance has a live quiz to join and a quiz open for a fortnight."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Quiz, QuizMode, utcnow
from bot.services.demo import seed_demo
from bot.services.quizzes import playing
from tests.factories import make_reader


async def test_demo_quizzes(session: AsyncSession, settings: Settings) -> None:
    zone = settings.zone
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    assert await session.scalar(select(func.count()).select_from(Quiz)) == 2
    quizzes = await playing.open_quizzes(session, now=utcnow())
    assert {quiz.mode for quiz in quizzes} == {QuizMode.LIVE, QuizMode.WINDOW}
    reader = await make_reader(session)
    await session.commit()
    for quiz in quizzes:
        joined = await playing.join(session, reader, quiz.id, now=utcnow())
        assert (joined.question is not None) is (quiz.mode is QuizMode.WINDOW)
