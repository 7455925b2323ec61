"""The /newevent wizard's buttons, one handler per step, then the preview and Publish.

A button only works in its own step: from another step (an old message, or forged) it is
out of date. Each handler reads the draft before answering, so an expired form is said once.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import EventAudience, EventCategory, EventRecurrence, Reader, utcnow
from bot.services import directory
from bot.services.errors import InvalidInputError
from bot.services.events.drafts import SERIES_MAX, EventDraft
from bot.services.events.organising import publish
from bot.services.events.times import session_starts, span_text
from bot.services.roles import RoleSet
from handlers.common import edit_message, replace_buttons
from handlers.events.labels import audience_label, category_label, joined
from handlers.organiser_events.callbacks import WizardPick, WizardStep
from handlers.organiser_events.forms import NewEvent, NewEventDraft
from handlers.organiser_events.keyboards import (
    ANOTHER_PLACE,
    cancel_button,
    cancel_markup,
    choices,
    format_hint,
    venue_keyboard,
)
from handlers.organiser_events.manage import send_card
from handlers.organiser_events.wizard import ask_capacity, ask_description, ask_repeat

ONCE = "once"


async def _answered(query: CallbackQuery) -> Message | None:
    """Answer the button; the wizard's message, if Telegram still shows it."""
    await query.answer()
    return query.message if isinstance(query.message, Message) else None


async def _no_longer_valid(message: Message, state: FSMContext) -> None:
    await message.answer(
        _(
            "Something in this event is no longer valid (perhaps the start has passed). "
            "Please start again with /newevent."
        )
    )
    await state.clear()


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    """✖️ Cancel, from any step (or an edit)."""
    await state.clear()
    await query.answer()
    await edit_message(query.message, _("Cancelled. Nothing was saved."))


async def out_of_date(query: CallbackQuery) -> None:
    """A button of another step than the current one."""
    await query.answer(_("That button is out of date."), show_alert=True)


async def skip_title_en(query: CallbackQuery, state: FSMContext) -> None:
    """No English title."""
    await NewEventDraft.load(state)
    message = await _answered(query)
    if message is not None:
        await ask_description(message, state)


async def pick_category(query: CallbackQuery, callback_data: WizardPick, state: FSMContext) -> None:
    """The kind of event; then the audience."""
    draft = await NewEventDraft.load(state)
    message = await _answered(query)
    if message is None:
        return
    try:
        draft.category = EventCategory(callback_data.value)
    except ValueError:
        await _no_longer_valid(message, state)
        return
    await draft.save(state)
    await state.set_state(NewEvent.audience)
    options = [(audience.value, audience_label(audience)) for audience in EventAudience]
    await edit_message(message, _("Who is it for?"), choices(WizardStep.AUDIENCE, options))


async def pick_audience(
    query: CallbackQuery, callback_data: WizardPick, state: FSMContext, settings: Settings
) -> None:
    """The audience; then the start."""
    draft = await NewEventDraft.load(state)
    message = await _answered(query)
    if message is None:
        return
    try:
        draft.audience = EventAudience(callback_data.value)
    except ValueError:
        await _no_longer_valid(message, state)
        return
    await draft.save(state)
    await state.set_state(NewEvent.starts)
    await edit_message(
        message,
        _("When does it start (alliance time, {zone})?").format(zone=settings.timezone)
        + " "
        + format_hint(),
        cancel_markup(),
    )


async def pick_venue(
    query: CallbackQuery, callback_data: WizardPick, state: FSMContext, session: AsyncSession
) -> None:
    """A member library (then the capacity), or another place (then its name)."""
    draft = await NewEventDraft.load(state)
    message = await _answered(query)
    if message is None:
        return
    if callback_data.value == ANOTHER_PLACE:
        await state.set_state(NewEvent.place_name)
        await edit_message(message, _("What is the place called?"), cancel_markup())
        return
    value = callback_data.value
    library = await directory.library(session, int(value)) if value.isdigit() else None
    if library is None:
        await _no_longer_valid(message, state)
        return
    draft.library_id, draft.place_name = library.id, None
    await draft.save(state)
    await ask_capacity(message, state)


async def turn_venues(
    query: CallbackQuery, callback_data: WizardPick, session: AsyncSession, i18n: I18n
) -> None:
    """Another page of member libraries."""
    message = await _answered(query)
    page = int(callback_data.value) if callback_data.value.isdigit() else 0
    keyboard = await venue_keyboard(session, i18n.current_locale, page=page)
    await replace_buttons(message, keyboard)


async def skip_partners(query: CallbackQuery, state: FSMContext) -> None:
    """No partners."""
    draft = await NewEventDraft.load(state)
    draft.partners = []
    await draft.save(state)
    message = await _answered(query)
    if message is not None:
        await ask_repeat(message, state)


async def pick_repeat(
    query: CallbackQuery,
    callback_data: WizardPick,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Once (then the preview), or weekly or monthly (then how many sessions)."""
    draft = await NewEventDraft.load(state)
    if callback_data.value == ONCE:
        draft.recurrence, draft.sessions = None, 1
        event = draft.event_draft()
        await draft.save(state)
        message = await _answered(query)
        if message is not None:
            await show_preview(message, state, event, session, settings, i18n)
        return
    message = await _answered(query)
    if message is None:
        return
    try:
        draft.recurrence = EventRecurrence(callback_data.value)
    except ValueError:
        await _no_longer_valid(message, state)
        return
    await draft.save(state)
    await state.set_state(NewEvent.sessions)
    await edit_message(
        message,
        _("How many sessions in all? (2 to {most})").format(most=SERIES_MAX),
        cancel_markup(),
    )


async def wizard_sessions(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """How many sessions the series has; then the preview."""
    draft = await NewEventDraft.load(state)
    text = (message.text or "").strip()
    if not text.isdigit() or not 2 <= int(text) <= SERIES_MAX:
        await message.answer(_("Please send a number from 2 to {most}.").format(most=SERIES_MAX))
        return
    draft.sessions = int(text)
    event = draft.event_draft()
    await draft.save(state)
    await show_preview(message, state, event, session, settings, i18n)


async def _venue_text(session: AsyncSession, draft: EventDraft, language: str) -> str:
    if draft.venue.library_id is not None:
        library = await directory.library(session, draft.venue.library_id)
        if library is not None:
            return library.display_name(language)
    return draft.venue.place_name or ""


async def show_preview(
    message: Message,
    state: FSMContext,
    draft: EventDraft,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The event as readers will see it, with Publish and Cancel."""
    language = i18n.current_locale
    await state.set_state(NewEvent.preview)
    # Each session as the event card will show it.
    length = draft.ends_at - draft.starts_at
    spans = [
        span_text(moment, moment + length, settings.zone)
        for moment in session_starts(
            draft.starts_at, draft.recurrence, draft.sessions, settings.zone
        )
    ]
    lines = [_("👀 Preview — check it, then publish."), "", f"<b>{escape(draft.title)}</b>"]
    if draft.title_en:
        lines.append(f"<i>{escape(draft.title_en)}</i>")
    lines += [
        f"{category_label(draft.category)} · {audience_label(draft.audience)}",
        "🕒 " + joined(spans, language),
        "📍 " + escape(await _venue_text(session, draft, language)),
        ngettext("🎟 {capacity} place", "🎟 {capacity} places", draft.capacity).format(
            capacity=draft.capacity
        ),
    ]
    if draft.partners:
        lines.append(
            _("🤝 Partners: {names}").format(names=escape(joined(draft.partners, language)))
        )
    lines += ["", escape(draft.description)]
    publish_button = InlineKeyboardButton(
        text=_("✅ Publish"), callback_data=WizardPick(step=WizardStep.PUBLISH).pack()
    )
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[publish_button, cancel_button()]])
    await message.answer("\n".join(lines)[:4000], reply_markup=keyboard)


async def publish_event(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Publish: every session stored and audited; the organiser's card follows."""
    draft = (await NewEventDraft.load(state)).event_draft()
    message = await _answered(query)
    if message is None:
        return
    try:
        published = await publish(session, reader, draft, now=utcnow(), zone=settings.zone)
    except InvalidInputError:
        await _no_longer_valid(message, state)
        return
    await state.clear()
    title = escape(published[0].display_title(i18n.current_locale))
    if len(published) > 1:
        text = _("✅ Published: {title} ({count} sessions).").format(
            title=title, count=len(published)
        )
    else:
        text = _("✅ Published: {title}.").format(title=title)
    await edit_message(message, text)
    await send_card(message, session, reader, roles, published[0].id, settings, i18n)


def build_router() -> Router:
    """A fresh router with one handler per wizard step's button, in that step only."""
    router = Router(name=__name__)
    router.callback_query.register(cancel, WizardPick.filter(F.step == WizardStep.CANCEL))
    steps = (
        (skip_title_en, WizardStep.TITLE_EN, NewEvent.title_en),
        (pick_category, WizardStep.CATEGORY, NewEvent.category),
        (pick_audience, WizardStep.AUDIENCE, NewEvent.audience),
        (pick_venue, WizardStep.VENUE, NewEvent.venue),
        (turn_venues, WizardStep.VENUES, NewEvent.venue),
        (skip_partners, WizardStep.PARTNERS, NewEvent.partners),
        (pick_repeat, WizardStep.REPEAT, NewEvent.repeat),
        (publish_event, WizardStep.PUBLISH, NewEvent.preview),
    )
    for handler, step, state in steps:
        router.callback_query.register(handler, WizardPick.filter(F.step == step), state)
    router.callback_query.register(out_of_date, WizardPick.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(wizard_sessions, NewEvent.sessions, text)
    return router
