"""Quizzes for the tests: a live round or a window, built through the service."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Quiz, QuizMode, Role, utcnow
from bot.services.quizzes.building import NewQuiz, QuestionDraft, create_quiz
from bot.services.roles import RoleSet
from tests.factories import make_reader

ORGANISER = RoleSet(roles=frozenset({Role.ORGANISER}))


def questions(count: int, seconds: int = 20) -> list[QuestionDraft]:
    """``count`` questions whose right answer is the second option."""
    return [
        QuestionDraft(
            text=f"第{n}题：哪一个？",
            text_en=f"Question {n}: which one?",
            options=["甲", "乙", "丙"],
            options_en=["Alpha", "Beta", "Gamma"],
            correct=1,
            seconds=seconds,
        )
        for n in range(1, count + 1)
    ]


async def make_quiz(
    session: AsyncSession,
    *,
    mode: QuizMode = QuizMode.LIVE,
    starts_at: datetime | None = None,
    count: int = 3,
    seconds: int = 20,
    gap: int = 5,
) -> Quiz:
    """A published quiz starting in a minute (a window quiz stays open a day)."""
    organiser = await make_reader(session)
    await session.commit()
    starts = starts_at or utcnow() + timedelta(minutes=1)
    return await create_quiz(
        session,
        organiser,
        ORGANISER,
        NewQuiz(
            title="读书知识竞赛",
            title_en="Reading Quiz",
            mode=mode,
            starts_at=starts,
            closes_at=starts + timedelta(days=1) if mode is QuizMode.WINDOW else None,
            questions=questions(count, seconds),
            gap_seconds=gap,
        ),
        now=starts - timedelta(minutes=2),
    )
