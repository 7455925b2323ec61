"""Quiz messages shared by the handlers: a question as the reader sees it, a quiz's time."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.models import Quiz, QuizMode
from bot.notices.quizzes import question_message
from bot.notices.registry import Context
from bot.services.events.times import local_time
from bot.services.outbox import OutboxMessage
from bot.services.outbox.messages import CAPTION_LIMIT
from bot.services.quizzes.notices import QuestionShown
from bot.services.quizzes.playing import quiz_ends_at


def as_markup(message: OutboxMessage) -> InlineKeyboardMarkup | None:
    """An outbox message's buttons as an inline keyboard."""
    rows = [
        [InlineKeyboardButton(text=str(b.label), callback_data=b.callback_data) for b in row]
        for row in message.buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def question_reply(
    question: QuestionShown, i18n: I18n, settings: Settings
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The question as a reply (the same text and buttons a live question's notice has)."""
    language = i18n.current_locale
    message = question_message(question, Context(language, i18n, settings))
    return message.text[language], as_markup(message)


async def send_question(
    bot: Bot, chat_id: int, question: QuestionShown, i18n: I18n, settings: Settings
) -> None:
    """Send the question: as a photo with it as the caption when it has an image."""
    text, markup = question_reply(question, i18n, settings)
    if question.image_file_id is None:
        await bot.send_message(chat_id, text, reply_markup=markup)
    elif len(text) <= CAPTION_LIMIT:
        await bot.send_photo(chat_id, question.image_file_id, caption=text, reply_markup=markup)
    else:
        await bot.send_photo(chat_id, question.image_file_id)
        await bot.send_message(chat_id, text, reply_markup=markup)


def when_text(quiz: Quiz, settings: Settings) -> str:
    """From when to when it can be played, on the alliance's clock."""
    zone = settings.zone
    if quiz.mode is QuizMode.LIVE:
        return local_time(quiz.starts_at, zone)
    closes = quiz.closes_at or quiz_ends_at(quiz)
    return f"{local_time(quiz.starts_at, zone)} – {local_time(closes, zone)}"
