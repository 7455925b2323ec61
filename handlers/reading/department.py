"""/settings → 🎓 Department: a reader picks their college or department (one of their school
or university's) or clears it; it is their team in department challenges."""

from __future__ import annotations

from enum import StrEnum
from html import escape

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DbInt, Reader
from bot.services.errors import NotFoundError
from bot.services.reading import teams
from handlers.common import edit_message
from handlers.reading.callbacks import button


class DeptAct(StrEnum):
    SHOW = "s"
    PICK = "p"  # partner_id: the college or department
    CLEAR = "c"


class DepartmentData(CallbackData, prefix="dp"):
    """A button of the department screen."""

    action: DeptAct
    partner_id: DbInt = 0


async def _view(
    session: AsyncSession, reader: Reader, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    offered = await teams.departments_for(session, reader)
    current = offered.current.display(language) if offered.current else _("not chosen")
    lines = [
        _("🎓 Your college or department: {name}").format(name=escape(current)),
        _("It is your team in challenges by department."),
        "",
    ]
    rows = []
    if offered.school is None:
        lines.append(
            _(
                "We do not know your school or university yet: follow its library "
                "(/follow), or collect a hold there, then come back here."
            )
        )
    elif not offered.choices:
        lines.append(
            _("{school} has no colleges or departments with us yet.").format(
                school=escape(offered.school.display_name(language))
            )
        )
    else:
        lines.append(
            _("Pick yours at {school}:").format(
                school=escape(offered.school.display_name(language))
            )
        )
        rows = [
            [
                button(
                    ("✅ " if offered.current and partner.id == offered.current.id else "")
                    + partner.display(language)[:60],
                    DepartmentData(action=DeptAct.PICK, partner_id=partner.id),
                )
            ]
            for partner in offered.choices
        ]
    if offered.current is not None:
        rows.append([button(_("Clear my department"), DepartmentData(action=DeptAct.CLEAR))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def show(query: CallbackQuery, session: AsyncSession, reader: Reader, i18n: I18n) -> None:
    """🎓 Department: the reader's choice and what they may pick."""
    await query.answer()
    text, markup = await _view(session, reader, i18n.current_locale)
    await edit_message(query.message, text, markup)


async def pick(
    query: CallbackQuery,
    callback_data: DepartmentData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """A college or department picked (refused unless it is of the reader's institution)."""
    try:
        await teams.set_department(session, reader, callback_data.partner_id)
    except NotFoundError:
        await query.answer(
            _("That is not a college or department of your school or university."),
            show_alert=True,
        )
        return
    await query.answer(_("Saved."))
    text, markup = await _view(session, reader, i18n.current_locale)
    await edit_message(query.message, text, markup)


async def clear(query: CallbackQuery, session: AsyncSession, reader: Reader, i18n: I18n) -> None:
    """Clear my department."""
    await teams.set_department(session, reader, None)
    await query.answer(_("Your department is cleared."))
    text, markup = await _view(session, reader, i18n.current_locale)
    await edit_message(query.message, text, markup)


def build_router() -> Router:
    """The department screen's buttons."""
    router = Router(name=__name__)
    router.callback_query.register(show, DepartmentData.filter(F.action == DeptAct.SHOW))
    router.callback_query.register(pick, DepartmentData.filter(F.action == DeptAct.PICK))
    router.callback_query.register(clear, DepartmentData.filter(F.action == DeptAct.CLEAR))
    return router
