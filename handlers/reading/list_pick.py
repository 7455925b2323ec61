"""➕ Add to list on a work card: an organiser picks one of their lists and the book goes
on it (as /listadd adds by ISBN: at the end, once, within the limit)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, utcnow
from bot.services.errors import DomainError
from bot.services.reading import challenges, lists
from bot.services.roles import RoleSet
from handlers.reading.callbacks import ListAct, ListData, button, list_title
from handlers.reading.lists import Staff, is_staff, refusal, running_text


def add_to_list_rows(work_id: int, roles: RoleSet | None) -> list[list[InlineKeyboardButton]]:
    """The work card's "➕ Add to list" row, for organisers and admins only."""
    if roles is None or not is_staff(roles):
        return []
    return [[button(_("➕ Add to list"), ListData(action=ListAct.PICK, list_id=0, value=work_id))]]


async def pick_list(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """➕ Add to list: one button per list of one's own."""
    own = await lists.own_lists(session, reader)
    if not own:
        await query.answer(
            _("You have no reading list yet. Make one: /newlist 中文标题 | English title"),
            show_alert=True,
        )
        return
    await query.answer()
    language = i18n.current_locale
    rows = [
        [
            button(
                "📚 " + list_title(found, language),
                ListData(action=ListAct.ADD, list_id=found.id, value=callback_data.value),
            )
        ]
        for found in own
    ]
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Add this book to which list?"),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )


async def add_work(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """📚 a list chosen: the book goes on it (once)."""
    try:
        added = await lists.add_work(
            session, reader, callback_data.list_id, callback_data.value, admin=roles.is_admin
        )
        view = await lists.list_view(session, reader, callback_data.list_id, editor=True)
        running = await challenges.running_for_list(session, view.list.id, utcnow())
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    title = escape(list_title(view.list, i18n.current_locale))
    text = (
        _("Added to {list} (book {place}).").format(list=title, place=view.total)
        if added
        else _("That book is on {list} already.").format(list=title)
    )
    if added and running:
        text += "\n" + running_text(running)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


def build_router() -> Router:
    """The card's ➕ Add to list, for organisers."""
    router = Router(name=__name__)
    staff = Staff()
    router.callback_query.register(pick_list, ListData.filter(F.action == ListAct.PICK), staff)
    router.callback_query.register(add_work, ListData.filter(F.action == ListAct.ADD), staff)
    return router
