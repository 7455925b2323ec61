"""Answers: timed by the server when the press arrives; late or second answers refused."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, utcnow
from bot.notices.quizzes import OPTION_MARKS, AnswerQuestion
from bot.services.errors import NotFoundError
from bot.services.quizzes import playing
from bot.services.quizzes.notices import QuestionShown
from bot.services.quizzes.playing import (
    AlreadyAnsweredError,
    NotEnteredError,
    QuestionClosedError,
    QuizCancelledError,
)
from handlers.common import remove_buttons, replace_buttons
from handlers.quizzes.callbacks import ContestAction, ContestData
from handlers.quizzes.contests import cancelled_text, contest_button
from handlers.quizzes.render import send_question


async def _send_question(
    bot: Bot,
    reader: Reader,
    question: QuestionShown | None,
    i18n: I18n,
    settings: Settings,
    quiz_id: int,
) -> None:
    if question is None:
        await bot.send_message(
            reader.chat_id,
            _("🏁 That was the last question. The results come when the quiz closes."),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[contest_button(_("🏁 Results"), ContestAction.RESULTS, quiz_id)]]
            ),
        )
        return
    await send_question(bot, reader.chat_id, question, i18n, settings)


async def answer(
    query: CallbackQuery,
    callback_data: AnswerQuestion,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Record the answer if it is in time (the server's clock when the press arrives)."""
    now = utcnow()
    try:
        result = await playing.answer(
            session, reader, callback_data.question_id, callback_data.choice, now=now
        )
    except QuizCancelledError:
        await query.answer(cancelled_text(), show_alert=True)
        await remove_buttons(query.message)
        return
    except QuestionClosedError as error:
        await query.answer(
            _("⌛ Time is up for this question: answers after its time do not count."),
            show_alert=True,
        )
        if error.window_quiz_id is None:
            await remove_buttons(query.message)
            return
        onwards = InlineKeyboardMarkup(
            inline_keyboard=[
                [contest_button(_("➡️ Next question"), ContestAction.NEXT, error.window_quiz_id)]
            ]
        )
        await replace_buttons(query.message, onwards)
        return
    except AlreadyAnsweredError:
        await query.answer(_("You have already answered this question."), show_alert=True)
        return
    except NotEnteredError:
        await query.answer(_("Join the quiz in /contests first."), show_alert=True)
        return
    except NotFoundError:
        await query.answer(_("That question no longer exists."), show_alert=True)
        return
    mark = OPTION_MARKS[result.right_option]
    if result.correct:
        await query.answer(_("✅ Right!"))
    else:
        await query.answer(_("❌ Not this one: the answer is {mark}.").format(mark=mark))
    await remove_buttons(query.message)
    if result.next_question is not None or (result.finished and result.quiz.closes_at):
        await _send_question(bot, reader, result.next_question, i18n, settings, result.quiz.id)


async def next_question(
    query: CallbackQuery,
    callback_data: ContestData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Window quizzes: move on after a question's time ran out unanswered."""
    try:
        question = await playing.skip_timed_out(
            session, reader, callback_data.quiz_id, now=utcnow()
        )
    except AlreadyAnsweredError:
        await query.answer(_("This question is still open: answer it first."), show_alert=True)
        return
    except QuizCancelledError:
        await query.answer(cancelled_text(), show_alert=True)
        await remove_buttons(query.message)
        return
    except (NotEnteredError, NotFoundError):
        await query.answer(_("Join the quiz in /contests first."), show_alert=True)
        return
    await query.answer()
    await remove_buttons(query.message)
    await _send_question(bot, reader, question, i18n, settings, callback_data.quiz_id)


def build_router() -> Router:
    """A fresh router with the answer buttons."""
    router = Router(name=__name__)
    router.callback_query.register(answer, AnswerQuestion.filter())
    router.callback_query.register(
        next_question, ContestData.filter(F.action == ContestAction.NEXT)
    )
    return router
