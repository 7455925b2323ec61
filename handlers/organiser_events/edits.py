"""Changing a published event: typed fields, category and audience, capacity, a new time,
a message to attendees, and marking who came."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Event, EventAudience, EventCategory, Reader, RegistrationStatus, utcnow
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.attendees import mark_attendance, message_attendees
from bot.services.events.drafts import CAPACITY_MAX, check_capacity
from bot.services.events.organising import EditField, edit_event, reschedule, set_capacity
from bot.services.events.organising import set_choice as set_event_choice
from bot.services.events.records import managed_event
from bot.services.events.registration import WaitlistRules
from bot.services.events.times import local_time, parse_end, parse_local
from bot.services.roles import RoleSet
from handlers.common import edit_message, sentences
from handlers.events.labels import audience_label, category_label
from handlers.organiser_events.callbacks import (
    ChoiceField,
    MarkAttended,
    OrganiserEdit,
    OrganiserSet,
)
from handlers.organiser_events.forms import Awaited, EventEditDraft, OrganiserInput
from handlers.organiser_events.keyboards import cancel_markup, format_hint
from handlers.organiser_events.wizard import end_refused

CATEGORY = "category"
AUDIENCE = "audience"


def edit_menu(event: Event) -> InlineKeyboardMarkup:
    """The fields an organiser can change, two per row."""
    builder = InlineKeyboardBuilder()
    for field, label in (
        (EditField.TITLE.value, _("Title")),
        (EditField.TITLE_EN.value, _("English title")),
        (EditField.DESCRIPTION.value, _("Description")),
        (CATEGORY, _("Category")),
        (AUDIENCE, _("Audience")),
        (EditField.PARTNERS.value, _("Partners")),
        (EditField.PLACE.value, _("Place name")),
        (EditField.PLACE_EN.value, _("English place name")),
        (EditField.OPENS.value, _("Registration opens")),
        (EditField.CLOSES.value, _("Registration closes")),
    ):
        builder.button(text=label, callback_data=OrganiserEdit(event_id=event.id, field=field))
    builder.adjust(2)
    return builder.as_markup()


def _edit_hint(field: EditField) -> str:
    hints = {
        EditField.TITLE: _("Send the new title (up to 200 characters)."),
        EditField.TITLE_EN: _("Send the English title (up to 200 characters), or - for none."),
        EditField.DESCRIPTION: _("Send the new description (up to 2000 characters)."),
        EditField.PARTNERS: _("Send the partners separated by commas, or - for none."),
        EditField.PLACE: _("Send the new place name."),
        EditField.PLACE_EN: _("Send the place name in English, or - for none."),
        EditField.OPENS: sentences(
            _("Send when registration opens, or - for at once."), format_hint()
        ),
        EditField.CLOSES: sentences(
            _("Send when registration closes, or - for at the start."), format_hint()
        ),
    }
    return hints[field]


async def _own_event(
    query: CallbackQuery, event_id: int, session: AsyncSession, reader: Reader, roles: RoleSet
) -> tuple[Event, Message] | None:
    try:
        event = await managed_event(session, reader, roles, event_id)
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return None
    await query.answer()
    if not isinstance(query.message, Message):
        return None
    return event, query.message


async def choose_category(
    query: CallbackQuery,
    callback_data: OrganiserEdit,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """The kinds of event to choose from."""
    found = await _own_event(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    builder = InlineKeyboardBuilder()
    for category in EventCategory:
        builder.button(
            text=category_label(category),
            callback_data=OrganiserSet(
                event_id=found[0].id, field=ChoiceField.CATEGORY, value=category.value
            ),
        )
    builder.adjust(2)
    await found[1].answer(_("Choose:"), reply_markup=builder.as_markup())


async def choose_audience(
    query: CallbackQuery,
    callback_data: OrganiserEdit,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """The audiences to choose from."""
    found = await _own_event(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    builder = InlineKeyboardBuilder()
    for audience in EventAudience:
        builder.button(
            text=audience_label(audience),
            callback_data=OrganiserSet(
                event_id=found[0].id, field=ChoiceField.AUDIENCE, value=audience.value
            ),
        )
    builder.adjust(2)
    await found[1].answer(_("Choose:"), reply_markup=builder.as_markup())


async def ask_field(
    query: CallbackQuery,
    callback_data: OrganiserEdit,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
) -> None:
    """A field changed by typing: ask for the new value."""
    found = await _own_event(query, callback_data.event_id, session, reader, roles)
    if found is None:
        return
    event, message = found
    try:
        field = EditField(callback_data.field)
    except ValueError:
        await message.answer(_("That button is out of date."))
        return
    await state.set_state(OrganiserInput.value)
    await EventEditDraft(event_id=event.id, awaited=Awaited.EDIT, edit=field).save(state)
    await message.answer(_edit_hint(field), reply_markup=cancel_markup())


async def _set_choice(
    query: CallbackQuery,
    callback_data: OrganiserSet,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    try:
        if callback_data.field is ChoiceField.CATEGORY:
            category = EventCategory(callback_data.value)
            event = await set_event_choice(
                session, reader, roles, callback_data.event_id, category=category
            )
        else:
            audience = EventAudience(callback_data.value)
            event = await set_event_choice(
                session, reader, roles, callback_data.event_id, audience=audience
            )
    except (NotFoundError, NotAllowedError):
        await query.answer(_("You can only manage your own events."), show_alert=True)
        return
    except ValueError:
        await query.answer(_("That button is out of date."), show_alert=True)
        return
    await query.answer(_("Saved."))
    title = event.display_title(i18n.current_locale)
    await edit_message(query.message, _("Saved: {title}.").format(title=escape(title)))


async def set_category(
    query: CallbackQuery,
    callback_data: OrganiserSet,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Set the category."""
    await _set_choice(query, callback_data, session, reader, roles, i18n)


async def set_audience(
    query: CallbackQuery,
    callback_data: OrganiserSet,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    i18n: I18n,
) -> None:
    """Set the audience."""
    await _set_choice(query, callback_data, session, reader, roles, i18n)


def _invalid_value(awaited: Awaited, reason: str) -> str:
    if reason == "past":
        return _("That time has already passed. Please give a future time.")
    if reason == "format":
        return sentences(_("I could not read that date."), format_hint())
    if reason == "after start":
        return _("Registration cannot open or close after the event starts.")
    if reason == "window":
        return _("Registration must open before it closes.")
    if awaited is Awaited.CAPACITY:
        return _(
            "The capacity must be a whole number from 1 to {maximum}, and not below the "
            "places already taken."
        ).format(maximum=f"{CAPACITY_MAX:,}")
    if awaited is Awaited.MESSAGE:
        return _("The message must be 1 to 3500 characters.")
    return _("That value is not valid; please check its length and send it again.")


async def typed_value(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    settings: Settings,
) -> None:
    """A typed value: an edit, the capacity, a new start, or a message to attendees."""
    draft = await EventEditDraft.load(state)
    text, now = message.text or "", utcnow()
    try:
        if draft.awaited is Awaited.START:
            draft.starts_at = parse_local(text, settings.zone, now=now)
            await draft.save(state)
            await state.set_state(OrganiserInput.reschedule_end)
            await message.answer(
                _("When does it end? Send HH:MM for the same day, or YYYY-MM-DD HH:MM."),
                reply_markup=cancel_markup(),
            )
            return
        reply = await _apply_typed(message, draft, session, reader, roles, settings)
    except (NotFoundError, NotAllowedError):
        await state.clear()
        await message.answer(_("You can only manage your own events."))
        return
    except InvalidInputError as error:
        await message.answer(_invalid_value(draft.awaited, str(error)))
        return
    await state.clear()
    await message.answer(reply)


async def _apply_typed(
    message: Message,
    draft: EventEditDraft,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
) -> str:
    """Store a typed capacity, message or field; the reply that says so."""
    text, now = message.text or "", utcnow()
    if draft.awaited is Awaited.CAPACITY:
        capacity = check_capacity(text)
        rules = WaitlistRules.for_alliance(settings)
        await set_capacity(session, reader, roles, draft.event_id, capacity, now=now, rules=rules)
        return _("Capacity saved: {capacity}.").format(capacity=capacity)
    if draft.awaited is Awaited.MESSAGE:
        queued = await message_attendees(
            session,
            reader,
            roles,
            draft.event_id,
            message.html_text if message.text else "",
            len(text),
            draft_key=f"{message.chat.id}-{message.message_id}",
            now=now,
        )
        return _("✉️ Your message is on its way. Recipients: {count}.").format(count=queued)
    if draft.edit is None:
        raise InvalidInputError("field")
    await edit_event(
        session, reader, roles, draft.event_id, draft.edit, text, now=now, zone=settings.zone
    )
    return _("Saved.")


async def reschedule_end(
    message: Message,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    state: FSMContext,
    settings: Settings,
) -> None:
    """The new end; then everyone is told, with the new .ics."""
    draft = await EventEditDraft.load(state)
    starts = draft.start()
    try:
        ends = parse_end(message.text or "", starts, settings.zone)
        notified = await reschedule(
            session, reader, roles, draft.event_id, starts, ends, now=utcnow()
        )
    except (NotFoundError, NotAllowedError):
        await state.clear()
        await message.answer(_("You can only manage your own events."))
        return
    except InvalidInputError as error:
        await end_refused(message, error)
        return
    await state.clear()
    await message.answer(
        _("📅 Rescheduled to {starts}. Readers getting the new calendar file: {count}.").format(
            starts=local_time(starts, settings.zone), count=notified
        )
    )


async def toggle_attended(
    query: CallbackQuery,
    callback_data: MarkAttended,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
) -> None:
    """Toggle attended from the attendee list."""
    try:
        registration = await mark_attendance(
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


def build_router() -> Router:
    """A fresh router with the edits' handlers."""
    router = Router(name=__name__)
    router.callback_query.register(choose_category, OrganiserEdit.filter(F.field == CATEGORY))
    router.callback_query.register(choose_audience, OrganiserEdit.filter(F.field == AUDIENCE))
    router.callback_query.register(ask_field, OrganiserEdit.filter())
    router.callback_query.register(
        set_category, OrganiserSet.filter(F.field == ChoiceField.CATEGORY)
    )
    router.callback_query.register(
        set_audience, OrganiserSet.filter(F.field == ChoiceField.AUDIENCE)
    )
    router.callback_query.register(toggle_attended, MarkAttended.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(typed_value, OrganiserInput.value, text)
    router.message.register(reschedule_end, OrganiserInput.reschedule_end, text)
    return router
