"""Admin console: review purchase suggestions — approve at a library or decline; buying lists."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, Role, SuggestionStatus, utcnow
from bot.services import directory, purchasing
from bot.services.errors import NotFoundError
from bot.services.purchasing import AlreadyDecidedError, SuggestionView
from handlers.admin import back_to_menu, fit_lines
from handlers.admin_callbacks import AdminMenu, SuggestionChoice
from handlers.common import edit_message
from handlers.filters import HasRole

PAGE_SIZE = 8
LIBRARY_PAGE_SIZE = 8


def _button(text: str, action: str, **values: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=SuggestionChoice(action=action, **values).pack()
    )


def _label(item: SuggestionView) -> str:
    isbn = f" · ISBN {item.isbn}" if item.isbn else ""
    return f"“{escape(item.query)}”{isbn}"


def status_name(status: SuggestionStatus) -> str:
    """A suggestion's status in words."""
    names = {
        SuggestionStatus.OPEN: _("open"),
        SuggestionStatus.APPROVED: _("approved"),
        SuggestionStatus.DECLINED: _("declined"),
    }
    return names[status]


async def _open_view(session: AsyncSession, page: int) -> tuple[str, InlineKeyboardMarkup]:
    items, total = await purchasing.open_suggestions(
        session, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if not items and page > 0:
        page = pages - 1
        items, total = await purchasing.open_suggestions(
            session, offset=page * PAGE_SIZE, limit=PAGE_SIZE
        )
    lines = [_("💡 Open purchase suggestions: {count}, most votes first.").format(count=total)]
    builder = InlineKeyboardBuilder()
    for item in items:
        lines.append(
            f"#{item.id} {_label(item)} — " + _("{votes} vote(s)").format(votes=item.votes)
        )
        builder.button(
            text=f"#{item.id} {item.query[:28]}",
            callback_data=SuggestionChoice(action="show", suggestion_id=item.id, page=page),
        )
    if not items:
        lines.append(_("Nothing to review."))
    builder.adjust(1)
    paging = []
    if page > 0:
        paging.append(_button("◀️", "page", page=page - 1))
    if page + 1 < pages:
        paging.append(_button("▶️", "page", page=page + 1))
    if paging:
        builder.row(*paging)
    builder.row(_button(_("🛒 Buying lists"), "bought"))
    builder.row(back_to_menu())
    return "\n".join(lines), builder.as_markup()


async def suggestions_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """The open suggestions, most voted first."""
    await callback.answer()
    if isinstance(callback.message, Message):
        text, markup = await _open_view(session, 0)
        await callback.message.answer(text, reply_markup=markup)


async def page(
    callback: CallbackQuery, callback_data: SuggestionChoice, session: AsyncSession
) -> None:
    """Another page of open suggestions."""
    await callback.answer()
    text, markup = await _open_view(session, callback_data.page)
    await edit_message(callback.message, text, markup)


def _card(item: SuggestionView, page: int) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        f"#{item.id} {_label(item)}",
        _("Votes: {votes}").format(votes=item.votes),
        _("Status: {status}").format(status=status_name(item.status)),
    ]
    if item.library_code:
        lines.append(_("Bought by: {library}").format(library=escape(item.library_code)))
    rows = []
    if item.status is SuggestionStatus.OPEN:
        rows.append(
            [
                _button(_("✅ Approve…"), "approve", suggestion_id=item.id),
                _button(_("✖️ Decline"), "decline", suggestion_id=item.id),
            ]
        )
    rows.append([_button(_("⬅️ Back"), "page", page=page)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def show(
    callback: CallbackQuery, callback_data: SuggestionChoice, session: AsyncSession
) -> None:
    """One suggestion, with Approve and Decline while it is open."""
    try:
        item = await purchasing.get_suggestion(session, callback_data.suggestion_id)
    except NotFoundError:
        await callback.answer(_("That suggestion does not exist."), show_alert=True)
        return
    await callback.answer()
    text, markup = _card(item, callback_data.page)
    await edit_message(callback.message, text, markup)


async def choose_library(
    callback: CallbackQuery, callback_data: SuggestionChoice, session: AsyncSession, i18n: I18n
) -> None:
    """✅ Approve…: which library buys it?"""
    try:
        item = await purchasing.get_suggestion(session, callback_data.suggestion_id)
    except NotFoundError:
        await callback.answer(_("That suggestion does not exist."), show_alert=True)
        return
    if item.status is not SuggestionStatus.OPEN:
        await callback.answer(_("It was decided already."), show_alert=True)
        return
    libraries, page_number, pages = await directory.library_page(
        session, callback_data.page, LIBRARY_PAGE_SIZE
    )
    builder = InlineKeyboardBuilder()
    for library in libraries:
        builder.button(
            text=f"{library.code} — {library.display_name(i18n.current_locale)}"[:60],
            callback_data=SuggestionChoice(
                action="buy", suggestion_id=item.id, library_id=library.id
            ),
        )
    builder.adjust(1)
    paging = []
    if page_number > 0:
        paging.append(_button("◀️", "approve", suggestion_id=item.id, page=page_number - 1))
    if page_number + 1 < pages:
        paging.append(_button("▶️", "approve", suggestion_id=item.id, page=page_number + 1))
    if paging:
        builder.row(*paging)
    builder.row(_button(_("⬅️ Back"), "show", suggestion_id=item.id))
    await callback.answer()
    await edit_message(
        callback.message,
        _("Which library buys {title}?").format(title=_label(item)),
        builder.as_markup(),
    )


async def _decide(
    callback: CallbackQuery,
    callback_data: SuggestionChoice,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
    *,
    approve: bool,
) -> None:
    try:
        item, notified = await purchasing.decide(
            session,
            reader,
            callback_data.suggestion_id,
            approve=approve,
            library_id=callback_data.library_id or None,
            now=utcnow(),
        )
    except AlreadyDecidedError:
        await callback.answer(_("It was decided already."), show_alert=True)
        return
    except NotFoundError:
        await callback.answer(_("That suggestion or library does not exist."), show_alert=True)
        return
    await callback.answer()
    if approve:
        text = _("✅ Approved {title}: {library} buys it.").format(
            title=_label(item), library=escape(item.library_code or "")
        )
    else:
        text = _("✖️ Declined {title}.").format(title=_label(item))
    text += "\n" + _("{count} reader(s) will be told.").format(count=notified)
    await edit_message(
        callback.message,
        text,
        InlineKeyboardMarkup(inline_keyboard=[[_button(_("⬅️ Back"), "page")]]),
    )


async def buy(
    callback: CallbackQuery,
    callback_data: SuggestionChoice,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """A library was chosen: approve, tell the suggesters."""
    await _decide(callback, callback_data, session, reader, i18n, approve=True)


async def decline(
    callback: CallbackQuery,
    callback_data: SuggestionChoice,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """✖️ Decline: tell the suggesters."""
    await _decide(callback, callback_data, session, reader, i18n, approve=False)


async def buying_lists(callback: CallbackQuery, session: AsyncSession) -> None:
    """Approved suggestions per library, for buying."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    groups = await purchasing.approved_by_library(session)
    lines = [_("🛒 Approved suggestions, per library:")]
    for library, items in groups:
        lines.append(f"\n<b>{escape(library.code)}</b> {escape(library.name)}")
        lines += [
            f"• {_label(item)} — " + _("{votes} vote(s)").format(votes=item.votes)
            for item in items[:30]
        ]
    if not groups:
        lines.append(_("Nothing approved yet."))
    rows = [[_button(_("📄 CSV"), "csv")]] if groups else []
    rows.append([_button(_("⬅️ Back"), "page")])
    await callback.message.answer(
        fit_lines(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def buying_csv(callback: CallbackQuery, session: AsyncSession) -> None:
    """The buying lists as a CSV document."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    groups = await purchasing.approved_by_library(session)
    await callback.message.answer_document(
        BufferedInputFile(
            purchasing.approved_csv(groups).encode("utf-8"), filename="approved-suggestions.csv"
        ),
        caption=_("Approved purchase suggestions, per library"),
    )


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.filter(HasRole(Role.ADMIN))
    router.callback_query.register(
        suggestions_section, AdminMenu.filter(F.section == "suggestions")
    )
    router.callback_query.register(page, SuggestionChoice.filter(F.action == "page"))
    router.callback_query.register(show, SuggestionChoice.filter(F.action == "show"))
    router.callback_query.register(choose_library, SuggestionChoice.filter(F.action == "approve"))
    router.callback_query.register(buy, SuggestionChoice.filter(F.action == "buy"))
    router.callback_query.register(decline, SuggestionChoice.filter(F.action == "decline"))
    router.callback_query.register(buying_lists, SuggestionChoice.filter(F.action == "bought"))
    router.callback_query.register(buying_csv, SuggestionChoice.filter(F.action == "csv"))
    return router
