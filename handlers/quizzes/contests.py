"""/contests: quizzes to join, a quiz's card, joining once, results and certificates."""

from __future__ import annotations

import asyncio
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Quiz, QuizMode, Reader, display_name, utcnow
from bot.notices.quizzes import QuizCertificate, board_line
from bot.notices.registry import Context
from bot.services.charts import label_language
from bot.services.errors import NotFoundError
from bot.services.quizzes import boards, playing
from bot.services.quizzes.certificates import CertificateText, certificate_png
from bot.services.quizzes.playing import (
    AlreadyEnteredError,
    QuizCancelledError,
    QuizClosedError,
    quiz_ends_at,
)
from handlers.common import edit_message
from handlers.quizzes.callbacks import ContestAction, ContestData
from handlers.quizzes.render import send_question, when_text
from handlers.submissions.entries import contest_listing


def contest_button(text: str, action: ContestAction, quiz_id: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=ContestData(action=action, quiz_id=quiz_id).pack()
    )


def cancelled_text() -> str:
    """What a reader is told when a quiz was called off."""
    return _("This quiz was cancelled.")


def mode_text(quiz: Quiz) -> str:
    """Live or within a window, for readers."""
    if quiz.mode is QuizMode.LIVE:
        return _("🔴 Live: everyone answers together, question by question.")
    return _("🕒 At your own pace, any time within the window.")


async def show_contests(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """/contests: quizzes open, coming, or just over."""
    now = utcnow()
    quizzes = await playing.open_quizzes(session, now=now)
    language = i18n.current_locale
    lines = [_("🏆 <b>Knowledge contests</b>")]
    builder = InlineKeyboardBuilder()
    writing = await contest_listing(session, settings)
    if not quizzes and not writing:
        lines.append(_("No quizzes are open right now. Look again soon!"))
    for quiz in quizzes:
        title = display_name(quiz.title, quiz.title_en, language)
        over = now >= quiz_ends_at(quiz)
        state = _("over") if over else when_text(quiz, settings)
        lines.append(f"• <b>{escape(title)}</b> — {state}")
        builder.row(
            contest_button(("🏁 " if over else "📝 ") + title[:50], ContestAction.OPEN, quiz.id)
        )
    for line, button in writing:
        lines.append(line)
        builder.row(button)
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def open_contest(
    query: CallbackQuery,
    callback_data: ContestData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A quiz's card: how it runs, when, and Join or Results."""
    try:
        quiz = await playing.load_quiz(session, callback_data.quiz_id)
    except NotFoundError:
        await query.answer(_("That quiz no longer exists."), show_alert=True)
        return
    except QuizCancelledError:
        await query.answer(cancelled_text(), show_alert=True)
        return
    now = utcnow()
    entered = await playing.has_entered(session, quiz.id, reader)
    seconds = sorted({question.seconds for question in quiz.questions})
    lines = [
        f"🏆 <b>{escape(display_name(quiz.title, quiz.title_en, i18n.current_locale))}</b>",
        mode_text(quiz),
        "🕒 " + when_text(quiz, settings),
        _("❓ {count} questions, {seconds} seconds each; one attempt per reader.").format(
            count=len(quiz.questions), seconds="/".join(str(s) for s in seconds)
        ),
    ]
    builder = InlineKeyboardBuilder()
    if now >= quiz_ends_at(quiz):
        builder.row(contest_button(_("🏁 Results"), ContestAction.RESULTS, quiz.id))
    elif entered:
        lines.append(_("✅ You have joined."))
    else:
        builder.row(contest_button(_("✅ Join"), ContestAction.JOIN, quiz.id))
    builder.row(contest_button(_("◀️ Contests"), ContestAction.LIST))
    await query.answer()
    await edit_message(query.message, "\n".join(lines), builder.as_markup())


async def back_to_list(
    query: CallbackQuery, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The list again, as a new message."""
    await query.answer()
    if isinstance(query.message, Message):
        await show_contests(query.message, session, settings, i18n)


async def join(
    query: CallbackQuery,
    callback_data: ContestData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Join once: a live round's questions come by themselves; a window quiz starts now."""
    try:
        joined = await playing.join(session, reader, callback_data.quiz_id, now=utcnow())
    except AlreadyEnteredError:
        await query.answer(
            _("You have already taken part: one attempt per reader."), show_alert=True
        )
        return
    except QuizClosedError as error:
        text = (
            _("This quiz opens at {time}.").format(time=when_text_start(error, settings))
            if error.opens_at
            else _("This quiz is over: it can no longer be joined.")
        )
        await query.answer(text, show_alert=True)
        return
    except NotFoundError:
        await query.answer(_("That quiz no longer exists."), show_alert=True)
        return
    except QuizCancelledError:
        await query.answer(cancelled_text(), show_alert=True)
        return
    await query.answer(_("You are in!"))
    if joined.question is None:
        await bot.send_message(
            reader.chat_id,
            _(
                "✅ You are in! The questions arrive here one by one from {time}. "
                "Answer each before its time runs out; the leaderboard follows each question."
            ).format(time=when_text(joined.quiz, settings)),
        )
        return
    await send_question(bot, reader.chat_id, joined.question, i18n, settings)


def when_text_start(error: QuizClosedError, settings: Settings) -> str:
    """When a window quiz opens."""
    assert error.opens_at is not None
    return error.opens_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")


async def show_results(
    query: CallbackQuery,
    callback_data: ContestData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The top places (and the reader's own) once the quiz is over."""
    try:
        found = await boards.results(session, callback_data.quiz_id, reader, now=utcnow())
    except NotFoundError:
        await query.answer(_("That quiz no longer exists."), show_alert=True)
        return
    except QuizCancelledError:
        await query.answer(cancelled_text(), show_alert=True)
        return
    if not found.over:
        await query.answer(_("The results come when the quiz is over."), show_alert=True)
        return
    ctx = Context(i18n.current_locale, i18n, settings)
    title = display_name(found.quiz.title, found.quiz.title_en, i18n.current_locale)
    lines = [_("🏁 <b>{quiz}</b>: the top places").format(quiz=escape(title))]
    lines += [board_line(line, ctx) for line in found.top] or [_("Nobody took part.")]
    builder = InlineKeyboardBuilder()
    if found.own is not None:
        lines += ["", _("Your place:"), board_line(found.own, ctx)]
        if found.own in found.top and found.own.score > 0:
            builder.row(
                InlineKeyboardButton(
                    text=_("🏅 My certificate"),
                    callback_data=QuizCertificate(quiz_id=found.quiz.id).pack(),
                )
            )
    builder.row(contest_button(_("◀️ Contests"), ContestAction.LIST))
    await query.answer()
    await edit_message(query.message, "\n".join(lines), builder.as_markup())


async def send_certificate(
    query: CallbackQuery,
    callback_data: QuizCertificate,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A certificate image for a top place, drawn off the event loop."""
    try:
        quiz, place = await boards.certificate_place(
            session, callback_data.quiz_id, reader, now=utcnow()
        )
    except NotFoundError:
        await query.answer(
            _("Certificates are for the top places, once the quiz is over."), show_alert=True
        )
        return
    except QuizCancelledError:
        await query.answer(cancelled_text(), show_alert=True)
        return
    await query.answer()
    language = await asyncio.to_thread(label_language, i18n.current_locale)
    with i18n.use_locale(language):
        text = CertificateText(
            heading=_("Certificate of Achievement"),
            name=reader.first_name or "—",
            achievement=_("Place {place} with {score} points").format(
                place=place.place, score=place.score
            ),
            contest=display_name(quiz.title, quiz.title_en, language),
            footer=_("Bookbridge reading alliance"),
        )
    image = await asyncio.to_thread(certificate_png, text)
    await bot.send_photo(
        reader.chat_id,
        BufferedInputFile(image, filename=f"certificate-{quiz.id}.png"),
        caption=_("🏅 Your certificate."),
    )


def build_router() -> Router:
    """A fresh router with the contests list, cards, joining and results."""
    router = Router(name=__name__)
    router.message.register(show_contests, Command("contests"))
    on = ContestData.filter
    router.callback_query.register(back_to_list, on(F.action == ContestAction.LIST))
    router.callback_query.register(open_contest, on(F.action == ContestAction.OPEN))
    router.callback_query.register(join, on(F.action == ContestAction.JOIN))
    router.callback_query.register(show_results, on(F.action == ContestAction.RESULTS))
    router.callback_query.register(send_certificate, QuizCertificate.filter())
    return router
