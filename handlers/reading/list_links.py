"""Reading lists linked to events and campaigns: /listlink and /listunlink for organisers (as
/listadd and /listnote build lists), and the list opened from an event's card or a campaign's
message (``/start rl_<id>``)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Reader, utcnow
from bot.services.errors import DomainError, NotFoundError
from bot.services.reading import list_links
from bot.services.reading.list_links import LinkTarget, What
from bot.services.roles import RoleSet
from handlers.deeplinks import DeepLinks
from handlers.keyboards import main_menu
from handlers.reading.callbacks import ListAct, ListData, list_title
from handlers.reading.lists import Staff, reader_view, refusal

LIST_LINK = "rl"
# What organisers may type for the target: English or Chinese.
TARGET_WORDS = {
    "event": LinkTarget.EVENT,
    "活动": LinkTarget.EVENT,
    "campaign": LinkTarget.CAMPAIGN,
    "推广": LinkTarget.CAMPAIGN,
}
NUMBER_DIGITS = 10


def _number(word: str) -> int:
    return int(word) if word.isdigit() and len(word) <= NUMBER_DIGITS else 0


def link_refusal(error: DomainError) -> str:
    """Why a list cannot be linked or unlinked, in the organiser's language."""
    if isinstance(error, list_links.ListNotPublished):
        return _("Publish the list first: readers could not open an unpublished list.")
    if isinstance(error, list_links.TargetOver):
        if error.target is LinkTarget.EVENT:
            return _("That event is cancelled or over: a list can only go on an event to come.")
        return _("That campaign is cancelled or completed: a list cannot go on it any more.")
    if isinstance(error, list_links.NotYours):
        return {
            What.LIST: _("You can only link a reading list you made."),
            What.EVENT: _("You can only manage your own events."),
            What.CAMPAIGN: _("Only an admin or the campaign's maker can link a list to it."),
            What.LINK: "",
        }[error.what]
    if isinstance(error, list_links.Missing):
        return {
            What.LIST: _("There is no reading list with that number."),
            What.EVENT: _("There is no event with that number."),
            What.CAMPAIGN: _("There is no campaign with that number."),
            What.LINK: _("No reading list is linked to it."),
        }[error.what]
    return refusal(error)


def _usage() -> str:
    return _(
        "Send /listlink LIST_NUMBER event EVENT_NUMBER, or /listlink LIST_NUMBER campaign "
        "CAMPAIGN_NUMBER. To take it off: /listunlink event EVENT_NUMBER."
    )


def _target_text(target: LinkTarget, number: int) -> str:
    if target is LinkTarget.EVENT:
        return _("event {number}").format(number=number)
    return _("campaign {number}").format(number=number)


async def link_list(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """/listlink LIST event|campaign NUMBER: the list on the event's card or campaign's message."""
    words = (command.args or "").split()
    target = TARGET_WORDS.get(words[1].casefold()) if len(words) == 3 else None
    list_id, number = (_number(words[0]), _number(words[2])) if len(words) == 3 else (0, 0)
    if target is None or not list_id or not number:
        await message.answer(_usage())
        return
    try:
        linked = await list_links.link_list(
            session, reader, roles, list_id, target, number, utcnow()
        )
    except DomainError as exc:
        await message.answer(link_refusal(exc))
        return
    assert linked.list is not None
    await message.answer(
        _("📚 {list} is now linked to {target}.").format(
            list=list_title(linked.list, i18n.current_locale),
            target=_target_text(target, number),
        )
    )


async def unlink_list(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """/listunlink event|campaign NUMBER: take the list off it."""
    words = (command.args or "").split()
    target = TARGET_WORDS.get(words[0].casefold()) if len(words) == 2 else None
    number = _number(words[1]) if len(words) == 2 else 0
    if target is None or not number:
        await message.answer(_usage())
        return
    try:
        linked = await list_links.unlink_list(session, reader, roles, target, number)
    except DomainError as exc:
        await message.answer(link_refusal(exc))
        return
    title = list_title(linked.list, i18n.current_locale) if linked.list is not None else ""
    await message.answer(
        _("📚 {list} is no longer linked to {target}.").format(
            list=title, target=_target_text(target, number)
        )
    )


async def send_list(
    query: CallbackQuery,
    callback_data: ListData,
    session: AsyncSession,
    reader: Reader,
    i18n: I18n,
) -> None:
    """📚 on an event's card: the list as a new message (the card stays)."""
    try:
        text, markup = await reader_view(
            session, reader, callback_data.list_id, 0, i18n.current_locale
        )
    except DomainError as exc:
        await query.answer(refusal(exc), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def open_list_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``rl_<id>`` (a campaign's button): send the list."""
    session, reader, i18n = data["session"], data["reader"], data["i18n"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(i18n, I18n)
    try:
        text, markup = await reader_view(session, reader, _number(argument), 0, i18n.current_locale)
    except NotFoundError as exc:
        await message.answer(refusal(exc), reply_markup=main_menu())
        return
    await message.answer(text, reply_markup=markup)


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start rl_<id>`` to the list."""
    deep_links.register(LIST_LINK, open_list_link)


def build_router() -> Router:
    """/listlink and /listunlink for organisers; 📚 from an event's card for everybody."""
    router = Router(name=__name__)
    router.message.register(link_list, Command("listlink"), Staff())
    router.message.register(unlink_list, Command("listunlink"), Staff())
    router.callback_query.register(send_list, ListData.filter(F.action == ListAct.SEND))
    return router
