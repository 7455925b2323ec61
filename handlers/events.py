"""Reading events for readers: the Events menu, filters, cards, registration, offers, check-in."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
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

from bot.config import Settings
from bot.models import (
    Event,
    EventAudience,
    EventCategory,
    EventStatus,
    Reader,
    RegistrationStatus,
    utcnow,
)
from bot.services import directory, events
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events import (
    AlreadyRegisteredError,
    CheckInError,
    EventFilter,
    Listing,
    Notices,
    OfferGoneError,
    RegistrationClosedError,
    When,
)
from handlers.common import edit_message
from handlers.deeplinks import DeepLinks
from handlers.filters import Onboarded
from handlers.keyboards import MENU_EVENTS, district_label, location_keyboard, main_menu

PAGE_SIZE = 6


class EventList(CallbackData, prefix="evl"):
    """The event list with its filters and page."""

    when: str = When.ALL.value
    cat: str = ""
    aud: str = ""
    dist: int = 0
    near: int = 0
    page: int = 0


class EventFilterPick(CallbackData, prefix="evp"):
    """Open a picker for one filter (category, audience, district), keeping the others."""

    kind: str
    when: str = When.ALL.value
    cat: str = ""
    aud: str = ""
    dist: int = 0
    near: int = 0


class EventOpen(CallbackData, prefix="evc"):
    """Open an event's card."""

    event_id: int


class EventAction(CallbackData, prefix="eva"):
    """Register (r), register for the series (s), cancel (x), calendar (i), map (m)."""

    action: str
    event_id: int


class MyEventsOpen(CallbackData, prefix="evm"):
    """The reader's own registrations."""

    page: int = 0


class OfferAnswer(CallbackData, prefix="evo"):
    """Accept (a) or decline (d) a timed offer; the outbox packs the same shape."""

    registration_id: int
    answer: str


class RateEvent(CallbackData, prefix="evf"):
    """A 1-5 rating from the feedback prompt; 0 skips the comment."""

    event_id: int
    rating: int


class FeedbackComment(StatesGroup):
    """Waiting for the optional comment after a rating."""

    comment = State()


def notices_for(settings: Settings, i18n: I18n) -> Notices:
    """The notices helper for this alliance."""
    return Notices.for_alliance(settings, i18n)


def category_label(category: EventCategory) -> str:
    """A category in words."""
    labels = {
        EventCategory.LECTURE: _("Lecture"),
        EventCategory.BOOK_CLUB: _("Book club"),
        EventCategory.HUMAN_LIBRARY: _("Human library"),
        EventCategory.CLASSICS_READING: _("Classics reading"),
        EventCategory.CONTEST: _("Contest"),
        EventCategory.EXHIBITION: _("Exhibition"),
        EventCategory.VOLUNTEERING: _("Volunteering"),
        EventCategory.WORKSHOP: _("Workshop"),
        EventCategory.OTHER: _("Other"),
    }
    return labels[category]


def audience_label(audience: EventAudience) -> str:
    """An audience in words."""
    labels = {
        EventAudience.EVERYONE: _("Everyone"),
        EventAudience.CHILDREN: _("Children"),
        EventAudience.STUDENTS: _("Students"),
        EventAudience.ADULTS: _("Adults"),
        EventAudience.SENIORS: _("Seniors"),
    }
    return labels[audience]


def when_label(when: When) -> str:
    """A date filter in words."""
    labels = {
        When.ALL: _("All dates"),
        When.TODAY: _("Today"),
        When.WEEK: _("This week"),
        When.WEEKEND: _("Weekend"),
    }
    return labels[when]


def places_line(listing: Listing) -> str:
    """Spots left, or the waitlist's length when full."""
    if listing.spots_left > 0 and listing.waitlisted == 0:
        return _("{left} of {capacity} places left").format(
            left=listing.spots_left, capacity=listing.event.capacity
        )
    return _("Full — {count} on the waitlist").format(count=listing.waitlisted)


def _filter_of(data: EventList | EventFilterPick) -> EventFilter:
    try:
        when = When(data.when)
        category = EventCategory(data.cat) if data.cat else None
        audience = EventAudience(data.aud) if data.aud else None
    except ValueError:
        raise InvalidInputError("filter") from None
    return EventFilter(
        when=when,
        category=category,
        audience=audience,
        district_id=data.dist or None,
    )


def _list_data(data: EventList | EventFilterPick, **changes: Any) -> EventList:
    values = {
        "when": data.when,
        "cat": data.cat,
        "aud": data.aud,
        "dist": data.dist,
        "near": data.near,
        "page": 0,
    }
    values.update(changes)
    return EventList(**values)


async def _render_list(
    session: AsyncSession, reader: Reader, settings: Settings, data: EventList, language: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The list text and keyboard; None when "near me" needs a location first."""
    wanted = _filter_of(data)
    if data.near:
        if reader.latitude is None or reader.longitude is None:
            return None
        wanted = EventFilter(
            when=wanted.when,
            category=wanted.category,
            audience=wanted.audience,
            district_id=wanted.district_id,
            near=(reader.latitude, reader.longitude),
        )
    listings, more = await events.discover(
        session,
        wanted,
        now=utcnow(),
        zone=settings.zone,
        limit=PAGE_SIZE,
        offset=data.page * PAGE_SIZE,
    )
    chosen = [when_label(wanted.when)]
    if wanted.category:
        chosen.append(category_label(wanted.category))
    if wanted.audience:
        chosen.append(audience_label(wanted.audience))
    if data.dist:
        district = await directory.district(session, data.dist)
        if district is not None:
            chosen.append(district_label(district, language))
    if data.near:
        chosen.append(_("near me"))
    lines = [_("🎉 Reading events") + " · " + ", ".join(chosen)]
    builder = InlineKeyboardBuilder()
    if not listings:
        lines.append("")
        lines.append(_("No events match these filters. Try other dates or filters."))
    for number, listing in enumerate(listings, start=1 + data.page * PAGE_SIZE):
        event = listing.event
        starts = event.starts_at.astimezone(settings.zone)
        line = f"{number}. {starts:%m-%d %H:%M} <b>{escape(event.title)}</b> — " + places_line(
            listing
        )
        if listing.distance_km is not None:
            line += " · " + _("{km} km").format(km=f"{listing.distance_km:.1f}")
        lines.append(line)
        builder.row(
            InlineKeyboardButton(
                text=f"{number}. {event.title[:40]}",
                callback_data=EventOpen(event_id=event.id).pack(),
            )
        )
    paging = []
    if data.page > 0:
        paging.append(
            InlineKeyboardButton(
                text="◀️", callback_data=_list_data(data, page=data.page - 1).pack()
            )
        )
    if more:
        paging.append(
            InlineKeyboardButton(
                text="▶️", callback_data=_list_data(data, page=data.page + 1).pack()
            )
        )
    if paging:
        builder.row(*paging)
    builder.row(
        *(
            InlineKeyboardButton(
                text=("✓ " if wanted.when is when else "") + when_label(when),
                callback_data=_list_data(data, when=when.value).pack(),
            )
            for when in (When.TODAY, When.WEEK, When.WEEKEND, When.ALL)
        )
    )
    pick = {"when": data.when, "cat": data.cat, "aud": data.aud, "dist": data.dist}
    builder.row(
        InlineKeyboardButton(
            text=_("Category"),
            callback_data=EventFilterPick(kind="c", near=data.near, **pick).pack(),
        ),
        InlineKeyboardButton(
            text=_("Audience"),
            callback_data=EventFilterPick(kind="a", near=data.near, **pick).pack(),
        ),
        InlineKeyboardButton(
            text=_("District"),
            callback_data=EventFilterPick(kind="d", near=data.near, **pick).pack(),
        ),
    )
    builder.row(
        InlineKeyboardButton(
            text=("✓ " if data.near else "") + _("📍 Near me"),
            callback_data=_list_data(data, near=0 if data.near else 1).pack(),
        ),
        InlineKeyboardButton(text=_("🎟 My events"), callback_data=MyEventsOpen().pack()),
    )
    return "\n".join(lines), builder.as_markup()


async def _ask_location(message: Message) -> None:
    await message.answer(
        _(
            "To find events near you, share your location with the button below, "
            "then tap “📍 Near me” again."
        ),
        reply_markup=location_keyboard(skippable=False),
    )


async def events_menu(
    message: Message, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """The Events button or /events: upcoming events with filters."""
    rendered = await _render_list(session, reader, settings, EventList(), i18n.current_locale)
    assert rendered is not None
    await message.answer(rendered[0], reply_markup=rendered[1])


async def event_list(
    query: CallbackQuery,
    callback_data: EventList,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A filter changed or a page turned."""
    try:
        rendered = await _render_list(session, reader, settings, callback_data, i18n.current_locale)
    except InvalidInputError:
        await query.answer(_("That list is out of date."), show_alert=True)
        return
    await query.answer()
    if rendered is None:
        if isinstance(query.message, Message):
            await _ask_location(query.message)
        return
    await edit_message(query.message, *rendered)


async def filter_pick(
    query: CallbackQuery,
    callback_data: EventFilterPick,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """The options of one filter, each a list with that filter set."""
    builder = InlineKeyboardBuilder()
    if callback_data.kind == "c":
        title = _("Which kind of event?")
        for category in EventCategory:
            builder.button(
                text=category_label(category),
                callback_data=_list_data(callback_data, cat=category.value),
            )
        builder.button(text=_("Any kind"), callback_data=_list_data(callback_data, cat=""))
    elif callback_data.kind == "a":
        title = _("Who is it for?")
        for audience in EventAudience:
            if audience is EventAudience.EVERYONE:
                continue
            builder.button(
                text=audience_label(audience),
                callback_data=_list_data(callback_data, aud=audience.value),
            )
        builder.button(text=_("Anyone"), callback_data=_list_data(callback_data, aud=""))
    elif callback_data.kind == "d":
        title = _("Which district?")
        for district in await events.districts_with_events(session, utcnow()):
            builder.button(
                text=district_label(district, i18n.current_locale),
                callback_data=_list_data(callback_data, dist=district.id),
            )
        builder.button(text=_("Every district"), callback_data=_list_data(callback_data, dist=0))
    else:
        await query.answer(_("That list is out of date."), show_alert=True)
        return
    builder.adjust(2)
    await query.answer()
    await edit_message(query.message, title, builder.as_markup())


# --- the card ---------------------------------------------------------------------------


def _registration_line(card: events.EventCard, settings: Settings) -> str | None:
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
            until=events.local_time(registration.offer_expires_at, settings.zone)
        )
    return None


def card_text(card: events.EventCard, settings: Settings, language: str) -> str:
    """An event card: what, when in the alliance zone, where, who, places, the window."""
    event = card.listing.event
    zone = settings.zone
    lines = [f"<b>{escape(event.title)}</b>"]
    lines.append(f"{category_label(event.category)} · {audience_label(event.audience)}")
    if event.status is EventStatus.CANCELLED:
        lines.append(_("❌ This event has been cancelled."))
    elif event.status is EventStatus.COMPLETED:
        lines.append(_("This event is over."))
    lines.append("🕒 " + events.time_span(event, zone))
    venue = events.venue_name(event, language)
    if event.venue_library is not None and event.venue_library.address:
        venue += ", " + event.venue_library.display_address(language)
    if venue:
        lines.append("📍 " + escape(venue))
    if event.organiser is not None:
        lines.append(
            _("👤 Organiser: {name}").format(name=escape(event.organiser.first_name or "—"))
        )
    if event.partners:
        lines.append(_("🤝 Partners: {names}").format(names=escape(", ".join(event.partners))))
    lines.append("🎟 " + places_line(card.listing))
    closes = event.registration_closes_at or event.starts_at
    if event.registration_opens_at is not None:
        lines.append(
            _("📝 Registration from {opens} to {closes}").format(
                opens=events.local_time(event.registration_opens_at, zone),
                closes=events.local_time(closes, zone),
            )
        )
    else:
        lines.append(
            _("📝 Registration closes {closes}").format(closes=events.local_time(closes, zone))
        )
    if event.series is not None and card.series_sessions > 1:
        lines.append(
            _("🔁 Part of a series: {count} sessions from this one on.").format(
                count=card.series_sessions
            )
        )
    if event.description:
        lines.append("")
        lines.append(escape(event.description))
    status = _registration_line(card, settings)
    if status:
        lines.append("")
        lines.append(status)
    return "\n".join(lines)


def card_keyboard(card: events.EventCard, bot_username: str) -> InlineKeyboardMarkup:
    """Register or cancel, offers, calendar, map, share, back to the list."""
    event = card.listing.event
    registration = card.registration
    builder = InlineKeyboardBuilder()
    active = registration is not None and registration.status in events.ACTIVE
    if event.status is EventStatus.PUBLISHED:
        if not active:
            full = card.listing.spots_left <= 0 or card.listing.waitlisted > 0
            builder.row(
                InlineKeyboardButton(
                    text=_("⏳ Join the waitlist") if full else _("✅ Register"),
                    callback_data=EventAction(action="r", event_id=event.id).pack(),
                )
            )
        if card.series_sessions > 1:
            builder.row(
                InlineKeyboardButton(
                    text=_("🔁 Register for all {count} sessions").format(
                        count=card.series_sessions
                    ),
                    callback_data=EventAction(action="s", event_id=event.id).pack(),
                )
            )
        if registration is not None and registration.status is RegistrationStatus.OFFERED:
            builder.row(
                InlineKeyboardButton(
                    text=_("Accept"),
                    callback_data=OfferAnswer(registration_id=registration.id, answer="a").pack(),
                ),
                InlineKeyboardButton(
                    text=_("Decline"),
                    callback_data=OfferAnswer(registration_id=registration.id, answer="d").pack(),
                ),
            )
        if (
            active
            and registration is not None
            and registration.status
            in (
                RegistrationStatus.CONFIRMED,
                RegistrationStatus.WAITLISTED,
            )
        ):
            builder.row(
                InlineKeyboardButton(
                    text=_("✖️ Cancel my registration"),
                    callback_data=EventAction(action="x", event_id=event.id).pack(),
                )
            )
    builder.row(
        InlineKeyboardButton(
            text=_("📅 Add to calendar"),
            callback_data=EventAction(action="i", event_id=event.id).pack(),
        ),
        InlineKeyboardButton(
            text=_("🗺 Map"), callback_data=EventAction(action="m", event_id=event.id).pack()
        ),
    )
    if bot_username:
        builder.row(
            InlineKeyboardButton(
                text=_("🔗 Share"),
                url=f"https://t.me/{bot_username}?start={events.EVENT_LINK}_{event.id}",
            )
        )
    builder.row(InlineKeyboardButton(text=_("◀️ Events"), callback_data=EventList().pack()))
    return builder.as_markup()


async def _bot_username(bot: Bot | None) -> str:
    if bot is None:
        return ""
    me = await bot.me()
    return me.username or ""


async def _card(
    session: AsyncSession,
    reader: Reader,
    event_id: int,
    settings: Settings,
    bot: Bot | None,
    language: str,
) -> tuple[str, InlineKeyboardMarkup]:
    card = await events.event_card(session, reader, event_id)
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
        text, keyboard = await _card(
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
            events.event_calendar(event, settings.zone, language=language),
            filename=events.calendar_filename(event),
        ),
        caption=_("📅 Open this file to add the event to your calendar."),
    )


def _closed_text(error: RegistrationClosedError, settings: Settings) -> str:
    if error.cancelled:
        return _("This event has been cancelled.")
    if error.opens_at is not None:
        return _("Registration opens {opens}.").format(
            opens=events.local_time(error.opens_at, settings.zone)
        )
    return _("Registration for this event is closed.")


async def event_action(
    query: CallbackQuery,
    callback_data: EventAction,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Register, register for the series, cancel, calendar or map."""
    message = query.message if isinstance(query.message, Message) else None
    language = i18n.current_locale
    notices = notices_for(settings, i18n)
    event_id = callback_data.event_id
    now = utcnow()
    try:
        if callback_data.action == "r":
            result = await events.register(session, reader, event_id, now=now, notices=notices)
            if result.waitlist_rank is None:
                await query.answer(_("✅ You are registered!"))
                if message is not None:
                    await send_calendar(message, result.event, settings, language)
            else:
                await query.answer(
                    _("The event is full: you are number {position} on the waitlist.").format(
                        position=result.waitlist_rank
                    ),
                    show_alert=True,
                )
        elif callback_data.action == "s":
            results = await events.register_series(
                session, reader, event_id, now=now, notices=notices
            )
            confirmed = sum(1 for r in results if r.waitlist_rank is None)
            await query.answer(
                _("Registered for {confirmed} sessions, waitlisted for {waiting}.").format(
                    confirmed=confirmed, waiting=len(results) - confirmed
                ),
                show_alert=True,
            )
        elif callback_data.action == "x":
            await events.cancel_registration(session, reader, event_id, now=now, notices=notices)
            await query.answer(_("Your registration is cancelled."))
        elif callback_data.action in ("i", "m"):
            card = await events.event_card(session, reader, event_id)
            event = card.listing.event
            await query.answer()
            if message is None:
                return
            if callback_data.action == "i":
                await send_calendar(message, event, settings, language)
            else:
                point = events.event_point(event)
                if point is None:
                    await message.answer(_("This event has no map location."))
                else:
                    await message.answer_location(latitude=point[0], longitude=point[1])
            return
        else:
            await query.answer(_("That button is out of date."), show_alert=True)
            return
    except AlreadyRegisteredError:
        await query.answer(_("You are already registered for this event."), show_alert=True)
    except RegistrationClosedError as error:
        await query.answer(_closed_text(error, settings), show_alert=True)
    except events.NotRegisteredError:
        await query.answer(_("You are not registered for this event."), show_alert=True)
    except NotFoundError:
        await query.answer(_("This event no longer exists."), show_alert=True)
        return
    text, keyboard = await _card(session, reader, event_id, settings, query.bot, language)
    await edit_message(query.message, text, keyboard)


async def my_events(
    query: CallbackQuery, session: AsyncSession, reader: Reader, settings: Settings
) -> None:
    """The reader's registrations for events to come."""
    mine = await events.my_events(session, reader, now=utcnow())
    await query.answer()
    builder = InlineKeyboardBuilder()
    if not mine:
        text = _("You are not registered for any upcoming event.")
    else:
        lines = [_("🎟 Your events:")]
        for item in mine:
            starts = item.event.starts_at.astimezone(settings.zone)
            status = {
                RegistrationStatus.CONFIRMED: _("registered"),
                RegistrationStatus.ATTENDED: _("attended"),
                RegistrationStatus.OFFERED: _("place offered"),
                RegistrationStatus.WAITLISTED: _("waitlist #{position}").format(
                    position=item.waitlist_rank
                ),
            }.get(item.registration.status, "")
            lines.append(f"• {starts:%m-%d %H:%M} {escape(item.event.title)} — {status}")
            builder.row(
                InlineKeyboardButton(
                    text=item.event.title[:48],
                    callback_data=EventOpen(event_id=item.event.id).pack(),
                )
            )
        text = "\n".join(lines)
    builder.row(InlineKeyboardButton(text=_("◀️ Events"), callback_data=EventList().pack()))
    await edit_message(query.message, text, builder.as_markup())


async def offer_answer(
    query: CallbackQuery,
    callback_data: OfferAnswer,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Accept or decline a timed offer (the registration must be the reader's own)."""
    if callback_data.answer not in ("a", "d"):
        await query.answer(_("That button is out of date."), show_alert=True)
        return
    try:
        registration = await events.answer_offer(
            session,
            reader,
            callback_data.registration_id,
            callback_data.answer == "a",
            now=utcnow(),
            notices=notices_for(settings, i18n),
        )
    except OfferGoneError:
        await query.answer(_("This offer is no longer open."), show_alert=True)
        return
    if callback_data.answer == "a":
        await query.answer(_("✅ The place is yours!"))
        if isinstance(query.message, Message):
            card = await events.event_card(session, reader, registration.event_id)
            await send_calendar(query.message, card.listing.event, settings, i18n.current_locale)
    else:
        await query.answer(_("Declined: the place goes to the next person."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


# --- check-in and feedback --------------------------------------------------------------


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
        text, keyboard = await _card(
            session, reader, int(argument), settings, message.bot, i18n.current_locale
        )
    except NotFoundError:
        await message.answer(_("This event no longer exists."))
        return
    await message.answer(text, reply_markup=keyboard)


async def check_in_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``ci_<token>``: check the reader in during the event."""
    session, reader, settings = data["session"], data["reader"], data["settings"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(settings, Settings)
    try:
        event = await events.check_in(session, reader, argument, now=utcnow())
    except NotFoundError:
        await message.answer(_("This check-in link is not valid."))
        return
    except CheckInError as error:
        title = escape(error.event.title)
        replies = {
            "already": _("You are already checked in to {title}."),
            "not_registered": _(
                "You are not registered for {title}, so you cannot check in. "
                "Please speak to the organiser."
            ),
            "too_early": _("Check-in for {title} opens 30 minutes before the start."),
            "over": _("{title} is over; check-in has closed."),
        }
        await message.answer(replies[error.reason].format(title=title))
        return
    await message.answer(
        _("✅ Welcome! You are checked in to {title}.").format(title=escape(event.title))
    )


async def rate_event(
    query: CallbackQuery,
    callback_data: RateEvent,
    session: AsyncSession,
    reader: Reader,
    state: FSMContext,
) -> None:
    """A rating from the feedback prompt; then the optional comment."""
    if callback_data.rating == 0:
        await state.clear()
        await query.answer(_("Thank you!"))
        await edit_message(query.message, _("Thank you for your feedback!"))
        return
    try:
        event = await events.rate(
            session, reader, callback_data.event_id, callback_data.rating, now=utcnow()
        )
    except (NotAllowedError, InvalidInputError):
        await query.answer(_("Only attendees can rate this event."), show_alert=True)
        return
    await query.answer(_("Thank you!"))
    await state.set_state(FeedbackComment.comment)
    await state.update_data(event_id=event.id)
    await edit_message(
        query.message,
        _(
            "You gave {title} {rating}⭐. Thank you! If you like, send a comment now "
            "(up to 1000 characters), or tap Skip."
        ).format(title=escape(event.title), rating=callback_data.rating),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Skip"),
                        callback_data=RateEvent(event_id=event.id, rating=0).pack(),
                    )
                ]
            ]
        ),
    )


async def feedback_comment(
    message: Message, session: AsyncSession, reader: Reader, state: FSMContext
) -> None:
    """The optional comment after a rating."""
    data = await state.get_data()
    try:
        await events.comment(session, reader, int(data.get("event_id", 0)), message.text or "")
    except InvalidInputError:
        await message.answer(
            _("A comment must be 1 to 1000 characters. Send it again, or tap Skip.")
        )
        return
    except DomainError:
        await state.clear()
        await message.answer(_("Thank you for your feedback!"))
        return
    await state.clear()
    await message.answer(_("Thank you for your feedback!"))


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start ev_<id>`` to the card and ``/start ci_<token>`` to check-in."""
    deep_links.register(events.EVENT_LINK, open_event_link)
    deep_links.register(events.CHECKIN_LINK, check_in_link)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    router.message.register(events_menu, F.text == MENU_EVENTS)
    router.message.register(events_menu, Command("events"))
    router.message.register(
        feedback_comment, StateFilter(FeedbackComment.comment), F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(event_list, EventList.filter())
    router.callback_query.register(filter_pick, EventFilterPick.filter())
    router.callback_query.register(open_event, EventOpen.filter())
    router.callback_query.register(event_action, EventAction.filter())
    router.callback_query.register(my_events, MyEventsOpen.filter())
    router.callback_query.register(offer_answer, OfferAnswer.filter())
    router.callback_query.register(rate_event, RateEvent.filter())
    return router
