"""/myevents and the organiser's card: attendees, CSV, check-in QR, feedback, cancelling.

Every action re-checks the event's ownership (``managed_event``): callback data can be forged.
"""

from __future__ import annotations

import asyncio
import io
from html import escape

import qrcode
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
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
from bot.services.errors import DomainError, NotAllowedError, NotFoundError
from bot.services.events.attendees import Attendee, attendee_csv, attendees, status_counts
from bot.services.events.checkin import CHECKIN_LINK, feedback_summary
from bot.services.events.organising import cancel_event, organised_events
from bot.services.events.records import managed_event
from bot.services.events.times import time_span
from bot.services.reading.list_links import LinkTarget, linked_list
from bot.services.roles import RoleSet
from handlers.common import edit_message, sentences
from handlers.events.labels import button_title, page_buttons, status_label
from handlers.organiser_events.callbacks import (
    AttendeePage,
    MarkAttended,
    OrganiserAction,
    OrganiserEvent,
    OrganiserList,
)
from handlers.organiser_events.edits import edit_menu
from handlers.organiser_events.forms import Awaited, EventEditDraft, OrganiserInput
from handlers.organiser_events.keyboards import cancel_markup, format_hint
from handlers.reading.callbacks import list_title

LIST_PAGE = 10
ATTENDEE_PAGE = 20
CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4000


# --- /myevents ----------------------------------------------------------------------------


async def _events_page(
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    page: int,
    settings: Settings,
    language: str,
) -> InlineKeyboardMarkup | None:
    """A page of the organiser's events as buttons (None: no events at all)."""
    listings, more = await organised_events(
        session, reader, roles, now=utcnow(), limit=LIST_PAGE, offset=page * LIST_PAGE
    )
    if not listings and page == 0:
        return None
    builder = InlineKeyboardBuilder()
    for listing in listings:
        event = listing.event
        starts = event.starts_at.astimezone(settings.zone)
        mark = {EventStatus.CANCELLED: "❌ ", EventStatus.COMPLETED: "✔️ "}.get(event.status, "")
        builder.row(
            InlineKeyboardButton(
                text=f"{mark}{starts:%m-%d %H:%M} {button_title(event, language)}",
                callback_data=OrganiserEvent(action=OrganiserAction.OPEN, event_id=event.id).pack(),
            )
        )
    paging = page_buttons(page, more, lambda to: OrganiserList(page=to).pack())
    if paging:
        builder.row(*paging)
    return builder.as_markup()


async def my_organised_events(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/myevents: events the organiser runs (admins: every event), a page at a time."""
    keyboard = await _events_page(session, reader, roles, 0, settings, i18n.current_locale)
    if keyboard is None:
        await message.answer(_("You have no events yet. Create one with /newevent."))
        return
    await message.answer(_("🗂 Your events:"), reply_markup=keyboard)


async def turn_events_page(
    query: CallbackQuery,
    callback_data: OrganiserList,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """◀️ ▶️ on /myevents."""
    page = max(0, callback_data.page)
    keyboard = await _events_page(session, reader, roles, page, settings, i18n.current_locale)
    await query.answer()
    await edit_message(query.message, _("🗂 Your events:"), keyboard)


# --- the card -----------------------------------------------------------------------------


def _checkin_link(bot_username: str, event: Event) -> str:
    return f"https://t.me/{bot_username}?start={CHECKIN_LINK}_{event.checkin_token}"


def _card_keyboard(event: Event) -> InlineKeyboardMarkup:
    rows: list[list[tuple[OrganiserAction, str]]] = [
        [
            (OrganiserAction.ATTENDEES, _("👥 Attendees")),
            (OrganiserAction.CSV, _("📄 CSV")),
            (OrganiserAction.QR, _("🔳 Check-in QR")),
        ],
        [
            (OrganiserAction.FEEDBACK, _("⭐ Feedback")),
            (OrganiserAction.MESSAGE, _("✉️ Message attendees")),
        ],
    ]
    if event.status is EventStatus.PUBLISHED:
        rows.append(
            [
                (OrganiserAction.EDIT, _("✏️ Edit")),
                (OrganiserAction.CAPACITY, _("🎟 Capacity")),
                (OrganiserAction.RESCHEDULE, _("📅 Reschedule")),
            ]
        )
        rows.append([(OrganiserAction.CANCEL, _("❌ Cancel event"))])
    return InlineKeyboardMarkup(
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


async def _card_text(
    session: AsyncSession, event: Event, settings: Settings, link: str, language: str
) -> str:
    counts = await status_counts(session, event.id)
    status = {
        EventStatus.PUBLISHED: _("published"),
        EventStatus.CANCELLED: _("cancelled"),
        EventStatus.COMPLETED: _("completed"),
    }[event.status]
    places = ngettext(
        "🎟 {confirmed} registered, {attended} attended, {offered} offered, {waiting} waiting; "
        "{capacity} place",
        "🎟 {confirmed} registered, {attended} attended, {offered} offered, {waiting} waiting; "
        "{capacity} places",
        event.capacity,
    ).format(
        confirmed=counts[RegistrationStatus.CONFIRMED],
        attended=counts[RegistrationStatus.ATTENDED],
        offered=counts[RegistrationStatus.OFFERED],
        waiting=counts[RegistrationStatus.WAITLISTED],
        capacity=event.capacity,
    )
    linked = await linked_list(session, LinkTarget.EVENT, event.id)
    if linked is not None:
        reading = _("📚 Reading list: {title} · take it off: /listunlink event {id}").format(
            title=escape(list_title(linked, language)), id=event.id
        )
    else:
        reading = _("📚 Put a published reading list on it: /listlink LIST_NUMBER event {id}")
        reading = reading.format(id=event.id)
    return "\n".join(
        [
            f"<b>{escape(event.display_title(language))}</b> — {status}",
            "🕒 " + time_span(event, settings.zone),
            places,
            _("✅ Check-in link: {link}").format(link=link),
            reading,
        ]
    )


async def _username(message: Message) -> str:
    assert message.bot is not None
    me = await message.bot.me()
    return me.username or ""


def qr_png(link: str) -> bytes:
    """A QR code for the link, as PNG (a few milliseconds: call it off the event loop)."""
    image = qrcode.make(link)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


async def send_card(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    event_id: int,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The organiser's card: the check-in QR code, with the details and actions as caption."""
    event = await managed_event(session, reader, roles, event_id)
    link = _checkin_link(await _username(message), event)
    text = await _card_text(session, event, settings, link, i18n.current_locale)
    await message.answer_photo(
        BufferedInputFile(
            await asyncio.to_thread(qr_png, link), filename=f"checkin-{event_id}.png"
        ),
        caption=text[:CAPTION_LIMIT],
        reply_markup=_card_keyboard(event),
    )


# --- the card's actions, one handler each ---------------------------------------------------


async def _managed(
    query: CallbackQuery,
    event_id: int,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> tuple[Event, Message] | None:
    """The event if the reader may manage it, and the card's message; else say why not."""
    try:
        event = await managed_event(session, reader, roles, event_id)
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return None
    await query.answer()
    if not isinstance(query.message, Message):
        return None
    return event, query.message


async def open_card(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The organiser's card of one event."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is not None:
        await send_card(found[1], session, reader, roles, found[0].id, settings, i18n)


def _attendee_line(person: Attendee) -> str:
    name = escape(person.reader.first_name or "—")
    if person.reader.username:
        name += f" (@{escape(person.reader.username)})"
    return f"{person.registration.position}. {name} — {status_label(person.registration.status)}"


async def _attendee_page(
    session: AsyncSession, reader: Reader, roles: RoleSet, event: Event, page: int, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the attendee list, with ☑️ buttons to mark who came."""
    _event, people = await attendees(
        session, reader, roles, event.id, limit=ATTENDEE_PAGE + 1, offset=page * ATTENDEE_PAGE
    )
    more, people = len(people) > ATTENDEE_PAGE, people[:ATTENDEE_PAGE]
    title = escape(event.display_title(language))
    lines = [_("👥 Attendees of {title}:").format(title=title)]
    lines += [_attendee_line(person) for person in people] or [_("Nobody yet.")]
    builder = InlineKeyboardBuilder()
    for person in people:
        status = person.registration.status
        if status not in (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED):
            continue
        builder.button(
            text=("☑️ " if status is RegistrationStatus.ATTENDED else "⬜ ")
            + (person.reader.first_name or "—")[:30],
            callback_data=MarkAttended(registration_id=person.registration.id),
        )
    builder.adjust(2)
    paging = page_buttons(page, more, lambda to: AttendeePage(event_id=event.id, page=to).pack())
    if paging:
        builder.row(*paging)
    return "\n".join(lines)[:MESSAGE_LIMIT], builder.as_markup()


async def show_attendees(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """The attendee list's first page, as a new message."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    text, keyboard = await _attendee_page(session, reader, roles, event, 0, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


async def turn_attendee_page(
    query: CallbackQuery,
    callback_data: AttendeePage,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """◀️ ▶️ on the attendee list."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    page = max(0, callback_data.page)
    text, keyboard = await _attendee_page(session, reader, roles, event, page, i18n.current_locale)
    await edit_message(message, text, keyboard)


async def send_csv(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Everyone registered, waiting or cancelled, as a spreadsheet."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    _event, people = await attendees(session, reader, roles, event.id)
    await message.answer_document(
        BufferedInputFile(attendee_csv(people, settings.zone), filename=f"event-{event.id}.csv"),
        caption=_("👥 Attendees of {title}").format(
            title=escape(event.display_title(i18n.current_locale))
        ),
    )


async def send_qr(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """The check-in QR code to show at the door."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    link = _checkin_link(await _username(message), event)
    await message.answer_photo(
        BufferedInputFile(
            await asyncio.to_thread(qr_png, link), filename=f"checkin-{event.id}.png"
        ),
        caption=_("Readers scan this to check in during the event: {link}").format(link=link),
    )


async def show_feedback(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Ratings per star, the average, and the latest comments."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    title = escape(event.display_title(i18n.current_locale))
    _event, summary = await feedback_summary(session, reader, roles, event.id)
    if summary.count == 0:
        await message.answer(_("No feedback yet for {title}.").format(title=title))
        return
    average = f"{summary.average:.1f}" if summary.average is not None else "—"
    lines = [
        ngettext(
            "⭐ Feedback for {title}: {count} rating, average {average}",
            "⭐ Feedback for {title}: {count} ratings, average {average}",
            summary.count,
        ).format(title=title, count=summary.count, average=average)
    ]
    lines += [f"{star}⭐ {summary.per_rating[star]}" for star in range(5, 0, -1)]
    lines += [f"💬 {escape(comment)}" for comment in summary.comments]
    await message.answer("\n".join(lines)[:MESSAGE_LIMIT])


async def show_edit_menu(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """Which field to change."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is not None:
        await found[1].answer(_("What do you want to change?"), reply_markup=edit_menu(found[0]))


def _typed_prompt(awaited: Awaited) -> str:
    if awaited is Awaited.CAPACITY:
        return _("Send the new capacity (it cannot go below the places already taken).")
    if awaited is Awaited.START:
        return sentences(_("Send the new start (alliance time)."), format_hint())
    return _("Send the message for everyone registered or waiting.")


async def _ask_typed(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    awaited: Awaited,
) -> None:
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    await state.set_state(OrganiserInput.value)
    await EventEditDraft(event_id=event.id, awaited=awaited).save(state)
    await message.answer(_typed_prompt(awaited), reply_markup=cancel_markup())


async def ask_capacity(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
) -> None:
    """Ask for the new capacity."""
    await _ask_typed(query, callback_data, session, reader, roles, state, Awaited.CAPACITY)


async def ask_new_start(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
) -> None:
    """Ask for the new start (then the new end)."""
    await _ask_typed(query, callback_data, session, reader, roles, state, Awaited.START)


async def ask_message(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
) -> None:
    """Ask for the message to everyone registered or waiting."""
    await _ask_typed(query, callback_data, session, reader, roles, state, Awaited.MESSAGE)


async def ask_to_cancel(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Cancelling tells readers: confirm first."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    confirm = OrganiserEvent(action=OrganiserAction.CONFIRM_CANCEL, event_id=event.id)
    await message.answer(
        _("Cancel {title}? Everyone registered or waiting will be told.").format(
            title=escape(event.display_title(i18n.current_locale))
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("Yes, cancel the event"), callback_data=confirm.pack()
                    )
                ]
            ]
        ),
    )


async def confirm_cancel(
    query: CallbackQuery,
    callback_data: OrganiserEvent,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Cancel the event; everyone registered or waiting is told."""
    found = await _managed(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    title = escape(event.display_title(i18n.current_locale))
    try:
        notified = await cancel_event(session, reader, roles, event.id, now=utcnow())
    except DomainError:
        await message.answer(_("This event cannot be cancelled any more."))
        return
    await edit_message(
        message,
        _("❌ {title} is cancelled. Readers being told: {count}.").format(
            title=title, count=notified
        ),
    )


def build_router() -> Router:
    """A fresh router with /myevents and one handler per action of the card."""
    router = Router(name=__name__)
    router.message.register(my_organised_events, Command("myevents"))
    router.callback_query.register(turn_events_page, OrganiserList.filter())
    router.callback_query.register(turn_attendee_page, AttendeePage.filter())
    actions = (
        (open_card, OrganiserAction.OPEN),
        (show_attendees, OrganiserAction.ATTENDEES),
        (send_csv, OrganiserAction.CSV),
        (send_qr, OrganiserAction.QR),
        (show_feedback, OrganiserAction.FEEDBACK),
        (show_edit_menu, OrganiserAction.EDIT),
        (ask_capacity, OrganiserAction.CAPACITY),
        (ask_new_start, OrganiserAction.RESCHEDULE),
        (ask_message, OrganiserAction.MESSAGE),
        (ask_to_cancel, OrganiserAction.CANCEL),
        (confirm_cancel, OrganiserAction.CONFIRM_CANCEL),
    )
    for handler, action in actions:
        router.callback_query.register(handler, OrganiserEvent.filter(F.action == action))
    return router
