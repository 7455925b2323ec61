"""/settlement [MONTH] (admins): per bookstore and paying library, the month's confirmed
vouchers against the budget, as a summary and a CSV; ✅ approves a finished month."""

from __future__ import annotations

import enum
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, Role, utcnow
from bot.services.bookstores import settlement
from bot.services.bookstores.settlement import (
    AlreadyApprovedError,
    BadMonthError,
    MonthNotOverError,
    MonthStatement,
    StatementLine,
)
from bot.services.errors import DomainError
from bot.services.holds.access import valid_id
from handlers.admin import fit_lines
from handlers.bookstores.wording import money
from handlers.filters import HasRole
from handlers.holds.display import when


class SettleAct(enum.StrEnum):
    APPROVE = "approve"


class SettleData(CallbackData, prefix="stl"):
    """Approve one store and library's statement for a month."""

    action: SettleAct
    store_id: int
    library_id: int
    month: str


def _line_text(line: StatementLine, settings: Settings, language: str) -> str:
    text = _("• {store} → {library}: {count} vouchers, {total}").format(
        store=escape(line.store.code),
        library=escape(line.library.code),
        count=len(line.vouchers),
        total=money(line.total, language),
    )
    if line.budget is not None:
        text += "; " + _("the library spent {spent} of its {budget} budget").format(
            spent=money(line.spent, language), budget=money(line.budget, language)
        )
    if line.approval is not None:
        text += "\n  " + _("✅ approved {when}").format(
            when=when(line.approval.approved_at, settings)
        )
    return text


def statement_text(month_statement: MonthStatement, settings: Settings, language: str) -> str:
    """The month's summary for the chat."""
    lines = [
        _("🧾 <b>Settlement for {month}</b>: {total} in {count} vouchers").format(
            month=month_statement.month,
            total=money(month_statement.total, language),
            count=sum(len(line.vouchers) for line in month_statement.lines),
        )
    ]
    if not month_statement.lines:
        lines.append(_("No voucher was confirmed in this month."))
        return "\n".join(lines)
    lines += [_line_text(line, settings, language) for line in month_statement.lines]
    if not month_statement.over:
        lines.append(_("The month is not over: it can be approved from the 1st of next month."))
    return fit_lines(lines)


def _keyboard(month_statement: MonthStatement) -> InlineKeyboardMarkup | None:
    if not month_statement.over:
        return None
    rows = [
        [
            InlineKeyboardButton(
                text=_("✅ Approve {store} · {library}").format(
                    store=line.store.code, library=line.library.code
                ),
                callback_data=SettleData(
                    action=SettleAct.APPROVE,
                    store_id=line.store.id,
                    library_id=line.library.id,
                    month=month_statement.month,
                ).pack(),
            )
        ]
        for line in month_statement.lines
        if line.approval is None
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def settlement_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/settlement [MONTH]."""
    now = utcnow()
    try:
        month = settlement.parse_month(command.args, now=now, zone=settings.zone)
    except BadMonthError as exc:
        await message.answer(
            _("“{text}” is not a month that has begun. Write it like /settlement 2026-11.").format(
                text=escape(exc.text)
            )
        )
        return
    result = await settlement.statement(session, month, now=now, zone=settings.zone)
    await settlement.record_statement(session, reader, result)
    language = i18n.current_locale
    await message.answer(statement_text(result, settings, language), reply_markup=_keyboard(result))
    if result.lines:
        await message.answer_document(
            BufferedInputFile(
                settlement.statement_csv(result).encode("utf-8"),
                filename=f"settlement-{month}.csv",
            ),
            caption=_("Settlement for {month} as CSV").format(month=month),
        )


async def approve_tapped(
    callback: CallbackQuery,
    callback_data: SettleData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """✅ Approve: the statement of one store and library for a finished month."""
    if not (valid_id(callback_data.store_id) and valid_id(callback_data.library_id)):
        await callback.answer(_("That is not possible."), show_alert=True)
        return
    now = utcnow()
    try:
        month = settlement.parse_month(callback_data.month, now=now, zone=settings.zone)
        row = await settlement.approve(
            session,
            reader,
            callback_data.store_id,
            callback_data.library_id,
            month,
            now=now,
            zone=settings.zone,
        )
    except AlreadyApprovedError:
        await callback.answer(_("That statement was approved already."), show_alert=True)
        return
    except MonthNotOverError:
        await callback.answer(_("The month is not over yet."), show_alert=True)
        return
    except DomainError:
        await callback.answer(_("That is not possible."), show_alert=True)
        return
    await callback.answer(
        _("✅ Approved: {count} vouchers, {total}.").format(
            count=row.vouchers, total=money(row.total, i18n.current_locale)
        )
    )
    if isinstance(callback.message, Message):
        result = await settlement.statement(session, month, now=now, zone=settings.zone)
        await callback.message.edit_text(
            statement_text(result, settings, i18n.current_locale), reply_markup=_keyboard(result)
        )


def build_router() -> Router:
    """/settlement and its approval buttons, for admins."""
    router = Router(name=__name__)
    admin = HasRole(Role.ADMIN)
    router.message.filter(admin)
    router.callback_query.filter(admin)
    router.message.register(settlement_command, Command("settlement"))
    router.callback_query.register(approve_tapped, SettleData.filter(F.action == SettleAct.APPROVE))
    return router
