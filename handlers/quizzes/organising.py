"""/myquizzes: an organiser's quizzes to come or running, and cancelling one (confirmed)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, Role, display_name, utcnow
from bot.services.errors import NotAllowedError, NotFoundError
from bot.services.events.times import local_time
from bot.services.quizzes import organising
from bot.services.quizzes.organising import OrganisedQuiz
from bot.services.quizzes.playing import QuizClosedError
from bot.services.roles import RoleSet
from handlers.common import edit_message
from handlers.filters import HasRole
from handlers.quizzes.callbacks import ManageAction, QuizManage
from handlers.quizzes.contests import mode_text


def _button(text: str, action: ManageAction, quiz_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=QuizManage(action=action, quiz_id=quiz_id).pack()
    )


def _line(found: OrganisedQuiz, language: str, settings: Settings) -> str:
    quiz = found.quiz
    title = escape(display_name(quiz.title, quiz.title_en, language))
    state = _("running") if quiz.starts_at <= utcnow() else _("upcoming")
    return _("• <b>{title}</b> ({state}): starts {starts}, closes {closes}; {count} joined").format(
        title=title,
        state=state,
        starts=local_time(quiz.starts_at, settings.zone),
        closes=local_time(found.ends_at, settings.zone),
        count=found.entrants,
    )


async def my_quizzes(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/myquizzes: the organiser's quizzes to come or running, each with ❌ Cancel."""
    found = await organising.my_quizzes(session, reader, roles, now=utcnow())
    if not found:
        await message.answer(_("You have no quizzes to come or running. /newquiz builds one."))
        return
    language = i18n.current_locale
    lines = [_("🏆 <b>Your quizzes</b>")]
    builder = InlineKeyboardBuilder()
    for item in found:
        lines.append(_line(item, language, settings))
        title = display_name(item.quiz.title, item.quiz.title_en, language)
        builder.row(
            _button(
                _("❌ Cancel {title}").format(title=title[:40]),
                ManageAction.ASK_CANCEL,
                item.quiz.id,
            )
        )
    await message.answer("\n".join(lines), reply_markup=builder.as_markup())


async def _managed(
    query: CallbackQuery, session: AsyncSession, reader: Reader, roles: RoleSet, quiz_id: int
) -> OrganisedQuiz | None:
    try:
        return await organising.managed_quiz(session, reader, roles, quiz_id)
    except NotAllowedError:
        await query.answer(_("Only the quiz's organiser or an admin can do that."), show_alert=True)
    except NotFoundError:
        await query.answer(_("That quiz no longer exists."), show_alert=True)
    return None


async def ask_cancel(
    query: CallbackQuery,
    callback_data: QuizManage,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Ask before cancelling: entrants are told and cannot play it any more."""
    found = await _managed(query, session, reader, roles, callback_data.quiz_id)
    if found is None:
        return
    if found.quiz.cancelled_at is not None:
        await query.answer(_("This quiz was cancelled."), show_alert=True)
        return
    lines = [
        _line(found, i18n.current_locale, settings),
        mode_text(found.quiz),
        "",
        _(
            "Cancel this quiz? Everyone who joined ({count}) is told, no more questions or "
            "leaderboards are sent, and it leaves /contests. This cannot be undone."
        ).format(count=found.entrants),
    ]
    builder = InlineKeyboardBuilder()
    builder.row(_button(_("❌ Yes, cancel the quiz"), ManageAction.CANCEL, found.quiz.id))
    builder.row(_button(_("◀️ No, keep it"), ManageAction.KEEP, found.quiz.id))
    await query.answer()
    await edit_message(query.message, "\n".join(lines), builder.as_markup())


async def cancel(
    query: CallbackQuery,
    callback_data: QuizManage,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Cancel it (once, however many taps) and say how many entrants are told."""
    try:
        done = await organising.cancel_quiz(
            session, reader, roles, callback_data.quiz_id, now=utcnow()
        )
    except NotAllowedError:
        await query.answer(_("Only the quiz's organiser or an admin can do that."), show_alert=True)
        return
    except NotFoundError:
        await query.answer(_("That quiz no longer exists."), show_alert=True)
        return
    except QuizClosedError:
        await query.answer(
            _("This quiz has finished: a finished quiz cannot be cancelled."), show_alert=True
        )
        return
    if done.already:
        await query.answer(_("This quiz was already cancelled."), show_alert=True)
        return
    await query.answer()
    await edit_message(
        query.message,
        _("❌ “{title}” is cancelled; {count} entrant(s) are told.").format(
            title=escape(display_name(done.quiz.title, done.quiz.title_en, i18n.current_locale)),
            count=done.told,
        ),
        None,
    )


async def keep(query: CallbackQuery) -> None:
    """Keep the quiz: nothing changes."""
    await query.answer(_("The quiz goes ahead."))
    await edit_message(
        query.message, _("The quiz goes ahead. /myquizzes lists your quizzes."), None
    )


def build_router() -> Router:
    """A fresh router with /myquizzes (organisers and admins)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ORGANISER))
    router.callback_query.filter(HasRole(Role.ORGANISER))
    router.message.register(my_quizzes, Command("myquizzes"))
    on = QuizManage.filter
    router.callback_query.register(ask_cancel, on(F.action == ManageAction.ASK_CANCEL))
    router.callback_query.register(cancel, on(F.action == ManageAction.CANCEL))
    router.callback_query.register(keep, on(F.action == ManageAction.KEEP))
    return router
