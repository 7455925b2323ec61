"""Playing a quiz: joining once, questions timed by the server, answers only while open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Quiz, QuizAnswer, QuizEntry, QuizMode, QuizQuestion, Reader
from bot.notices.intents import Notice
from bot.services import outbox
from bot.services.errors import DomainError, NotFoundError
from bot.services.quizzes.notices import QuestionAsked, QuestionShown, question_shown


class QuizClosedError(DomainError):
    """The quiz is over (or, for a window, not open yet: ``opens_at``)."""

    def __init__(self, opens_at: datetime | None = None) -> None:
        super().__init__("not open" if opens_at else "closed")
        self.opens_at = opens_at


class QuizCancelledError(DomainError):
    """The organiser cancelled the quiz: nothing more can be joined, answered or shown."""

    def __init__(self) -> None:
        super().__init__("cancelled")


class AlreadyEnteredError(DomainError):
    """One attempt per reader: the reader has joined this quiz before."""


class NotEnteredError(DomainError):
    """The reader has not joined the quiz (a forged or stale answer button)."""


class QuestionClosedError(DomainError):
    """The answer came after the question's time (or before it opened): not counted.

    ``window_quiz_id``: the quiz of a window question, whose reader may move on.
    """

    def __init__(self, reason: str, window_quiz_id: int | None = None) -> None:
        super().__init__(reason)
        self.window_quiz_id = window_quiz_id


class AlreadyAnsweredError(DomainError):
    """The question has been answered by this reader already."""


@dataclass(frozen=True)
class Slot:
    """When a live question is open."""

    opens_at: datetime
    closes_at: datetime


def live_slots(quiz: Quiz) -> list[Slot]:
    """Each question's open time in a live round: back to back with a gap for the board."""
    slots, opens = [], quiz.starts_at
    for question in quiz.questions:
        closes = opens + timedelta(seconds=question.seconds)
        slots.append(Slot(opens, closes))
        opens = closes + timedelta(seconds=quiz.gap_seconds)
    return slots


def quiz_ends_at(quiz: Quiz) -> datetime:
    """When nothing more can be answered."""
    if quiz.mode is QuizMode.LIVE:
        slots = live_slots(quiz)
        return slots[-1].closes_at if slots else quiz.starts_at
    longest = max((question.seconds for question in quiz.questions), default=0)
    assert quiz.closes_at is not None
    return quiz.closes_at + timedelta(seconds=longest)


async def load_quiz(session: AsyncSession, quiz_id: int, *, cancelled: bool = False) -> Quiz:
    """The published quiz with its questions (NotFoundError otherwise; QuizCancelledError
    if it was cancelled, unless ``cancelled`` asks for cancelled ones too)."""
    quiz = await session.scalar(
        select(Quiz)
        .where(Quiz.id == quiz_id, Quiz.published.is_(True))
        .options(selectinload(Quiz.questions))
    )
    if quiz is None:
        raise NotFoundError("quiz")
    if quiz.cancelled_at is not None and not cancelled:
        raise QuizCancelledError()
    return quiz


async def check_not_cancelled(session: AsyncSession, quiz_id: int) -> None:
    """Inside a write: QuizCancelledError if the quiz was cancelled, share-locked against a
    cancel, so a join or answer either commits before the cancel reads the entrants, or
    sees the quiz cancelled."""
    query = select(Quiz.cancelled_at).where(Quiz.id == quiz_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    if await session.scalar(query) is not None:
        raise QuizCancelledError()


async def open_quizzes(session: AsyncSession, *, now: datetime, limit: int = 20) -> list[Quiz]:
    """Published quizzes one can still join or follow, and those just finished, soonest first."""
    candidates = list(
        await session.scalars(
            select(Quiz)
            .where(
                Quiz.published.is_(True),
                Quiz.cancelled_at.is_(None),
                Quiz.starts_at > now - timedelta(days=7),
            )
            .options(selectinload(Quiz.questions))
            .order_by(Quiz.starts_at, Quiz.id)
            .limit(limit * 2)
        )
    )
    return [quiz for quiz in candidates if quiz.questions][:limit]


def _question_notices(quiz: Quiz, reader_id: int, now: datetime) -> list[Notice]:
    notices = []
    for question, slot in zip(quiz.questions, live_slots(quiz), strict=True):
        if slot.closes_at <= now:
            continue
        notices.append(
            Notice(
                reader_id=reader_id,
                data=QuestionAsked(question=question_shown(quiz, question, slot.closes_at)),
                dedup_key=f"quiz:{quiz.id}:q{question.position}:{reader_id}",
                not_before=slot.opens_at,
                expires_at=slot.closes_at,
                priority=10,
            )
        )
    return notices


@dataclass(frozen=True)
class Joined:
    """The reader's entry; for a window quiz, the first question to show now."""

    quiz: Quiz
    entry: QuizEntry
    question: QuestionShown | None


async def join(session: AsyncSession, reader: Reader, quiz_id: int, *, now: datetime) -> Joined:
    """Enter the quiz once: live questions come by themselves; a window quiz starts now."""
    quiz = await load_quiz(session, quiz_id)
    if now >= quiz_ends_at(quiz) or (
        quiz.mode is QuizMode.WINDOW and quiz.closes_at is not None and now > quiz.closes_at
    ):
        raise QuizClosedError()
    if quiz.mode is QuizMode.LIVE and live_slots(quiz)[-1].closes_at <= now:
        raise QuizClosedError()
    if quiz.mode is QuizMode.WINDOW and now < quiz.starts_at:
        raise QuizClosedError(quiz.starts_at)
    known = await session.scalar(
        select(QuizEntry.id).where(QuizEntry.quiz_id == quiz.id, QuizEntry.reader_id == reader.id)
    )
    if known is not None:
        raise AlreadyEnteredError("entered")
    window = quiz.mode is QuizMode.WINDOW
    entry = QuizEntry(
        quiz_id=quiz.id, reader_id=reader.id, joined_at=now, shown_at=now if window else None
    )
    try:
        async with write(session):
            await check_not_cancelled(session, quiz.id)
            session.add(entry)
            await session.flush()
            if not window:
                await outbox.enqueue_notices(
                    session, _question_notices(quiz, reader.id, now), now=now
                )
    except IntegrityError as error:
        raise AlreadyEnteredError("entered") from error
    first = quiz.questions[0]
    shown = question_shown(quiz, first, now + timedelta(seconds=first.seconds)) if window else None
    return Joined(quiz=quiz, entry=entry, question=shown)


@dataclass(frozen=True)
class Answered:
    """What the server recorded, and (window) the next question, shown now."""

    quiz: Quiz
    correct: bool
    right_option: int
    next_question: QuestionShown | None
    finished: bool


async def _entry(session: AsyncSession, quiz: Quiz, reader: Reader) -> QuizEntry:
    entry = await session.scalar(
        select(QuizEntry)
        .where(QuizEntry.quiz_id == quiz.id, QuizEntry.reader_id == reader.id)
        .execution_options(populate_existing=True)
    )
    if entry is None:
        raise NotEnteredError("not entered")
    return entry


def _opened_at(quiz: Quiz, question: QuizQuestion, entry: QuizEntry, now: datetime) -> datetime:
    """When the question opened for this entry; QuestionClosedError when it is not open now."""
    if quiz.mode is QuizMode.LIVE:
        slot = live_slots(quiz)[question.position]
        if not slot.opens_at <= now <= slot.closes_at:
            raise QuestionClosedError("closed")
        return slot.opens_at
    if entry.current != question.position or entry.shown_at is None:
        raise QuestionClosedError("not current")
    if now > entry.shown_at + timedelta(seconds=question.seconds):
        raise QuestionClosedError("closed", window_quiz_id=quiz.id)
    return entry.shown_at


async def answer(
    session: AsyncSession, reader: Reader, question_id: int, choice: int, *, now: datetime
) -> Answered:
    """Record the answer if it came in time and is the reader's first to this question."""
    question = await session.get(QuizQuestion, question_id)
    if question is None:
        raise NotFoundError("question")
    quiz = await load_quiz(session, question.quiz_id)
    entry = await _entry(session, quiz, reader)
    opened = _opened_at(quiz, question, entry, now)
    if not 0 <= choice < len(question.options):
        raise NotFoundError("option")
    given = await session.scalar(
        select(QuizAnswer.id).where(
            QuizAnswer.entry_id == entry.id, QuizAnswer.question_id == question.id
        )
    )
    if given is not None:
        raise AlreadyAnsweredError("answered")
    correct = choice == question.correct
    elapsed = int((now - opened).total_seconds() * 1000)
    window = quiz.mode is QuizMode.WINDOW
    try:
        async with write(session):
            await check_not_cancelled(session, quiz.id)
            session.add(
                QuizAnswer(
                    entry_id=entry.id,
                    question_id=question.id,
                    choice=choice,
                    correct=correct,
                    answered_at=now,
                    elapsed_ms=elapsed,
                )
            )
            await session.flush()
            moved = update(QuizEntry).where(QuizEntry.id == entry.id)
            if window:
                # The next question is shown with the reply: its clock starts now.
                moved = moved.where(QuizEntry.current == question.position).values(
                    current=question.position + 1, shown_at=now
                )
            if correct:
                moved = moved.values(score=QuizEntry.score + 1, time_ms=QuizEntry.time_ms + elapsed)
            if window or correct:
                await session.execute(moved.execution_options(synchronize_session=False))
    except IntegrityError as error:
        raise AlreadyAnsweredError("answered") from error
    return Answered(
        quiz=quiz,
        correct=correct,
        right_option=question.correct,
        next_question=_next(quiz, question.position + 1, now) if window else None,
        finished=question.position + 1 >= len(quiz.questions),
    )


def _next(quiz: Quiz, position: int, now: datetime) -> QuestionShown | None:
    if position >= len(quiz.questions):
        return None
    question = quiz.questions[position]
    return question_shown(quiz, question, now + timedelta(seconds=question.seconds))


async def skip_timed_out(
    session: AsyncSession, reader: Reader, quiz_id: int, *, now: datetime
) -> QuestionShown | None:
    """Window: the question's time ran out unanswered; show the next (None at the end)."""
    quiz = await load_quiz(session, quiz_id)
    entry = await _entry(session, quiz, reader)
    if entry.current >= len(quiz.questions) or entry.shown_at is None:
        return None
    question = quiz.questions[entry.current]
    if now <= entry.shown_at + timedelta(seconds=question.seconds):
        raise AlreadyAnsweredError("still open")
    async with write(session):
        await check_not_cancelled(session, quiz.id)
        await session.execute(
            update(QuizEntry)
            .where(QuizEntry.id == entry.id, QuizEntry.current == entry.current)
            .values(current=entry.current + 1, shown_at=now)
            .execution_options(synchronize_session=False)
        )
    return _next(quiz, question.position + 1, now)


async def has_entered(session: AsyncSession, quiz_id: int, reader: Reader) -> bool:
    """Whether the reader has joined the quiz."""
    found = await session.scalar(
        select(QuizEntry.id).where(QuizEntry.quiz_id == quiz_id, QuizEntry.reader_id == reader.id)
    )
    return found is not None
