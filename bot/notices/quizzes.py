"""How quiz notices read: a live question with its option buttons, a leaderboard, results."""

from __future__ import annotations

from html import escape

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt
from bot.notices.registry import Context, renders
from bot.services.events.times import local_time
from bot.services.outbox import Attachment, Button, OutboxMessage
from bot.services.quizzes.notices import (
    BoardAfterQuestion,
    BoardLine,
    QuestionAsked,
    QuestionShown,
    QuizCancelled,
)

OPTION_MARKS = ("A", "B", "C", "D")
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


class AnswerQuestion(CallbackData, prefix="qa"):
    """An option of a question (the server decides whether it came in time)."""

    question_id: DbInt
    choice: DbInt


class QuizCertificate(CallbackData, prefix="qc"):
    """Ask for the certificate of a top place."""

    quiz_id: DbInt


def question_message(question: QuestionShown, ctx: Context) -> OutboxMessage:
    """The question, its options as buttons, and how long there is to answer."""
    english = ctx.language == "en" and len(question.options_en) == len(question.options)
    options = question.options_en if english else question.options
    lines = [
        ctx._("❓ Question {number} of {total}").format(
            number=question.number, total=question.total
        ),
        f"<b>{escape(ctx.name(question.text), quote=False)}</b>",
        "",
    ]
    lines += [
        f"{mark}. {escape(option, quote=False)}"
        for mark, option in zip(OPTION_MARKS, options, strict=False)
    ]
    lines += [
        "",
        ctx._("⏱ {seconds} seconds: answers after {time} do not count.").format(
            seconds=question.seconds,
            time=question.closes_at.astimezone(ctx.settings.zone).strftime("%H:%M:%S"),
        ),
    ]
    buttons = [
        Button(
            label=f"{mark}. {option}"[:40],
            callback_data=AnswerQuestion(question_id=question.question_id, choice=index).pack(),
        )
        for index, (mark, option) in enumerate(zip(OPTION_MARKS, options, strict=False))
    ]
    return OutboxMessage(
        text={ctx.language: "\n".join(lines)},
        buttons=[[b] for b in buttons],
        attachment=Attachment(kind="photo", file=question.image_file_id)
        if question.image_file_id
        else None,
    )


@renders(QuestionAsked)
def _question(notice: QuestionAsked, ctx: Context) -> OutboxMessage:
    return question_message(notice.question, ctx)


def board_line(line: BoardLine, ctx: Context) -> str:
    """A place: medal or number, name, points and time taken."""
    medal = MEDALS.get(line.place, f"{line.place}.")
    return ctx._("{medal} {name}: {score} points, {seconds} s").format(
        medal=medal,
        name=escape(line.name, quote=False),
        score=line.score,
        seconds=f"{line.seconds:.1f}",
    )


@renders(BoardAfterQuestion)
def _board(notice: BoardAfterQuestion, ctx: Context) -> OutboxMessage:
    if notice.final:
        head = ctx._("🏁 <b>{quiz}</b> is over. Final results:")
    else:
        head = ctx._("📊 <b>{quiz}</b>: the leaderboard after question {number} of {total}.")
    lines = [
        head.format(
            quiz=escape(ctx.name(notice.quiz), quote=False),
            number=notice.number,
            total=notice.total,
        ),
        ctx._("The right answer: {answer}").format(
            answer=escape(ctx.name(notice.correct_option), quote=False)
        ),
        "",
    ]
    lines += [board_line(line, ctx) for line in notice.top]
    if notice.own is not None and notice.own not in notice.top:
        lines += ["…", board_line(notice.own, ctx)]
    buttons = []
    if notice.certificate:
        lines += ["", ctx._("🏅 Congratulations on your place! Your certificate is one tap away.")]
        buttons.append(
            [
                Button(
                    label=ctx._("🏅 My certificate"),
                    callback_data=QuizCertificate(quiz_id=notice.quiz_id).pack(),
                )
            ]
        )
    return OutboxMessage(text={ctx.language: "\n".join(lines)}, buttons=buttons)


@renders(QuizCancelled)
def _cancelled(notice: QuizCancelled, ctx: Context) -> OutboxMessage:
    lines = [
        ctx._(
            "❌ Sorry, the quiz <b>{quiz}</b> ({time}) has been cancelled by its organiser."
        ).format(
            quiz=escape(ctx.name(notice.quiz), quote=False),
            time=local_time(notice.starts_at, ctx.settings.zone),
        ),
        ctx._("No more questions will come; your answers so far are kept."),
    ]
    return OutboxMessage(text={ctx.language: "\n".join(lines)})
