"""/follow and /following: readers follow libraries to hear their announcements; lib_ links."""

from __future__ import annotations

from enum import StrEnum
from html import escape
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DbInt, Library, Reader
from bot.services import follows
from bot.services.errors import NotFoundError
from bot.services.members import describe_opening_hours
from handlers.common import edit_message
from handlers.deeplinks import DeepLinks
from handlers.filters import Onboarded

DEEP_LINK_PREFIX = "lib"


class FollowAction(StrEnum):
    FOLLOW = "f"
    UNFOLLOW = "u"
    PAGE = "p"


class FollowView(StrEnum):
    """Which message the button sits on, so it can be redrawn in place."""

    PICKER = "p"
    LIST = "l"
    CARD = "c"


class FollowChoice(CallbackData, prefix="fol"):
    """Follow or unfollow a library, or page the library picker."""

    action: FollowAction
    value: DbInt
    view: FollowView


def library_name(library: Library, language: str) -> str:
    """A library's name in the reader's language."""
    if language == "en" and library.name_en:
        return library.name_en
    return library.name


def _button(text: str, action: FollowAction, value: int, view: FollowView) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=FollowChoice(action=action, value=value, view=view).pack()
    )


def picker_keyboard(page: follows.LibraryPage, language: str) -> InlineKeyboardMarkup:
    """Libraries two per row (followed ones ticked), with paging."""
    builder = InlineKeyboardBuilder()
    for library in page.libraries:
        followed = library.id in page.followed
        builder.add(
            _button(
                ("✅ " if followed else "") + library_name(library, language),
                FollowAction.UNFOLLOW if followed else FollowAction.FOLLOW,
                library.id,
                FollowView.PICKER,
            )
        )
    builder.adjust(2)
    paging: list[InlineKeyboardButton] = []
    if page.page > 0:
        paging.append(_button("◀️", FollowAction.PAGE, page.page - 1, FollowView.PICKER))
    if page.pages > 1:
        paging.append(
            _button(
                f"{page.page + 1}/{page.pages}", FollowAction.PAGE, page.page, FollowView.PICKER
            )
        )
    if page.page + 1 < page.pages:
        paging.append(_button("▶️", FollowAction.PAGE, page.page + 1, FollowView.PICKER))
    if paging:
        builder.row(*paging)
    return builder.as_markup()


def picker_text() -> str:
    """The picker's question."""
    return _(
        "Which libraries would you like to follow? You will get their announcements "
        "(you can turn them off in /settings). Tap again to unfollow."
    )


async def show_picker(message: Message, session: AsyncSession, reader: Reader, i18n: I18n) -> None:
    """/follow: the library picker."""
    page = await follows.library_page(session, reader, 0)
    if not page.libraries:
        await message.answer(_("There are no libraries to follow yet."))
        return
    await message.answer(picker_text(), reply_markup=picker_keyboard(page, i18n.current_locale))


def following_view(libraries: list[Library], language: str) -> tuple[str, InlineKeyboardMarkup]:
    """The list of followed libraries with an unfollow button each."""
    if not libraries:
        return _("You don't follow any library yet. Send /follow to choose some."), (
            InlineKeyboardMarkup(inline_keyboard=[])
        )
    lines = [_("You follow these libraries:")]
    lines += [f"• {escape(library_name(library, language))}" for library in libraries]
    keyboard = [
        [
            _button(
                _("Unfollow {library}").format(library=library_name(library, language)),
                FollowAction.UNFOLLOW,
                library.id,
                FollowView.LIST,
            )
        ]
        for library in libraries
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=keyboard)


async def show_following(
    message: Message, session: AsyncSession, reader: Reader, i18n: I18n
) -> None:
    """/following: the libraries the reader follows."""
    libraries = await follows.followed_libraries(session, reader.id)
    text, markup = following_view(libraries, i18n.current_locale)
    await message.answer(text, reply_markup=markup if markup.inline_keyboard else None)


def card_view(library: Library, followed: bool, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """A library's card with a follow (or unfollow) button."""
    lines = [f"🏛 <b>{escape(library_name(library, language))}</b>"]
    if library.address:
        lines.append(escape(library.display_address(language)))
    if library.opening_hours:
        hours = describe_opening_hours(library.opening_hours, language)
        lines.append(_("Opening hours: {hours}").format(hours=escape(hours)))
    button = (
        _button(_("Unfollow"), FollowAction.UNFOLLOW, library.id, FollowView.CARD)
        if followed
        else _button(_("Follow this library"), FollowAction.FOLLOW, library.id, FollowView.CARD)
    )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[button]])


async def open_library_link(message: Message, code: str, data: dict[str, Any]) -> None:
    """Deep link ``lib_<code>``: the library's card with a follow button."""
    session: AsyncSession = data["session"]
    reader: Reader = data["reader"]
    language = data["i18n"].current_locale if "i18n" in data else reader.language or "zh"
    try:
        library = await follows.library_by_code(session, code)
    except NotFoundError:
        await message.answer(_("That library is not in our list any more."))
        return
    followed = library.id in await follows.followed_ids(session, reader.id)
    text, markup = card_view(library, followed, language)
    await message.answer(text, reply_markup=markup)


async def follow_button(
    query: CallbackQuery,
    callback_data: FollowChoice,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Follow, unfollow or page; then redraw the message the button was on."""
    language = i18n.current_locale
    if callback_data.action is FollowAction.PAGE:
        page = await follows.library_page(session, reader, callback_data.value)
        await query.answer()
        await edit_message(query.message, picker_text(), picker_keyboard(page, language))
        return
    try:
        if callback_data.action is FollowAction.FOLLOW:
            library = await follows.follow(session, reader, callback_data.value)
            notice = _("You now follow {library}.")
        else:
            library = await follows.unfollow(session, reader, callback_data.value)
            notice = _("You no longer follow {library}.")
    except NotFoundError:
        await query.answer(_("That library is not in our list any more."), show_alert=True)
        return
    await query.answer(notice.format(library=library_name(library, language)))
    if callback_data.view is FollowView.PICKER:
        # Stay on the page the library is on.
        page_number = 0
        if query.message is not None and isinstance(query.message, Message):
            page_number = _current_page(query.message)
        page = await follows.library_page(session, reader, page_number)
        await edit_message(query.message, picker_text(), picker_keyboard(page, language))
    elif callback_data.view is FollowView.LIST:
        text, markup = following_view(
            await follows.followed_libraries(session, reader.id), language
        )
        await edit_message(query.message, text, markup)
    else:
        followed = library.id in await follows.followed_ids(session, reader.id)
        text, markup = card_view(library, followed, language)
        await edit_message(query.message, text, markup)


def _current_page(message: Message) -> int:
    """The page the picker shows, read back from its paging buttons."""
    markup = message.reply_markup
    if markup is None:
        return 0
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data and "/" in button.text:
                try:
                    return FollowChoice.unpack(button.callback_data).value
                except (TypeError, ValueError):
                    return 0
    return 0


def register_deep_links(deep_links: DeepLinks) -> None:
    """``lib_<code>`` opens a library's card."""
    deep_links.register(DEEP_LINK_PREFIX, open_library_link)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    router.message.register(show_picker, Command("follow"))
    router.message.register(show_following, Command("following"))
    router.callback_query.register(follow_button, FollowChoice.filter())
    return router
