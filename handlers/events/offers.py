"""Answering a timed offer of a place, from its notice or the event's card."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, Registration, utcnow
from bot.notices.events import OfferAnswer, OfferReply
from bot.services.events.discovery import event_card
from bot.services.events.errors import OfferGoneError
from bot.services.events.registration import WaitlistRules, answer_offer
from handlers.common import remove_buttons
from handlers.events.card import send_calendar


async def _answer(
    query: CallbackQuery,
    callback_data: OfferAnswer,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    *,
    accept: bool,
) -> Registration | None:
    """The answer recorded (the registration must be the reader's own); None if gone."""
    try:
        return await answer_offer(
            session,
            reader,
            callback_data.registration_id,
            accept,
            now=utcnow(),
            rules=WaitlistRules.for_alliance(settings),
        )
    except OfferGoneError:
        await query.answer(_("This offer is no longer open."), show_alert=True)
        return None


async def accept_offer(
    query: CallbackQuery,
    callback_data: OfferAnswer,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Take the offered place: confirmed, with the .ics."""
    registration = await _answer(query, callback_data, session, reader, settings, accept=True)
    if registration is None:
        return
    await query.answer(_("✅ The place is yours!"))
    if isinstance(query.message, Message):
        card = await event_card(session, reader, registration.event_id)
        await send_calendar(query.message, card.listing.event, settings, i18n.current_locale)
    await remove_buttons(query.message)


async def decline_offer(
    query: CallbackQuery,
    callback_data: OfferAnswer,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
) -> None:
    """Decline the offered place: it goes to the next person on the waitlist."""
    registration = await _answer(query, callback_data, session, reader, settings, accept=False)
    if registration is None:
        return
    await query.answer(_("Declined: the place goes to the next person."))
    await remove_buttons(query.message)


def build_router() -> Router:
    """A fresh router with one handler per answer."""
    router = Router(name=__name__)
    router.callback_query.register(accept_offer, OfferAnswer.filter(F.answer == OfferReply.ACCEPT))
    router.callback_query.register(
        decline_offer, OfferAnswer.filter(F.answer == OfferReply.DECLINE)
    )
    return router
