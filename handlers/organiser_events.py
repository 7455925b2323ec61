"""Organisers run events: the /newevent wizard, /myevents, edits, attendees, check-in, feedback.

The wizard keeps everything in the FSM until Publish: an abandoned wizard stores nothing.
Every callback re-checks the role (router filter) and the event's ownership (the service).
"""

from __future__ import annotations

import io
from datetime import datetime
from html import escape
from typing import Any, ClassVar

import qrcode
from aiogram import F, Router
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
    EventRecurrence,
    EventStatus,
    Reader,
    RegistrationStatus,
    Role,
    utcnow,
)
from bot.services import directory, events
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events import EditField, EventDraft, Venue
from bot.services.roles import RoleSet
from handlers.common import edit_message, sentences
from handlers.events import audience_label, category_label, notices_for
from handlers.filters import HasRole, Onboarded

ATTENDEE_BUTTONS = 30
CAPTION_LIMIT = 1024


class NewEvent(StatesGroup):
    """The steps of /newevent."""

    title = State()
    description = State()
    category = State()
    audience = State()
    starts = State()
    ends = State()
    venue = State()
    place_name = State()
    place_location = State()
    capacity = State()
    partners = State()
    repeat = State()
    sessions = State()
    preview = State()


class OrganiserInput(StatesGroup):
    """Waiting for a typed value for one event (edit, capacity, reschedule, message)."""

    value = State()
    reschedule_end = State()


class WizardPick(CallbackData, prefix="nev"):
    """A button in the wizard: category, audience, venue, repeat, skip, publish, cancel."""

    required_role: ClassVar[Role] = Role.ORGANISER

    step: str
    value: str = ""


class OrganiserEvent(CallbackData, prefix="oev"):
    """An action on one event from the organiser's card."""

    required_role: ClassVar[Role] = Role.ORGANISER

    action: str
    event_id: int


class OrganiserEdit(CallbackData, prefix="oed"):
    """Edit one field of an event."""

    required_role: ClassVar[Role] = Role.ORGANISER

    event_id: int
    field: str


class OrganiserSet(CallbackData, prefix="oes"):
    """Set the category (c) or audience (a) of an event."""

    required_role: ClassVar[Role] = Role.ORGANISER

    event_id: int
    field: str
    value: str


class MarkAttended(CallbackData, prefix="oat"):
    """Toggle a registration between confirmed and attended."""

    required_role: ClassVar[Role] = Role.ORGANISER

    registration_id: int


def _cancel_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=WizardPick(step="cancel").pack())


def _cancel_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_cancel_button()]])


def _choices(step: str, options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for value, label in options:
        builder.button(text=label, callback_data=WizardPick(step=step, value=value))
    builder.adjust(2)
    builder.row(_cancel_button())
    return builder.as_markup()


def _category_options() -> list[tuple[str, str]]:
    return [(category.value, category_label(category)) for category in EventCategory]


def _audience_options() -> list[tuple[str, str]]:
    return [(audience.value, audience_label(audience)) for audience in EventAudience]


def _format_hint() -> str:
    return _("Use the form YYYY-MM-DD HH:MM, for example 2027-03-14 19:00.")


# --- the wizard -------------------------------------------------------------------------


async def start_wizard(message: Message, state: FSMContext) -> None:
    """/newevent: the title first."""
    await state.clear()
    await state.set_state(NewEvent.title)
    await message.answer(
        _("🆕 New event. What is its title? (up to 200 characters)"),
        reply_markup=_cancel_markup(),
    )


async def wizard_title(message: Message, state: FSMContext) -> None:
    """The title."""
    try:
        title = events.check_title(message.text or "")
    except InvalidInputError:
        await message.answer(_("A title must be 1 to 200 characters. Please send it again."))
        return
    await state.update_data(title=title)
    await state.set_state(NewEvent.description)
    await message.answer(
        _("Describe the event for readers (up to 2000 characters)."),
        reply_markup=_cancel_markup(),
    )


async def wizard_description(message: Message, state: FSMContext) -> None:
    """The description."""
    try:
        description = events.check_description(message.text or "")
    except InvalidInputError:
        await message.answer(
            _(
                "A description must be 1 to 2000 characters; yours has {count}. "
                "Please send a shorter one."
            ).format(count=len((message.text or "").strip()))
        )
        return
    await state.update_data(description=description)
    await state.set_state(NewEvent.category)
    await message.answer(
        _("What kind of event is it?"), reply_markup=_choices("cat", _category_options())
    )


async def wizard_pick(
    query: CallbackQuery,
    callback_data: WizardPick,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A button in the wizard; stale buttons (another step) are refused."""
    current = await state.get_state()
    step, value = callback_data.step, callback_data.value
    expected = {
        "cat": NewEvent.category.state,
        "aud": NewEvent.audience.state,
        "venue": NewEvent.venue.state,
        "partners": NewEvent.partners.state,
        "repeat": NewEvent.repeat.state,
        "publish": NewEvent.preview.state,
    }
    if step == "cancel":
        await state.clear()
        await query.answer()
        await edit_message(query.message, _("Cancelled. Nothing was saved."))
        return
    if expected.get(step) != current:
        await query.answer(_("That button is out of date."), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    await query.answer()
    if message is None:
        return
    try:
        if step == "cat":
            await state.update_data(category=EventCategory(value).value)
            await state.set_state(NewEvent.audience)
            await edit_message(message, _("Who is it for?"), _choices("aud", _audience_options()))
        elif step == "aud":
            await state.update_data(audience=EventAudience(value).value)
            await state.set_state(NewEvent.starts)
            await edit_message(
                message,
                _("When does it start (alliance time, {zone})?").format(zone=settings.timezone)
                + " "
                + _format_hint(),
                _cancel_markup(),
            )
        elif step == "venue":
            if value == "place":
                await state.set_state(NewEvent.place_name)
                await edit_message(message, _("What is the place called?"), _cancel_markup())
                return
            library = await directory.library(session, int(value)) if value.isdigit() else None
            if library is None:
                raise InvalidInputError("library")
            await state.update_data(library_id=library.id)
            await _ask_capacity(message, state)
        elif step == "partners":
            await state.update_data(partners=[])
            await _ask_repeat(message, state)
        elif step == "repeat":
            if value == "once":
                await state.update_data(recurrence=None, sessions=1)
                await _show_preview(message, state, session, settings, i18n)
            else:
                await state.update_data(recurrence=EventRecurrence(value).value)
                await state.set_state(NewEvent.sessions)
                await edit_message(
                    message,
                    _("How many sessions in all? (2 to {most})").format(most=events.SERIES_MAX),
                    _cancel_markup(),
                )
        elif step == "publish":
            draft = _draft(await state.get_data(), settings)
            published = await events.publish(
                session, reader, draft, now=utcnow(), zone=settings.zone
            )
            await state.clear()
            await edit_message(
                message,
                _("✅ Published: {title} ({count} sessions).").format(
                    title=escape(published[0].title), count=len(published)
                )
                if len(published) > 1
                else _("✅ Published: {title}.").format(title=escape(published[0].title)),
            )
            await _send_card(message, session, reader, roles, published[0].id, settings)
    except (ValueError, InvalidInputError):
        await message.answer(
            _(
                "Something in this event is no longer valid (perhaps the start has passed). "
                "Please start again with /newevent."
            )
        )
        await state.clear()


async def wizard_starts(message: Message, state: FSMContext, settings: Settings) -> None:
    """The start, in the future."""
    try:
        starts = events.parse_local(message.text or "", settings.zone, now=utcnow())
    except InvalidInputError as error:
        if str(error) == "past":
            await message.answer(_("That time has already passed. Please give a future time."))
        elif str(error) == "too far":
            await message.answer(_("Events can be planned up to two years ahead."))
        else:
            await message.answer(sentences(_("I could not read that date."), _format_hint()))
        return
    await state.update_data(starts_at=starts.isoformat())
    await state.set_state(NewEvent.ends)
    await message.answer(
        _("When does it end? Send HH:MM for the same day, or YYYY-MM-DD HH:MM."),
        reply_markup=_cancel_markup(),
    )


async def _form_expired(message: Message, state: FSMContext, again: str) -> None:
    """The wizard's stored answers are gone (expired or lost): say so and start over."""
    await state.clear()
    await message.answer(
        _("This form has expired. Please start again with {command}.").format(command=again)
    )


async def _stored_start(message: Message, state: FSMContext, again: str) -> datetime | None:
    """The start the wizard stored, or None after telling the person its data is gone."""
    data = await state.get_data()
    try:
        return datetime.fromisoformat(str(data["starts_at"]))
    except (KeyError, ValueError):
        await _form_expired(message, state, again)
        return None


async def wizard_ends(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The end, after the start; then the venue."""
    starts = await _stored_start(message, state, "/newevent")
    if starts is None:
        return
    try:
        ends = events.parse_end(message.text or "", starts, settings.zone)
    except InvalidInputError as error:
        if str(error) == "before start":
            await message.answer(_("The end must come after the start. Please send it again."))
        elif str(error) == "too long":
            await message.answer(_("An event can last at most 14 days."))
        else:
            await message.answer(_("I could not read that time. Send HH:MM or YYYY-MM-DD HH:MM."))
        return
    await state.update_data(ends_at=ends.isoformat())
    await state.set_state(NewEvent.venue)
    libraries = await directory.libraries(session)
    language = i18n.current_locale
    options = [
        (str(library.id), library.name_en if language == "en" and library.name_en else library.name)
        for library in libraries
    ]
    options.append(("place", _("📍 Another place")))
    await message.answer(
        _("Where is it? Choose a member library, or another place."),
        reply_markup=_choices("venue", options),
    )


async def wizard_place_name(message: Message, state: FSMContext) -> None:
    """A named place; its location next."""
    try:
        name = events.check_place_name(message.text or "")
    except InvalidInputError:
        await message.answer(_("A place name must be 1 to 200 characters."))
        return
    await state.update_data(place_name=name)
    await state.set_state(NewEvent.place_location)
    await message.answer(
        _("Now send the place's location (📎 → Location)."), reply_markup=_cancel_markup()
    )


async def wizard_place_location(message: Message, state: FSMContext) -> None:
    """The named place's location."""
    if message.location is None:
        await message.answer(_("Please send a location (📎 → Location), not text."))
        return
    await state.update_data(
        latitude=message.location.latitude, longitude=message.location.longitude
    )
    await _ask_capacity(message, state)


async def _ask_capacity(message: Message, state: FSMContext) -> None:
    await state.set_state(NewEvent.capacity)
    await message.answer(
        _("How many places are there? (a whole number, at least 1)"),
        reply_markup=_cancel_markup(),
    )


async def wizard_capacity(message: Message, state: FSMContext) -> None:
    """The capacity, at least 1."""
    try:
        capacity = events.check_capacity(message.text or "")
    except InvalidInputError:
        await message.answer(
            _("The capacity must be a whole number from 1 to {maximum}.").format(
                maximum=f"{events.CAPACITY_MAX:,}"
            )
        )
        return
    await state.update_data(capacity=capacity)
    await state.set_state(NewEvent.partners)
    await message.answer(
        _("Partner organisations? Send them separated by commas, or tap Skip."),
        reply_markup=_choices("partners", [("none", _("Skip"))]),
    )


async def wizard_partners(message: Message, state: FSMContext) -> None:
    """Partner organisations."""
    try:
        partners = events.check_partners(message.text or "")
    except InvalidInputError:
        await message.answer(
            _("Up to 10 partners, each up to 100 characters, separated by commas.")
        )
        return
    await state.update_data(partners=list(partners))
    await _ask_repeat(message, state)


async def _ask_repeat(message: Message, state: FSMContext) -> None:
    await state.set_state(NewEvent.repeat)
    await message.answer(
        _("Is it a one-off, or a series?"),
        reply_markup=_choices(
            "repeat",
            [
                ("once", _("Once")),
                (EventRecurrence.WEEKLY.value, _("Weekly")),
                (EventRecurrence.MONTHLY.value, _("Monthly")),
            ],
        ),
    )


async def wizard_sessions(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """How many sessions the series has."""
    text = (message.text or "").strip()
    if not text.isdigit() or not 2 <= int(text) <= events.SERIES_MAX:
        await message.answer(
            _("Please send a number from 2 to {most}.").format(most=events.SERIES_MAX)
        )
        return
    await state.update_data(sessions=int(text))
    await _show_preview(message, state, session, settings, i18n)


def _draft(data: dict[str, Any], settings: Settings) -> EventDraft:
    try:
        return EventDraft(
            title=data["title"],
            description=data["description"],
            category=EventCategory(data["category"]),
            audience=EventAudience(data["audience"]),
            starts_at=datetime.fromisoformat(data["starts_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            venue=Venue(
                library_id=data.get("library_id"),
                place_name=data.get("place_name"),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            ),
            capacity=int(data["capacity"]),
            partners=tuple(data.get("partners") or ()),
            recurrence=EventRecurrence(data["recurrence"]) if data.get("recurrence") else None,
            sessions=int(data.get("sessions") or 1),
        )
    except (KeyError, ValueError, TypeError):
        raise InvalidInputError("draft") from None


async def _show_preview(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    data = await state.get_data()
    try:
        draft = _draft(data, settings)
    except InvalidInputError:
        await _form_expired(message, state, "/newevent")
        return
    await state.set_state(NewEvent.preview)
    venue = draft.venue.place_name or ""
    if draft.venue.library_id is not None:
        library = await directory.library(session, draft.venue.library_id)
        if library is not None:
            venue = (
                library.name_en if i18n.current_locale == "en" and library.name_en else library.name
            )
    # Each session as the event card will show it.
    length = draft.ends_at - draft.starts_at
    spans = [
        events.span_text(moment, moment + length, settings.zone)
        for moment in events.session_starts(
            draft.starts_at, draft.recurrence, draft.sessions, settings.zone
        )
    ]
    lines = [
        _("👀 Preview — check it, then publish."),
        "",
        f"<b>{escape(draft.title)}</b>",
        f"{category_label(draft.category)} · {audience_label(draft.audience)}",
        "🕒 " + ", ".join(spans),
        "📍 " + escape(venue),
        _("🎟 {capacity} places").format(capacity=draft.capacity),
    ]
    if draft.partners:
        lines.append(_("🤝 Partners: {names}").format(names=escape(", ".join(draft.partners))))
    lines += ["", escape(draft.description)]
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Publish"), callback_data=WizardPick(step="publish").pack()
                ),
                _cancel_button(),
            ]
        ]
    )
    await message.answer("\n".join(lines)[:4000], reply_markup=keyboard)


# --- /myevents and the organiser's card -------------------------------------------------


async def my_organised_events(
    message: Message, session: AsyncSession, reader: Reader, roles: RoleSet, settings: Settings
) -> None:
    """/myevents: events the organiser runs (admins: every event)."""
    listings = await events.organised_events(session, reader, roles, now=utcnow())
    if not listings:
        await message.answer(_("You have no events yet. Create one with /newevent."))
        return
    builder = InlineKeyboardBuilder()
    for listing in listings:
        event = listing.event
        starts = event.starts_at.astimezone(settings.zone)
        mark = {EventStatus.CANCELLED: "❌ ", EventStatus.COMPLETED: "✔️ "}.get(event.status, "")
        builder.row(
            InlineKeyboardButton(
                text=f"{mark}{starts:%m-%d %H:%M} {event.title[:40]}",
                callback_data=OrganiserEvent(action="o", event_id=event.id).pack(),
            )
        )
    await message.answer(_("🗂 Your events:"), reply_markup=builder.as_markup())


def _checkin_link(bot_username: str, event: Event) -> str:
    return f"https://t.me/{bot_username}?start={events.CHECKIN_LINK}_{event.checkin_token}"


async def _organiser_card(
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    event_id: int,
    settings: Settings,
    bot_username: str,
) -> tuple[str, InlineKeyboardMarkup, str]:
    event, people = await events.attendees(session, reader, roles, event_id)
    counts = dict.fromkeys(RegistrationStatus, 0)
    for person in people:
        counts[person.registration.status] += 1
    status = {
        EventStatus.PUBLISHED: _("published"),
        EventStatus.CANCELLED: _("cancelled"),
        EventStatus.COMPLETED: _("completed"),
    }[event.status]
    lines = [
        f"<b>{escape(event.title)}</b> — {status}",
        "🕒 " + events.time_span(event, settings.zone),
        _(
            "🎟 {confirmed} registered, {attended} attended, {offered} offered, {waiting} waiting; "
            "{capacity} places"
        ).format(
            confirmed=counts[RegistrationStatus.CONFIRMED],
            attended=counts[RegistrationStatus.ATTENDED],
            offered=counts[RegistrationStatus.OFFERED],
            waiting=counts[RegistrationStatus.WAITLISTED],
            capacity=event.capacity,
        ),
        _("✅ Check-in link: {link}").format(link=_checkin_link(bot_username, event)),
    ]
    rows: list[list[tuple[str, str]]] = [
        [("a", _("👥 Attendees")), ("c", _("📄 CSV")), ("q", _("🔳 Check-in QR"))],
        [("f", _("⭐ Feedback")), ("m", _("✉️ Message attendees"))],
    ]
    if event.status is EventStatus.PUBLISHED:
        rows.append([("e", _("✏️ Edit")), ("k", _("🎟 Capacity")), ("t", _("📅 Reschedule"))])
        rows.append([("x", _("❌ Cancel event"))])
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=label,
                    callback_data=OrganiserEvent(action=action, event_id=event.id).pack(),
                )
                for action, label in row
            ]
            for row in rows
        ]
    )
    return "\n".join(lines), keyboard, _checkin_link(bot_username, event)


async def _username(message: Message) -> str:
    assert message.bot is not None
    me = await message.bot.me()
    return me.username or ""


async def _send_card(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    event_id: int,
    settings: Settings,
) -> None:
    """The organiser's card: the check-in QR code, with the details and actions as caption."""
    username = await _username(message)
    text, keyboard, link = await _organiser_card(
        session, reader, roles, event_id, settings, username
    )
    await message.answer_photo(
        BufferedInputFile(qr_png(link), filename=f"checkin-{event_id}.png"),
        caption=text[:CAPTION_LIMIT],
        reply_markup=keyboard,
    )


def qr_png(link: str) -> bytes:
    """A QR code for the link, as PNG."""
    image = qrcode.make(link)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def _attendee_line(person: events.Attendee) -> str:
    status = {
        RegistrationStatus.CONFIRMED: _("registered"),
        RegistrationStatus.ATTENDED: _("attended"),
        RegistrationStatus.OFFERED: _("place offered"),
        RegistrationStatus.WAITLISTED: _("waitlisted"),
        RegistrationStatus.CANCELLED: _("cancelled"),
    }[person.registration.status]
    name = escape(person.reader.first_name or "—")
    if person.reader.username:
        name += f" (@{escape(person.reader.username)})"
    return f"{person.registration.position}. {name} — {status}"


async def organiser_action(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
) -> None:
    """One action on the organiser's card; ownership is re-checked every time."""
    message = query.message if isinstance(query.message, Message) else None
    action, event_id = callback_data.action, callback_data.event_id
    try:
        event = await events.managed_event(session, reader, roles, event_id)
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return
    await query.answer()
    if message is None:
        return
    zone = settings.zone
    if action == "o":
        await _send_card(message, session, reader, roles, event_id, settings)
    elif action == "a":
        _event, people = await events.attendees(session, reader, roles, event_id)
        lines = [_("👥 Attendees of {title}:").format(title=escape(event.title))]
        lines += [_attendee_line(person) for person in people] or [_("Nobody yet.")]
        builder = InlineKeyboardBuilder()
        markable = [
            p
            for p in people
            if p.registration.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)
        ]
        for person in markable[:ATTENDEE_BUTTONS]:
            attended = person.registration.status is RegistrationStatus.ATTENDED
            builder.button(
                text=("☑️ " if attended else "⬜ ") + (person.reader.first_name or "—")[:30],
                callback_data=MarkAttended(registration_id=person.registration.id),
            )
        builder.adjust(2)
        await message.answer("\n".join(lines)[:4000], reply_markup=builder.as_markup())
    elif action == "c":
        _event, people = await events.attendees(session, reader, roles, event_id)
        await message.answer_document(
            BufferedInputFile(events.attendee_csv(people, zone), filename=f"event-{event.id}.csv"),
            caption=_("👥 Attendees of {title}").format(title=escape(event.title)),
        )
    elif action == "q":
        link = _checkin_link(await _username(message), event)
        await message.answer_photo(
            BufferedInputFile(qr_png(link), filename=f"checkin-{event.id}.png"),
            caption=_("Readers scan this to check in during the event: {link}").format(link=link),
        )
    elif action == "f":
        _event, summary = await events.feedback_summary(session, reader, roles, event_id)
        if summary.count == 0:
            await message.answer(
                _("No feedback yet for {title}.").format(title=escape(event.title))
            )
            return
        lines = [
            _("⭐ Feedback for {title}: {count} ratings, average {average}").format(
                title=escape(event.title),
                count=summary.count,
                average=f"{summary.average:.1f}" if summary.average is not None else "—",
            )
        ]
        lines += [f"{star}⭐ {summary.per_rating[star]}" for star in range(5, 0, -1)]
        lines += [f"💬 {escape(comment)}" for comment in summary.comments]
        await message.answer("\n".join(lines)[:4000])
    elif action == "e":
        builder = InlineKeyboardBuilder()
        for field, label in (
            (EditField.TITLE.value, _("Title")),
            (EditField.DESCRIPTION.value, _("Description")),
            ("category", _("Category")),
            ("audience", _("Audience")),
            (EditField.PARTNERS.value, _("Partners")),
            (EditField.PLACE.value, _("Place name")),
            (EditField.OPENS.value, _("Registration opens")),
            (EditField.CLOSES.value, _("Registration closes")),
        ):
            builder.button(text=label, callback_data=OrganiserEdit(event_id=event.id, field=field))
        builder.adjust(2)
        await message.answer(_("What do you want to change?"), reply_markup=builder.as_markup())
    elif action in ("k", "t", "m"):
        await state.set_state(OrganiserInput.value)
        await state.update_data(event_id=event.id, field=action)
        prompts = {
            "k": _("Send the new capacity (it cannot go below the places already taken)."),
            "t": sentences(_("Send the new start (alliance time)."), _format_hint()),
            "m": _("Send the message for everyone registered or waiting."),
        }
        await message.answer(prompts[action], reply_markup=_cancel_markup())
    elif action == "x":
        await message.answer(
            _("Cancel {title}? Everyone registered or waiting will be told.").format(
                title=escape(event.title)
            ),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("Yes, cancel the event"),
                            callback_data=OrganiserEvent(action="X", event_id=event.id).pack(),
                        )
                    ]
                ]
            ),
        )
    elif action == "X":
        try:
            notified = await events.cancel_event(
                session, reader, roles, event_id, now=utcnow(), notices=notices_for(settings, i18n)
            )
        except DomainError:
            await message.answer(_("This event cannot be cancelled any more."))
            return
        await edit_message(
            message,
            _("❌ {title} is cancelled. Readers being told: {count}.").format(
                title=escape(event.title), count=notified
            ),
        )


async def organiser_edit(
    query: CallbackQuery,
    callback_data: OrganiserEdit,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
) -> None:
    """Choose the field to edit: buttons for category and audience, text for the rest."""
    try:
        event = await events.managed_event(session, reader, roles, callback_data.event_id)
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.field in ("category", "audience"):
        code = "c" if callback_data.field == "category" else "a"
        options = _category_options() if code == "c" else _audience_options()
        builder = InlineKeyboardBuilder()
        for value, label in options:
            builder.button(
                text=label,
                callback_data=OrganiserSet(event_id=event.id, field=code, value=value),
            )
        builder.adjust(2)
        await query.message.answer(_("Choose:"), reply_markup=builder.as_markup())
        return
    try:
        field = EditField(callback_data.field)
    except ValueError:
        await query.message.answer(_("That button is out of date."))
        return
    await state.set_state(OrganiserInput.value)
    await state.update_data(event_id=event.id, field=field.value)
    hints = {
        EditField.TITLE: _("Send the new title (up to 200 characters)."),
        EditField.DESCRIPTION: _("Send the new description (up to 2000 characters)."),
        EditField.PARTNERS: _("Send the partners separated by commas, or - for none."),
        EditField.PLACE: _("Send the new place name."),
        EditField.OPENS: _("Send when registration opens, or - for at once.")
        + " "
        + _format_hint(),
        EditField.CLOSES: _("Send when registration closes, or - for at the start.")
        + " "
        + _format_hint(),
    }
    await query.message.answer(hints[field], reply_markup=_cancel_markup())


async def organiser_set(
    query: CallbackQuery,
    callback_data: OrganiserSet,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """Set the category or the audience."""
    try:
        if callback_data.field == "c":
            event = await events.set_choice(
                session,
                reader,
                roles,
                callback_data.event_id,
                category=EventCategory(callback_data.value),
            )
        elif callback_data.field == "a":
            event = await events.set_choice(
                session,
                reader,
                roles,
                callback_data.event_id,
                audience=EventAudience(callback_data.value),
            )
        else:
            raise InvalidInputError("field")
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return
    except (ValueError, InvalidInputError):
        await query.answer(_("That button is out of date."), show_alert=True)
        return
    await query.answer(_("Saved."))
    await edit_message(query.message, _("Saved: {title}.").format(title=escape(event.title)))


async def organiser_value(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
) -> None:
    """A typed value: an edit, the capacity, a new start, or a message to attendees."""
    data = await state.get_data()
    event_id, field = int(data.get("event_id", 0)), str(data.get("field", ""))
    text = message.text or ""
    now = utcnow()
    notices = notices_for(settings, i18n)
    try:
        if field == "k":
            capacity = events.check_capacity(text)
            await events.set_capacity(
                session, reader, roles, event_id, capacity, now=now, notices=notices
            )
            reply = _("Capacity saved: {capacity}.").format(capacity=capacity)
        elif field == "t":
            starts = events.parse_local(text, settings.zone, now=now)
            await state.update_data(starts_at=starts.isoformat())
            await state.set_state(OrganiserInput.reschedule_end)
            await message.answer(
                _("When does it end? Send HH:MM for the same day, or YYYY-MM-DD HH:MM."),
                reply_markup=_cancel_markup(),
            )
            return
        elif field == "m":
            plain = message.text or ""
            html_text = message.html_text if message.text else ""
            queued = await events.message_attendees(
                session,
                reader,
                roles,
                event_id,
                html_text,
                len(plain),
                draft_key=f"{message.chat.id}-{message.message_id}",
                now=now,
            )
            reply = _("✉️ Your message is on its way. Recipients: {count}.").format(count=queued)
        else:
            await events.edit_event(
                session,
                reader,
                roles,
                event_id,
                EditField(field),
                text,
                now=now,
                zone=settings.zone,
            )
            reply = _("Saved.")
    except (NotFoundError, NotAllowedError):
        await state.clear()
        await message.answer(_("You can only manage your own events."))
        return
    except InvalidInputError as error:
        await message.answer(_invalid_value(field, str(error)))
        return
    except ValueError:
        await state.clear()
        await message.answer(_("That button is out of date."))
        return
    await state.clear()
    await message.answer(reply)


def _invalid_value(field: str, reason: str) -> str:
    if reason == "past":
        return _("That time has already passed. Please give a future time.")
    if reason == "format":
        return sentences(_("I could not read that date."), _format_hint())
    if reason == "after start":
        return _("Registration cannot open or close after the event starts.")
    if reason == "window":
        return _("Registration must open before it closes.")
    if field == "k":
        return _(
            "The capacity must be a whole number from 1 to {maximum}, and not below the "
            "places already taken."
        ).format(maximum=f"{events.CAPACITY_MAX:,}")
    if field == "m":
        return _("The message must be 1 to 3500 characters.")
    return _("That value is not valid; please check its length and send it again.")


async def reschedule_end(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The new end; then everyone is told, with the new .ics."""
    data = await state.get_data()
    starts = await _stored_start(message, state, "/myevents")
    if starts is None:
        return
    try:
        ends = events.parse_end(message.text or "", starts, settings.zone)
        notified = await events.reschedule(
            session,
            reader,
            roles,
            int(data.get("event_id", 0)),
            starts,
            ends,
            now=utcnow(),
            notices=notices_for(settings, i18n),
        )
    except (NotFoundError, NotAllowedError):
        await state.clear()
        await message.answer(_("You can only manage your own events."))
        return
    except InvalidInputError as error:
        if str(error) == "before start":
            await message.answer(_("The end must come after the start. Please send it again."))
        else:
            await message.answer(_("I could not read that time. Send HH:MM or YYYY-MM-DD HH:MM."))
        return
    await state.clear()
    await message.answer(
        _("📅 Rescheduled to {starts}. Readers getting the new calendar file: {count}.").format(
            starts=events.local_time(starts, settings.zone), count=notified
        )
    )


async def mark_attended(
    query: CallbackQuery,
    callback_data: MarkAttended,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """Toggle attended from the attendee list."""
    try:
        registration = await events.mark_attendance(
            session, reader, roles, callback_data.registration_id, now=utcnow()
        )
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return
    except InvalidInputError:
        await query.answer(_("Only registered readers can be marked."), show_alert=True)
        return
    if registration.status is RegistrationStatus.ATTENDED:
        await query.answer(_("Marked as attended."))
    else:
        await query.answer(_("Attendance removed."))


async def wizard_cancel_text(message: Message, state: FSMContext) -> None:
    """/cancel inside the wizard or an edit."""
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded(), HasRole(Role.ORGANISER))
    router.callback_query.filter(Onboarded(), HasRole(Role.ORGANISER))
    wizard_states = StateFilter(NewEvent, OrganiserInput)
    router.message.register(start_wizard, Command("newevent"))
    router.message.register(my_organised_events, Command("myevents"))
    router.message.register(wizard_cancel_text, wizard_states, Command("cancel"))
    text = F.text & ~F.text.startswith("/")
    router.message.register(wizard_title, NewEvent.title, text)
    router.message.register(wizard_description, NewEvent.description, text)
    router.message.register(wizard_starts, NewEvent.starts, text)
    router.message.register(wizard_ends, NewEvent.ends, text)
    router.message.register(wizard_place_name, NewEvent.place_name, text)
    router.message.register(wizard_place_location, NewEvent.place_location)
    router.message.register(wizard_capacity, NewEvent.capacity, text)
    router.message.register(wizard_partners, NewEvent.partners, text)
    router.message.register(wizard_sessions, NewEvent.sessions, text)
    router.message.register(organiser_value, OrganiserInput.value, text)
    router.message.register(reschedule_end, OrganiserInput.reschedule_end, text)
    router.callback_query.register(wizard_pick, WizardPick.filter())
    router.callback_query.register(organiser_action, OrganiserEvent.filter())
    router.callback_query.register(organiser_edit, OrganiserEdit.filter())
    router.callback_query.register(organiser_set, OrganiserSet.filter())
    router.callback_query.register(mark_attended, MarkAttended.filter())
    return router
