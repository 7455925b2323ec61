"""/card → link a member library's own card: library, card number, PIN (never kept)."""

from __future__ import annotations

import contextlib
import enum
from html import escape
from typing import ClassVar

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import DbInt, Reader
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.ils.cards import (
    LinkOutcome,
    LinkResult,
    card_libraries,
    clean_card,
    link_card,
    linked_cards,
    unlink_card,
)
from bot.services.ils.live import LiveAvailability
from handlers.common import edit_message
from handlers.drafts import Draft
from handlers.holds.display import library_name_html
from handlers.search.wording import clip
from handlers.wizard_exit import cancel_hint


class CardLinkAction(enum.StrEnum):
    START = "start"
    LIBRARY = "library"
    UNLINK = "unlink"


class CardLink(CallbackData, prefix="ilc"):
    """Linking a member library's card: start, pick the library, or unlink one."""

    action: CardLinkAction
    library_id: DbInt = 0


class CardLinkForm(StatesGroup):
    """Waiting for the card number, then for the PIN."""

    card = State()
    pin = State()


class CardLinkDraft(Draft):
    """The library chosen and the card number typed so far."""

    key: ClassVar[str] = "card_link"
    command: ClassVar[str] = "/card"

    library_id: int
    card: str = ""


def _button(text: str, data: CardLink) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


async def link_keyboard(session: AsyncSession) -> InlineKeyboardMarkup | None:
    """The /card button to link a library card (None when no library can check one)."""
    if not await card_libraries(session):
        return None
    label = _("🔗 Link a member library's card")
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(label, CardLink(action=CardLinkAction.START))]]
    )


async def start_link(
    query: CallbackQuery, session: AsyncSession, reader: Reader, i18n: I18n
) -> None:
    """The libraries whose cards can be linked, and the cards linked already."""
    language = i18n.current_locale
    libraries = await card_libraries(session)
    linked = await linked_cards(session, reader)
    lines = [_("Which library's card do you want to link?")]
    rows = [
        [
            _button(
                library.display_name(language),
                CardLink(action=CardLinkAction.LIBRARY, library_id=library.id),
            )
        ]
        for library in libraries
    ]
    if linked:
        lines += ["", _("Linked already:")]
        for library, card in linked:
            lines.append(f"• {library_name_html(library, language)}: <code>{escape(card)}</code>")
            rows.append(
                [
                    _button(
                        _("✖️ Unlink {library}").format(library=library.display_name(language)),
                        CardLink(action=CardLinkAction.UNLINK, library_id=library.id),
                    )
                ]
            )
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            "\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )


async def choose_library(
    query: CallbackQuery, callback_data: CardLink, session: AsyncSession, state: FSMContext
) -> None:
    """A library picked: ask for the card number."""
    libraries = {library.id: library for library in await card_libraries(session)}
    if callback_data.library_id not in libraries:
        await query.answer(_("That library cannot check cards any more."), show_alert=True)
        return
    await query.answer()
    await state.set_state(CardLinkForm.card)
    await CardLinkDraft(library_id=callback_data.library_id).save(state)
    await edit_message(
        query.message,
        _("Send the number of your card at this library.") + "\n" + cancel_hint(),
    )


async def card_number(message: Message, state: FSMContext) -> None:
    """The card number: then ask for the PIN."""
    draft = await CardLinkDraft.load(state)
    try:
        draft.card = clean_card(message.text or "")
    except InvalidInputError:
        await message.answer(
            _("A card number is 1 to 64 characters, as printed on the card. Send it again.")
        )
        return
    await draft.save(state)
    await state.set_state(CardLinkForm.pin)
    await message.answer(
        _(
            "Now send the card's PIN. I delete your message at once, pass the PIN to the "
            "library's system to check it, and never keep it."
        )
        + "\n"
        + cancel_hint()
    )


def outcome_text(outcome: LinkOutcome, language: str) -> str:
    """What linking came to, in plain words."""
    library = library_name_html(outcome.library, language)
    said = f" ({escape(clip(outcome.message, 120))})" if outcome.message else ""
    texts = {
        LinkResult.LINKED: _(
            "✅ Your card at {library} is linked. Holds on its copies are now placed in its "
            "own system on your card."
        ),
        LinkResult.WRONG: _(
            "The card number or the PIN is not right, says {library}'s system. Nothing was "
            "linked. Try again with /card."
        ),
        LinkResult.BLOCKED: _(
            "{library} has blocked this card{said}, so it cannot be linked. Please ask at the "
            "library's desk."
        ),
        LinkResult.EXPIRED: _(
            "This card at {library} has expired{said}. Renew it at the library's desk, then "
            "link it again."
        ),
        LinkResult.UNREACHABLE: _(
            "{library}'s system is not answering right now. Nothing was linked; please try "
            "again later."
        ),
        LinkResult.TOO_MANY: _(
            "Too many attempts to link a card in the last hour. Please wait an hour and try again."
        ),
    }
    return texts[outcome.result].format(library=library, said=said)


async def card_pin(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
    ils: LiveAvailability,
    i18n: I18n,
    bot: Bot,
) -> None:
    """The PIN: deleted from the chat, checked by the library's system, never stored."""
    draft = await CardLinkDraft.load(state)
    pin = (message.text or "").strip()
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_message(message.chat.id, message.message_id)
    await state.clear()
    try:
        outcome = await link_card(session, ils, reader, draft.library_id, draft.card, pin)
    except InvalidInputError:
        await message.answer(
            _("A PIN is 1 to 64 characters. Nothing was linked; try again with /card.")
        )
        return
    except NotFoundError:
        await message.answer(_("That library cannot check cards any more."))
        return
    await message.answer(outcome_text(outcome, i18n.current_locale))


async def unlink(
    query: CallbackQuery, callback_data: CardLink, session: AsyncSession, reader: Reader
) -> None:
    """Forget a linked card."""
    if await unlink_card(session, reader, callback_data.library_id):
        await query.answer(_("The card is unlinked."), show_alert=True)
    else:
        await query.answer(_("That card is not linked."), show_alert=True)


def build_router() -> Router:
    """Linking library cards from /card."""
    router = Router(name=__name__)
    router.callback_query.register(start_link, CardLink.filter(F.action == CardLinkAction.START))
    router.callback_query.register(
        choose_library, CardLink.filter(F.action == CardLinkAction.LIBRARY)
    )
    router.callback_query.register(unlink, CardLink.filter(F.action == CardLinkAction.UNLINK))
    text = F.text & ~F.text.startswith("/")
    router.message.register(card_number, StateFilter(CardLinkForm.card), text)
    router.message.register(card_pin, StateFilter(CardLinkForm.pin), text)
    return router
