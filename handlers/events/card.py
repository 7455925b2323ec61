"""An event's card: what, when, where, places; register, join the series, cancel, .ics, map."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Event, EventStatus, Reader, RegistrationStatus, utcnow
from bot.notices.events import OfferAnswer, OfferReply
from bot.services.errors import NotFoundError
from bot.services.events import registration as registrations
from bot.services.events.calendar import calendar_filename, event_calendar
from bot.services.events.discovery import EVENT_LINK, EventCard, event_card
from bot.services.events.errors import (
    AlreadyRegisteredError,
    NotRegisteredError,
    RegistrationClosedError,
)
from bot.services.events.records import ACTIVE, event_point, venue_address, venue_name
from bot.services.events.registration import WaitlistRules
from bot.services.events.times import local_time, time_span
from handlers.common import edit_message
from handlers.events.callbacks import CardAction, EventAction, EventList, EventOpen
from handlers.events.labels import audience_label, category_label, joined, places_line
from handlers.keyboards import main_menu
from handlers.reading.callbacks import ListAct, ListData, list_title


def _registration_line(card: EventCard, settings: Settings) -> str | None:
    registration = card.registration
    if registration is None:
        return None
    if registration.status is RegistrationStatus.CONFIRMED:
        return _("✅ You are registered.")
    if registration.status is RegistrationStatus.ATTENDED:
        return _("✅ You attended.")
    if registration.status is RegistrationStatus.WAITLISTED:
        return _("⏳ You are number {position} on the waitlist.").format(
            position=card.waitlist_rank
        )
    if registration.status is RegistrationStatus.OFFERED and registration.offer_expires_at:
        return _("🎟 A place is offered to you until {until}.").format(
            until=local_time(registration.offer_expires_at, settings.zone)
        )
    return None


def _where_and_who(event: Event, language: str) -> list[str]:
    lines = []
    venue = venue_name(event, language)
    address = venue_address(event, language)
    if address:
        venue += ", " + address
    if venue:
        lines.append("📍 " + escape(venue))
    if event.organiser is not None:
        lines.append(
            _("👤 Organiser: {name}").format(name=escape(event.organiser.first_name or "—"))
        )
    if event.partners:
        lines.append(
            _("🤝 Partners: {names}").format(names=escape(joined(event.partners, language)))
        )
    return lines


def _registration_window(event: Event, settings: Settings) -> str:
    zone = settings.zone
    closes = local_time(event.registration_closes_at or event.starts_at, zone)
    if event.registration_opens_at is not None:
        return _("📝 Registration from {opens} to {closes}").format(
            opens=local_time(event.registration_opens_at, zone), closes=closes
        )
    return _("📝 Registration closes {closes}").format(closes=closes)


def card_text(card: EventCard, settings: Settings, language: str) -> str:
    """An event card: what, when in the alliance zone, where, who, places, the window."""
    event = card.listing.event
    lines = [f"<b>{escape(event.display_title(language))}</b>"]
    lines.append(f"{category_label(event.category)} · {audience_label(event.audience)}")
    if event.status is EventStatus.CANCELLED:
        lines.append(_("❌ This event has been cancelled."))
    elif event.status is EventStatus.COMPLETED:
        lines.append(_("This event is over."))
    lines.append("🕒 " + time_span(event, settings.zone))
    lines += _where_and_who(event, language)
    lines.append("🎟 " + places_line(card.listing))
    lines.append(_registration_window(event, settings))
    if event.series is not None and card.series_sessions > 1:
        lines.append(
            _("🔁 Part of a series: {count} sessions from this one on.").format(
                count=card.series_sessions
            )
        )
    if event.description:
        lines += ["", escape(event.description)]
    if card.reading_list is not None:
        lines += [
            "",
            _("📚 Reading list for this event: {title}").format(
                title=escape(list_title(card.reading_list, language))
            ),
        ]
    status = _registration_line(card, settings)
    if status:
        lines += ["", status]
    return "\n".join(lines)


def _place_buttons(card: EventCard, builder: InlineKeyboardBuilder) -> None:
    """Register (or join the waitlist), the series, an open offer, cancelling."""
    event, registration = card.listing.event, card.registration
    active = registration is not None and registration.status in ACTIVE
    if not active:
        full = card.listing.spots_left <= 0 or card.listing.waitlisted > 0
        builder.row(
            InlineKeyboardButton(
                text=_("⏳ Join the waitlist") if full else _("✅ Register"),
                callback_data=EventAction(action=CardAction.REGISTER, event_id=event.id).pack(),
            )
        )
    if card.series_sessions > 1:
        builder.row(
            InlineKeyboardButton(
                text=_("🔁 Register for all {count} sessions").format(count=card.series_sessions),
                callback_data=EventAction(
                    action=CardAction.REGISTER_SERIES, event_id=event.id
                ).pack(),
            )
        )
    if registration is None:
        return
    if registration.status is RegistrationStatus.OFFERED:
        builder.row(
            *(
                InlineKeyboardButton(
                    text=label,
                    callback_data=OfferAnswer(registration_id=registration.id, answer=reply).pack(),
                )
                for label, reply in (
                    (_("Accept"), OfferReply.ACCEPT),
                    (_("Decline"), OfferReply.DECLINE),
                )
            )
        )
    if registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED):
        builder.row(
            InlineKeyboardButton(
                text=_("✖️ Cancel my registration"),
                callback_data=EventAction(action=CardAction.CANCEL, event_id=event.id).pack(),
            )
        )


def card_keyboard(card: EventCard, bot_username: str) -> InlineKeyboardMarkup:
    """Register or cancel, offers, the reading list, calendar, map, share, back to the list."""
    event = card.listing.event
    builder = InlineKeyboardBuilder()
    if event.status is EventStatus.PUBLISHED:
        _place_buttons(card, builder)
    if card.reading_list is not None:
        builder.row(
            InlineKeyboardButton(
                text=_("📚 Open the reading list"),
                callback_data=ListData(action=ListAct.SEND, list_id=card.reading_list.id).pack(),
            )
        )
    builder.row(
        InlineKeyboardButton(
            text=_("📅 Add to calendar"),
            callback_data=EventAction(action=CardAction.CALENDAR, event_id=event.id).pack(),
        ),
        InlineKeyboardButton(
            text=_("🗺 Map"),
            callback_data=EventAction(action=CardAction.MAP, event_id=event.id).pack(),
        ),
    )
    if bot_username:
        builder.row(
            InlineKeyboardButton(
                text=_("🔗 Share"), url=f"https://t.me/{bot_username}?start={EVENT_LINK}_{event.id}"
            )
        )
    builder.row(InlineKeyboardButton(text=_("◀️ Events"), callback_data=EventList().pack()))
    return builder.as_markup()


async def _bot_username(bot: Bot | None) -> str:
    if bot is None:
        return ""
    me = await bot.me()
    return me.username or ""


async def render_card(
    session: AsyncSession,
    reader: Reader,
    event_id: int,
    settings: Settings,
    bot: Bot | None,
    language: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """The card's text and buttons for this reader (NotFoundError if the event is gone)."""
    card = await event_card(session, reader, event_id)
    return card_text(card, settings, language), card_keyboard(card, await _bot_username(bot))


async def open_event(
    query: CallbackQuery,
    callback_data: EventOpen,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """An event's card."""
    try:
        text, keyboard = await render_card(
            session, reader, callback_data.event_id, settings, query.bot, i18n.current_locale
        )
    except NotFoundError:
        await query.answer(_("This event no longer exists."), show_alert=True)
        return
    await query.answer()
    await edit_message(query.message, text, keyboard)


async def send_calendar(message: Message, event: Event, settings: Settings, language: str) -> None:
    """The event's .ics file."""
    await message.answer_document(
        BufferedInputFile(
            event_calendar(event, settings.zone, language=language),
            filename=calendar_filename(event.id),
        ),
        caption=_("📅 Open this file to add the event to your calendar."),
    )


def _closed_text(error: RegistrationClosedError, settings: Settings) -> str:
    if error.cancelled:
        return _("This event has been cancelled.")
    if error.opens_at is not None:
        return _("Registration opens {opens}.").format(
            opens=local_time(error.opens_at, settings.zone)
        )
    return _("Registration for this event is closed.")


PlaceChange = Callable[[], Awaitable[None]]


async def _change_place(
    query: CallbackQuery,
    event_id: int,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    change: PlaceChange,
) -> None:
    """Make the change (it answers the button), say why not when refused, redraw the card."""
    try:
        await change()
    except AlreadyRegisteredError:
        await query.answer(_("You are already registered for this event."), show_alert=True)
    except RegistrationClosedError as error:
        await query.answer(_closed_text(error, settings), show_alert=True)
    except NotRegisteredError:
        await query.answer(_("You are not registered for this event."), show_alert=True)
    except NotFoundError:
        await query.answer(_("This event no longer exists."), show_alert=True)
        return
    text, keyboard = await render_card(
        session, reader, event_id, settings, query.bot, i18n.current_locale
    )
    await edit_message(query.message, text, keyboard)


async def register(
    query: CallbackQuery,
    callback_data: EventAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Register, or join the waitlist; the .ics comes with a confirmed place."""

    async def change() -> None:
        result = await registrations.register(session, reader, callback_data.event_id, now=utcnow())
        if result.waitlist_rank is not None:
            await query.answer(
                _("The event is full: you are number {position} on the waitlist.").format(
                    position=result.waitlist_rank
                ),
                show_alert=True,
            )
            return
        await query.answer(_("✅ You are registered!"))
        if isinstance(query.message, Message):
            await send_calendar(query.message, result.event, settings, i18n.current_locale)

    await _change_place(query, callback_data.event_id, session, reader, settings, i18n, change)


async def register_series(
    query: CallbackQuery,
    callback_data: EventAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Register for this session and every later one of the series."""

    async def change() -> None:
        results = await registrations.register_series(
            session, reader, callback_data.event_id, now=utcnow()
        )
        confirmed = sum(1 for r in results if r.waitlist_rank is None)
        await query.answer(
            ngettext(
                "Registered for {confirmed} session, waitlisted for {waiting}.",
                "Registered for {confirmed} sessions, waitlisted for {waiting}.",
                confirmed,
            ).format(confirmed=confirmed, waiting=len(results) - confirmed),
            show_alert=True,
        )

    await _change_place(query, callback_data.event_id, session, reader, settings, i18n, change)


async def cancel_registration(
    query: CallbackQuery,
    callback_data: EventAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Give up the place (or the waitlist spot); the place moves on."""

    async def change() -> None:
        await registrations.cancel_registration(
            session,
            reader,
            callback_data.event_id,
            now=utcnow(),
            rules=WaitlistRules.for_alliance(settings),
        )
        await query.answer(_("Your registration is cancelled."))

    await _change_place(query, callback_data.event_id, session, reader, settings, i18n, change)


async def _card_event(
    query: CallbackQuery, session: AsyncSession, reader: Reader, event_id: int
) -> tuple[Event, Message] | None:
    """The event and the card's message, after answering the button (None: nothing to do)."""
    try:
        card = await event_card(session, reader, event_id)
    except NotFoundError:
        await query.answer(_("This event no longer exists."), show_alert=True)
        return None
    await query.answer()
    if not isinstance(query.message, Message):
        return None
    return card.listing.event, query.message


async def add_to_calendar(
    query: CallbackQuery,
    callback_data: EventAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The event's .ics file."""
    found = await _card_event(query, session, reader, callback_data.event_id)
    if found is not None:
        await send_calendar(found[1], found[0], settings, i18n.current_locale)


async def show_map(
    query: CallbackQuery, callback_data: EventAction, session: AsyncSession, reader: Reader
) -> None:
    """Where the event is, as a map pin."""
    found = await _card_event(query, session, reader, callback_data.event_id)
    if found is None:
        return
    event, message = found
    point = event_point(event)
    if point is None:
        await message.answer(_("This event has no map location."))
    else:
        await message.answer_location(latitude=point[0], longitude=point[1])


async def open_event_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``ev_<id>``: the event's card."""
    session, reader, settings, i18n = (
        data["session"],
        data["reader"],
        data["settings"],
        data["i18n"],
    )
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(settings, Settings) and isinstance(i18n, I18n)
    if not argument.isdigit():
        await message.answer(
            _("That link is not valid or has expired. Here is the main menu instead."),
            reply_markup=main_menu(),
        )
        return
    try:
        text, keyboard = await render_card(
            session, reader, int(argument), settings, message.bot, i18n.current_locale
        )
    except NotFoundError:
        await message.answer(_("This event no longer exists."))
        return
    await message.answer(text, reply_markup=keyboard)


def build_router() -> Router:
    """A fresh router with the card's handlers: one per action."""
    router = Router(name=__name__)
    router.callback_query.register(open_event, EventOpen.filter())
    actions = (
        (register, CardAction.REGISTER),
        (register_series, CardAction.REGISTER_SERIES),
        (cancel_registration, CardAction.CANCEL),
        (add_to_calendar, CardAction.CALENDAR),
        (show_map, CardAction.MAP),
    )
    for handler, action in actions:
        router.callback_query.register(handler, EventAction.filter(F.action == action))
    return router
