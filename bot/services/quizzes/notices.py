"""What quizzes tell contestants: a live question, the leaderboard after it, the results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.models import Quiz, QuizQuestion
from bot.notices.intents import Names, NoticeData, notice_kind


class QuestionShown(BaseModel):
    """A question as contestants see it (never which option is right)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quiz_id: int
    question_id: int
    number: int
    total: int
    text: Names
    options: list[str]
    options_en: list[str] = []
    closes_at: datetime
    seconds: int
    image_file_id: str | None = None


def question_shown(quiz: Quiz, question: QuizQuestion, closes_at: datetime) -> QuestionShown:
    """The question as shown, answerable until ``closes_at`` (questions must be loaded)."""
    return QuestionShown(
        quiz_id=quiz.id,
        question_id=question.id,
        number=question.position + 1,
        total=len(quiz.questions),
        text=Names(name=question.text, name_en=question.text_en),
        options=list(question.options),
        options_en=list(question.options_en),
        closes_at=closes_at,
        seconds=question.seconds,
        image_file_id=question.image_file_id,
    )


class BoardLine(BaseModel):
    """One place on a leaderboard."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    place: int
    name: str
    score: int
    seconds: float


@notice_kind("quiz.question")
class QuestionAsked(NoticeData):
    """A live question opens for a contestant."""

    question: QuestionShown


@notice_kind("quiz.board")
class BoardAfterQuestion(NoticeData):
    """The leaderboard after a live question's deadline, with the contestant's own place."""

    quiz: Names
    number: int
    total: int
    correct_option: Names
    top: list[BoardLine]
    own: BoardLine | None = None
    final: bool = False
    quiz_id: int = 0
    certificate: bool = False


@notice_kind("quiz.cancelled")
class QuizCancelled(NoticeData):
    """The organiser cancelled a quiz the contestant had joined."""

    quiz: Names
    starts_at: datetime
