"""Leaderboards: after each live question's deadline, to every contestant; final results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Quiz, QuizEntry, QuizMode, Reader
from bot.notices.intents import Names, Notice
from bot.services import outbox
from bot.services.errors import NotFoundError
from bot.services.quizzes.notices import BoardAfterQuestion, BoardLine
from bot.services.quizzes.playing import live_slots, load_quiz, quiz_ends_at

BOARD_TOP = 5


@dataclass(frozen=True)
class Standing:
    """Every entry of a quiz in place order (score, then less time on right answers)."""

    lines: list[BoardLine]
    reader_ids: list[int]

    def place_of(self, reader_id: int) -> BoardLine | None:
        """The reader's line, if they entered."""
        if reader_id not in self.reader_ids:
            return None
        return self.lines[self.reader_ids.index(reader_id)]


async def standing(session: AsyncSession, quiz_id: int) -> Standing:
    """The quiz's standing now."""
    rows = (
        await session.execute(
            select(QuizEntry.reader_id, QuizEntry.score, QuizEntry.time_ms, Reader.first_name)
            .join(Reader, QuizEntry.reader_id == Reader.id)
            .where(QuizEntry.quiz_id == quiz_id)
            .order_by(QuizEntry.score.desc(), QuizEntry.time_ms, QuizEntry.id)
        )
    ).all()
    lines = [
        BoardLine(place=place, name=name or "—", score=score, seconds=time_ms / 1000)
        for place, (_reader, score, time_ms, name) in enumerate(rows, start=1)
    ]
    return Standing(lines=lines, reader_ids=[row[0] for row in rows])


def _boards(quiz: Quiz, number: int, board: Standing) -> list[Notice]:
    question = quiz.questions[number]
    final = number + 1 == len(quiz.questions)
    right = Names(
        name=question.options[question.correct],
        name_en=question.options_en[question.correct] if question.options_en else None,
    )
    top = board.lines[:BOARD_TOP]
    notices = []
    for reader_id, own in zip(board.reader_ids, board.lines, strict=True):
        notices.append(
            Notice(
                reader_id=reader_id,
                data=BoardAfterQuestion(
                    quiz=Names(name=quiz.title, name_en=quiz.title_en),
                    quiz_id=quiz.id,
                    number=number + 1,
                    total=len(quiz.questions),
                    correct_option=right,
                    top=top,
                    own=own,
                    final=final,
                    certificate=final and own.place <= quiz.top_places and own.score > 0,
                ),
                dedup_key=f"quiz:{quiz.id}:board{number}:{reader_id}",
                priority=5,
            )
        )
    return notices


async def send_due_boards(session: AsyncSession, *, now: datetime) -> int:
    """Queue the leaderboard of every live question whose deadline has passed; how many."""
    quizzes = list(
        await session.scalars(
            select(Quiz)
            .where(
                Quiz.published.is_(True),
                Quiz.mode == QuizMode.LIVE,
                Quiz.cancelled_at.is_(None),
                Quiz.starts_at <= now,
                Quiz.starts_at > now - timedelta(days=1),
            )
            .options(selectinload(Quiz.questions))
        )
    )
    sent = 0
    for quiz in quizzes:
        slots = live_slots(quiz)
        number = quiz.boards_sent
        while number < len(slots) and slots[number].closes_at <= now:
            async with write(session):
                # One process sends each board: the first to move the counter on (never
                # for a quiz cancelled meanwhile).
                moved = await session.execute(
                    update(Quiz)
                    .where(
                        Quiz.id == quiz.id,
                        Quiz.boards_sent == number,
                        Quiz.cancelled_at.is_(None),
                    )
                    .values(boards_sent=number + 1)
                    .execution_options(synchronize_session=False)
                )
                if int(getattr(moved, "rowcount", 0) or 0) != 1:
                    break
                board = await standing(session, quiz.id)
                await outbox.enqueue_notices(session, _boards(quiz, number, board), now=now)
            sent += 1
            number += 1
    return sent


@dataclass(frozen=True)
class Results:
    """A quiz's final places (top places only), once it is over."""

    quiz: Quiz
    top: list[BoardLine]
    own: BoardLine | None
    over: bool


async def results(session: AsyncSession, quiz_id: int, reader: Reader, *, now: datetime) -> Results:
    """The top places, and the reader's own, when the quiz is over."""
    quiz = await load_quiz(session, quiz_id)
    over = now >= quiz_ends_at(quiz)
    board = await standing(session, quiz.id)
    return Results(
        quiz=quiz,
        top=board.lines[: quiz.top_places] if over else [],
        own=board.place_of(reader.id),
        over=over,
    )


async def certificate_place(
    session: AsyncSession, quiz_id: int, reader: Reader, *, now: datetime
) -> tuple[Quiz, BoardLine]:
    """The reader's place if it earns a certificate (a top place with a score, quiz over)."""
    found = await results(session, quiz_id, reader, now=now)
    own = found.own
    if not found.over or own is None or own.place > found.quiz.top_places or own.score == 0:
        raise NotFoundError("certificate")
    return found.quiz, own
