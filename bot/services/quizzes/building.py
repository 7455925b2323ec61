"""Building a quiz: questions typed in chat or read from CSV, checked, then stored at once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Quiz, QuizMode, QuizQuestion, Reader, Role
from bot.services import audit
from bot.services.errors import InvalidInputError, NotAllowedError
from bot.services.roles import RoleSet

MIN_OPTIONS, MAX_OPTIONS = 2, 4
SECONDS_RANGE = range(5, 301)
DEFAULT_SECONDS = 20
QUESTION_LIMIT = 500
OPTION_LIMIT = 100
MAX_QUESTIONS = 50
CSV_LIMIT_BYTES = 256 * 1024
CSV_COLUMNS = (
    "question",
    "option_1",
    "option_2",
    "option_3",
    "option_4",
    "correct",
    "seconds",
    "question_en",
    "option_1_en",
    "option_2_en",
    "option_3_en",
    "option_4_en",
)


class QuestionDraft(BaseModel):
    """A question as the organiser gave it (kept in the wizard's draft)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    options: list[str]
    correct: int
    seconds: int = DEFAULT_SECONDS
    text_en: str | None = None
    options_en: list[str] = []
    image_file_id: str | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a question: which (line or number) and what (a code)."""

    where: int
    what: str


def check_question(question: QuestionDraft, where: int) -> list[Problem]:
    """What is wrong with the question (codes: text, options, option, correct, seconds, english)."""
    problems = []
    if not 0 < len(question.text) <= QUESTION_LIMIT:
        problems.append(Problem(where, "text"))
    if not MIN_OPTIONS <= len(question.options) <= MAX_OPTIONS:
        problems.append(Problem(where, "options"))
    elif any(not 0 < len(option) <= OPTION_LIMIT for option in question.options):
        problems.append(Problem(where, "option"))
    if not 0 <= question.correct < len(question.options):
        problems.append(Problem(where, "correct"))
    if question.seconds not in SECONDS_RANGE:
        problems.append(Problem(where, "seconds"))
    if question.options_en and len(question.options_en) != len(question.options):
        problems.append(Problem(where, "english"))
    return problems


def parse_typed_question(text: str) -> QuestionDraft:
    """A question typed in chat: the question, 2–4 options (the right one starts with ``*``),
    and optionally the seconds on the last line. InvalidInputError names what is wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    seconds = DEFAULT_SECONDS
    if lines and lines[-1].isdigit():
        seconds = int(lines.pop()) if len(lines[-1]) < 5 else 0
    if len(lines) < 1 + MIN_OPTIONS:
        raise InvalidInputError("options")
    options = [line.removeprefix("*").strip() for line in lines[1:]]
    marked = [index for index, line in enumerate(lines[1:]) if line.startswith("*")]
    if len(marked) != 1:
        raise InvalidInputError("correct")
    question = QuestionDraft(text=lines[0], options=options, correct=marked[0], seconds=seconds)
    problems = check_question(question, 1)
    if problems:
        raise InvalidInputError(problems[0].what)
    return question


@dataclass
class CsvQuestions:
    """The questions a CSV file holds, or the problems with it (line numbers from 1)."""

    questions: list[QuestionDraft] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _number(value: str) -> int:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 5 else -1


def parse_quiz_csv(content: bytes) -> CsvQuestions:
    """Questions from a CSV file with the ``CSV_COLUMNS`` header (UTF-8; all or nothing)."""
    result = CsvQuestions()
    if len(content) > CSV_LIMIT_BYTES:
        result.problems.append(Problem(0, "size"))
        return result
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(Problem(0, "encoding"))
        return result
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"question", "option_1", "option_2", "correct"} <= set(
        reader.fieldnames
    ):
        result.problems.append(Problem(1, "header"))
        return result
    for row in reader:
        line = reader.line_num
        get = {key: (value or "").strip() for key, value in row.items() if key}
        options = [get.get(f"option_{n}", "") for n in range(1, MAX_OPTIONS + 1)]
        options = [option for option in options if option]
        english = [get.get(f"option_{n}_en", "") for n in range(1, MAX_OPTIONS + 1)]
        english = [option for option in english if option]
        seconds = _number(get["seconds"]) if get.get("seconds") else DEFAULT_SECONDS
        question = QuestionDraft(
            text=get.get("question", ""),
            options=options,
            correct=_number(get.get("correct", "")) - 1,
            seconds=seconds,
            text_en=get.get("question_en") or None,
            options_en=english,
        )
        problems = check_question(question, line)
        result.problems += problems
        if not problems:
            result.questions.append(question)
    if not result.questions and not result.problems:
        result.problems.append(Problem(1, "empty"))
    if len(result.questions) > MAX_QUESTIONS:
        result.problems.append(Problem(0, "too many"))
    return result


@dataclass(frozen=True)
class NewQuiz:
    """What the wizard collected."""

    title: str
    mode: QuizMode
    starts_at: datetime
    closes_at: datetime | None
    questions: list[QuestionDraft]
    title_en: str | None = None
    gap_seconds: int = 10
    top_places: int = 3


async def create_quiz(
    session: AsyncSession, organiser: Reader, roles: RoleSet, new: NewQuiz, *, now: datetime
) -> Quiz:
    """Store and publish the quiz with its questions (organisers and admins)."""
    if not roles.has(Role.ORGANISER):
        raise NotAllowedError("organisers only")
    if not new.questions or len(new.questions) > MAX_QUESTIONS:
        raise InvalidInputError("questions")
    if new.starts_at <= now:
        raise InvalidInputError("start")
    if new.mode is QuizMode.WINDOW and (new.closes_at is None or new.closes_at <= new.starts_at):
        raise InvalidInputError("close")
    for number, question in enumerate(new.questions, start=1):
        if check_question(question, number):
            raise InvalidInputError("question")
    async with write(session):
        quiz = Quiz(
            title=new.title,
            title_en=new.title_en,
            organiser_id=organiser.id,
            mode=new.mode,
            starts_at=new.starts_at,
            closes_at=new.closes_at if new.mode is QuizMode.WINDOW else None,
            gap_seconds=new.gap_seconds,
            top_places=new.top_places,
            published=True,
            questions=[
                QuizQuestion(
                    position=position,
                    text=question.text,
                    text_en=question.text_en,
                    options=list(question.options),
                    options_en=list(question.options_en),
                    correct=question.correct,
                    seconds=question.seconds,
                    image_file_id=question.image_file_id,
                )
                for position, question in enumerate(new.questions)
            ],
        )
        session.add(quiz)
        await session.flush()
        audit.record(session, organiser, "quiz.publish", target_type="quiz", target_id=quiz.id)
    return quiz
