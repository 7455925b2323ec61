"""Two hundred contestants answering at the deadline: before it counts, after it does not."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Notification, QuizAnswer, QuizEntry, QuizMode, Reader
from bot.services.quizzes import playing
from bot.services.quizzes.boards import send_due_boards, standing
from bot.services.quizzes.playing import (
    AlreadyAnsweredError,
    AlreadyEnteredError,
    NotEnteredError,
    QuestionClosedError,
    live_slots,
)
from tests.factories import make_reader
from tests.quizzes.helpers import make_quiz


async def test_two_hundred_answers_at_the_deadline(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        quiz = await make_quiz(session, count=1, seconds=10)
        readers = [await make_reader(session) for _ in range(200)]
        await session.commit()
        slot = live_slots(quiz)[0]
        for reader in readers:
            await playing.join(session, reader, quiz.id, now=slot.opens_at - timedelta(seconds=5))
    question_id = quiz.questions[0].id
    deadline = slot.closes_at

    async def one(index: int, reader: Reader) -> str:
        # Even contestants answer within the last milliseconds, odd ones just after.
        moment = (
            deadline - timedelta(milliseconds=index % 50)
            if index % 2 == 0
            else (deadline + timedelta(milliseconds=1 + index % 50))
        )
        async with sessionmaker() as session:
            try:
                await playing.answer(session, reader, question_id, 1, now=moment)
            except QuestionClosedError:
                return "late"
            return "counted"

    outcomes = await asyncio.gather(*(one(i, r) for i, r in enumerate(readers)))
    assert outcomes.count("counted") == 100 and outcomes.count("late") == 100
    async with sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(QuizAnswer))
        assert stored == 100
        on_time = {readers[i].id for i in range(0, 200, 2)}
        scored = set(await session.scalars(select(QuizEntry.reader_id).where(QuizEntry.score == 1)))
        assert scored == on_time
        # The leaderboard goes out once the deadline has passed, once, to all 200.
        assert await send_due_boards(session, now=deadline - timedelta(milliseconds=1)) == 0
        assert await send_due_boards(session, now=deadline + timedelta(milliseconds=5)) == 1
        assert await send_due_boards(session, now=deadline + timedelta(seconds=1)) == 0
        boards = await session.scalar(select(func.count()).where(Notification.kind == "quiz.board"))
        assert boards == 200
        board = await standing(session, quiz.id)
        assert [line.score for line in board.lines[:100]] == [1] * 100
        assert board.lines[100].score == 0


async def test_one_attempt_one_answer_and_no_answer_outside_the_time(
    session: AsyncSession,
) -> None:
    quiz = await make_quiz(session, count=2, seconds=10, gap=5)
    reader, stranger = await make_reader(session), await make_reader(session)
    await session.commit()
    first, second = live_slots(quiz)
    await playing.join(session, reader, quiz.id, now=first.opens_at)
    with pytest.raises(AlreadyEnteredError):
        await playing.join(session, reader, quiz.id, now=first.opens_at)
    q1, q2 = quiz.questions
    with pytest.raises(NotEnteredError):
        await playing.answer(session, stranger, q1.id, 1, now=first.opens_at)
    with pytest.raises(QuestionClosedError):  # not open yet
        await playing.answer(session, reader, q2.id, 1, now=first.closes_at)
    result = await playing.answer(
        session, reader, q1.id, 0, now=first.opens_at + timedelta(seconds=2)
    )
    assert not result.correct and result.right_option == 1
    with pytest.raises(AlreadyAnsweredError):
        await playing.answer(session, reader, q1.id, 1, now=first.opens_at + timedelta(seconds=3))
    with pytest.raises(QuestionClosedError):  # closed
        await playing.answer(session, reader, q2.id, 1, now=second.closes_at + timedelta(seconds=1))
    entry = await session.scalar(select(QuizEntry).where(QuizEntry.reader_id == reader.id))
    assert entry is not None and entry.score == 0
    assert await session.scalar(select(func.count()).select_from(QuizAnswer)) == 1


async def test_a_window_quiz_is_timed_per_contestant(session: AsyncSession) -> None:
    quiz = await make_quiz(session, mode=QuizMode.WINDOW, count=2, seconds=10)
    reader = await make_reader(session)
    await session.commit()
    start = quiz.starts_at + timedelta(hours=1)
    joined = await playing.join(session, reader, quiz.id, now=start)
    assert joined.question is not None and joined.question.number == 1
    q1, q2 = quiz.questions
    with pytest.raises(QuestionClosedError):  # the second is not shown yet
        await playing.answer(session, reader, q2.id, 1, now=start)
    answered = await playing.answer(session, reader, q1.id, 1, now=start + timedelta(seconds=4))
    assert answered.correct and answered.next_question is not None
    late = start + timedelta(seconds=4 + 11)
    with pytest.raises(QuestionClosedError):
        await playing.answer(session, reader, q2.id, 1, now=late)
    assert await playing.skip_timed_out(session, reader, quiz.id, now=late) is None
    entry = await session.scalar(select(QuizEntry).where(QuizEntry.reader_id == reader.id))
    assert entry is not None and entry.score == 1 and entry.time_ms == 4000
