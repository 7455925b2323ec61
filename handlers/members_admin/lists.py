"""The districts and libraries lists: paged, with edit buttons, Add, and the CSV files."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import directory
from handlers.admin import back_to_menu
from handlers.admin_callbacks import AdminMenu, MemberAction, MemberChoice, MemberEntity
from handlers.common import edit_message
from handlers.members_admin.words import kind_name

PAGE_SIZE = 24


def member_button(
    text: str, entity: MemberEntity, action: MemberAction, value: str = "", page: int = 0
) -> InlineKeyboardButton:
    """A button of the member console."""
    return InlineKeyboardButton(
        text=text,
        callback_data=MemberChoice(action=action, entity=entity, value=value, page=page).pack(),
    )


async def _lines_and_codes(
    session: AsyncSession, entity: MemberEntity
) -> tuple[list[str], list[str]]:
    """The heading and one line per district (or library), and their codes."""
    if entity is MemberEntity.DISTRICTS:
        districts = await directory.districts(session)
        lines = [_("🗺 Districts ({count}):").format(count=len(districts))]
        lines += [
            f"• <b>{escape(d.code)}</b> {escape(d.name)}"
            + (f" / {escape(d.name_en)}" if d.name_en else "")
            + " — "
            + _("population {population}").format(population=f"{d.population:,}")
            for d in districts
        ]
        return lines, [d.code for d in districts]
    libraries = await directory.libraries_with_districts(session)
    lines = [_("🏛 Libraries ({count}):").format(count=len(libraries))]
    lines += [
        f"• <b>{escape(lib.code)}</b> {escape(lib.name)} — {escape(district_code)}, "
        + kind_name(lib.kind)
        + ("" if lib.is_pickup_point else " " + _("(no pickup)"))
        for lib, district_code in libraries
    ]
    return lines, [lib.code for lib, _code in libraries]


async def list_view(
    session: AsyncSession, entity: MemberEntity, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the list with its buttons."""
    lines, codes = await _lines_and_codes(session, entity)
    if not codes:
        lines.append(_("None yet."))
    pages = max(1, -(-len(codes) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = lines[:1] + lines[1:][page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    for code in codes[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        builder.button(
            text=f"✏️ {code}",
            callback_data=MemberChoice(action=MemberAction.EDIT, entity=entity, value=code),
        )
    builder.adjust(3)
    paging = []
    if page > 0:
        paging.append(member_button("◀️", entity, MemberAction.LIST, page=page - 1))
    if page + 1 < pages:
        paging.append(member_button("▶️", entity, MemberAction.LIST, page=page + 1))
    if paging:
        builder.row(*paging)
    builder.row(
        member_button(_("➕ Add"), entity, MemberAction.ADD),
        member_button(_("📄 Upload CSV"), entity, MemberAction.UPLOAD),
        member_button(_("📤 Download CSV"), entity, MemberAction.DOWNLOAD),
    )
    builder.row(back_to_menu())
    return "\n".join(shown), builder.as_markup()


async def _show_list(
    callback: CallbackQuery, session: AsyncSession, entity: MemberEntity, *, page: int, new: bool
) -> None:
    await callback.answer()
    text, markup = await list_view(session, entity, page)
    if new and isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=markup)
    else:
        await edit_message(callback.message, text, markup)


async def districts_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """The districts, with add, edit, upload and download."""
    await _show_list(callback, session, MemberEntity.DISTRICTS, page=0, new=True)


async def libraries_section(callback: CallbackQuery, session: AsyncSession) -> None:
    """The libraries, with add, edit, upload and download."""
    await _show_list(callback, session, MemberEntity.LIBRARIES, page=0, new=True)


async def list_page(
    callback: CallbackQuery, callback_data: MemberChoice, session: AsyncSession
) -> None:
    """Another page of the list."""
    await _show_list(callback, session, callback_data.entity, page=callback_data.page, new=False)


def build_router() -> Router:
    """A fresh router with this module's handlers (the package's router filters the role)."""
    router = Router(name=__name__)
    router.callback_query.register(districts_section, AdminMenu.filter(F.section == "districts"))
    router.callback_query.register(libraries_section, AdminMenu.filter(F.section == "libraries"))
    router.callback_query.register(list_page, MemberChoice.filter(F.action == MemberAction.LIST))
    return router
