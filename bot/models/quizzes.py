"""Knowledge quizzes: questions with timed answers, one entry per reader, server-side timing."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, stored_enum, utcnow

if TYPE_CHECKING:
    from bot.models.readers import Reader


class QuizMode(enum.StrEnum):
    """Live: everyone answers question by question from a start time; window: at one's pace."""

    LIVE = "live"
    WINDOW = "window"


class Quiz(Timestamps, Base):
    """A knowledge contest: its title, how it runs, and whether readers can join it."""

    __tablename__ = "quizzes"
    __table_args__ = (
        CheckConstraint("gap_seconds >= 0", name="gap_not_negative"),
        CheckConstraint("top_places >= 1", name="top_places_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    mode: Mapped[QuizMode] = mapped_column(stored_enum(QuizMode, "quiz_mode"))
    # Live: the first question opens; window: entries open.
    starts_at: Mapped[datetime] = mapped_column(index=True)
    # Window: the last moment to start; live rounds end after their last question.
    closes_at: Mapped[datetime | None]
    # Live: the pause after each question's deadline, while the leaderboard is shown.
    gap_seconds: Mapped[int] = mapped_column(Integer, default=10)
    top_places: Mapped[int] = mapped_column(Integer, default=3)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # Live: how many questions' leaderboards have gone out (the tick's progress).
    boards_sent: Mapped[int] = mapped_column(Integer, default=0)
    # The organiser called it off: nothing more is sent or accepted; entries stay.
    cancelled_at: Mapped[datetime | None]

    organiser: Mapped[Reader | None] = relationship()
    questions: Mapped[list[QuizQuestion]] = relationship(
        order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )


class QuizQuestion(Base):
    """One question: 2–4 options (Chinese, optionally English), the right one, a time limit."""

    __tablename__ = "quiz_questions"
    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        CheckConstraint("seconds BETWEEN 5 AND 300", name="seconds_range"),
        CheckConstraint("correct >= 0", name="correct_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str | None] = mapped_column(String(500))
    options: Mapped[list[str]] = mapped_column(default=list)
    options_en: Mapped[list[str]] = mapped_column(default=list)
    correct: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(Integer)
    # A picture shown with the question: the Telegram file_id of the organiser's photo.
    image_file_id: Mapped[str | None] = mapped_column(String(255))


class QuizEntry(Base):
    """A reader's one attempt at a quiz, with the running score."""

    __tablename__ = "quiz_entries"
    __table_args__ = (UniqueConstraint("quiz_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Window: the question shown now (from 0) and when the server showed it.
    current: Mapped[int] = mapped_column(Integer, default=0)
    shown_at: Mapped[datetime | None]
    score: Mapped[int] = mapped_column(Integer, default=0)
    # Milliseconds taken over the right answers: the tie-break.
    time_ms: Mapped[int] = mapped_column(Integer, default=0)

    reader: Mapped[Reader] = relationship()


class QuizAnswer(Base):
    """An answer the server accepted in time (one per entry and question)."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("entry_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("quiz_entries.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[int] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime]
    elapsed_ms: Mapped[int] = mapped_column(Integer)
