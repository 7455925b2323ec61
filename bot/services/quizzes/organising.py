"""Organisers run their quizzes: the ones to come or running, and calling one off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Quiz, QuizEntry, Reader
from bot.notices.intents import Names, Notice
from bot.services import audit, outbox
from bot.services.errors import NotAllowedError
from bot.services.outbox import Priority
from bot.services.quizzes.notices import QuizCancelled
from bot.services.quizzes.playing import QuizClosedError, load_quiz, quiz_ends_at
from bot.services.roles import RoleSet

LISTED = 20


@dataclass(frozen=True)
class OrganisedQuiz:
    """A quiz as its organiser sees it: when it ends and how many have joined."""

    quiz: Quiz
    ends_at: datetime
    entrants: int


async def _entrants(session: AsyncSession, quiz_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(
        select(QuizEntry.quiz_id, func.count())
        .where(QuizEntry.quiz_id.in_(quiz_ids))
        .group_by(QuizEntry.quiz_id)
    )
    return {row[0]: row[1] for row in rows}


async def my_quizzes(
    session: AsyncSession, actor: Reader, roles: RoleSet, *, now: datetime
) -> list[OrganisedQuiz]:
    """The actor's published quizzes to come or running (an admin's: everyone's)."""
    query = (
        select(Quiz)
        .where(
            Quiz.published.is_(True),
            Quiz.cancelled_at.is_(None),
            # A live round lasts hours at most; a window quiz runs until it closes.
            or_(Quiz.starts_at > now - timedelta(days=1), Quiz.closes_at > now),
        )
        .options(selectinload(Quiz.questions))
        .order_by(Quiz.starts_at, Quiz.id)
    )
    if not roles.is_admin:
        query = query.where(Quiz.organiser_id == actor.id)
    running = [
        quiz for quiz in await session.scalars(query) if quiz.questions and quiz_ends_at(quiz) > now
    ][:LISTED]
    counts = await _entrants(session, [quiz.id for quiz in running])
    return [
        OrganisedQuiz(quiz=quiz, ends_at=quiz_ends_at(quiz), entrants=counts.get(quiz.id, 0))
        for quiz in running
    ]


async def managed_quiz(
    session: AsyncSession, actor: Reader, roles: RoleSet, quiz_id: int
) -> OrganisedQuiz:
    """The quiz (cancelled or not) if the actor made it or is an admin (callback data can
    be forged); NotAllowedError otherwise."""
    quiz = await load_quiz(session, quiz_id, cancelled=True)
    if not roles.is_admin and quiz.organiser_id != actor.id:
        raise NotAllowedError("not the organiser")
    counts = await _entrants(session, [quiz.id])
    return OrganisedQuiz(quiz=quiz, ends_at=quiz_ends_at(quiz), entrants=counts.get(quiz.id, 0))


@dataclass(frozen=True)
class Cancelled:
    """What a cancel did: ``told`` entrants; ``already`` if it had been cancelled before."""

    quiz: Quiz
    told: int
    already: bool


async def cancel_quiz(
    session: AsyncSession, actor: Reader, roles: RoleSet, quiz_id: int, *, now: datetime
) -> Cancelled:
    """Call the quiz off: tell every entrant, skip its questions and boards still queued.

    Once only: a conditional update marks it, so a second tap (or a race) changes nothing.
    A finished quiz cannot be cancelled (QuizClosedError). Entries and answers stay.
    """
    found = await managed_quiz(session, actor, roles, quiz_id)
    quiz = found.quiz
    if quiz.cancelled_at is not None:
        return Cancelled(quiz=quiz, told=0, already=True)
    if now >= found.ends_at:
        raise QuizClosedError()
    async with write(session):
        # The row lock first: joins and answers commit before, or see the quiz cancelled.
        marked = await session.execute(
            update(Quiz)
            .where(Quiz.id == quiz.id, Quiz.cancelled_at.is_(None))
            .values(cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(marked, "rowcount", 0) or 0) != 1:
            return Cancelled(quiz=quiz, told=0, already=True)
        # Live questions and leaderboards: ``quiz:<id>:q…`` and ``quiz:<id>:board…``.
        await outbox.skip_pending(session, f"quiz:{quiz.id}:", "quiz cancelled")
        entrants = list(
            await session.scalars(select(QuizEntry.reader_id).where(QuizEntry.quiz_id == quiz.id))
        )
        notice = QuizCancelled(
            quiz=Names(name=quiz.title, name_en=quiz.title_en), starts_at=quiz.starts_at
        )
        await outbox.enqueue_notices(
            session,
            [
                Notice(
                    reader_id=reader_id,
                    data=notice,
                    dedup_key=f"quiz-cancelled:{quiz.id}:{reader_id}",
                    priority=Priority.HIGH,
                )
                for reader_id in entrants
            ],
            now=now,
        )
        audit.record(
            session,
            actor,
            "quiz.cancel",
            target_type="quiz",
            target_id=quiz.id,
            notified=len(entrants),
        )
    return Cancelled(quiz=quiz, told=len(entrants), already=False)
