"""The /newevent wizard's typed steps: titles, description, times, place, capacity, partners.

The answers live in a ``NewEventDraft`` until Publish: an abandoned wizard stores nothing.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import EventCategory, EventRecurrence, utcnow
from bot.services.errors import InvalidInputError
from bot.services.events import drafts
from bot.services.events.times import parse_end, parse_local
from handlers.common import sentences
from handlers.events.labels import category_label
from handlers.organiser_events.callbacks import WizardStep
from handlers.organiser_events.forms import NewEvent, NewEventDraft, OrganiserInput
from handlers.organiser_events.keyboards import (
    cancel_markup,
    choices,
    format_hint,
    venue_keyboard,
)
from handlers.wizard_exit import cancel_hint


async def start_wizard(message: Message, state: FSMContext) -> None:
    """/newevent: the title first."""
    await state.clear()
    await NewEventDraft().save(state)
    await state.set_state(NewEvent.title)
    await message.answer(
        sentences(_("🆕 New event. What is its title? (up to 200 characters)"), cancel_hint()),
        reply_markup=cancel_markup(),
    )


async def ask_description(message: Message, state: FSMContext) -> None:
    """The step after the titles."""
    await state.set_state(NewEvent.description)
    await message.answer(
        _("Describe the event for readers (up to 2000 characters)."),
        reply_markup=cancel_markup(),
    )


async def wizard_title(message: Message, state: FSMContext) -> None:
    """The title; a Chinese one is followed by an optional English title."""
    draft = await NewEventDraft.load(state)
    try:
        title = drafts.check_title(message.text or "")
    except InvalidInputError:
        await message.answer(_("A title must be 1 to 200 characters. Please send it again."))
        return
    # "中文 / English" typed in one go already gives both.
    draft.title, draft.title_en = drafts.split_bilingual(title)
    await draft.save(state)
    if draft.title_en is not None or not drafts.has_chinese(title):
        await ask_description(message, state)
        return
    await state.set_state(NewEvent.title_en)
    await message.answer(
        _(
            "Optional: the title in English, for readers who use the bot in English "
            "(up to 200 characters). Or tap Skip."
        ),
        reply_markup=choices(WizardStep.TITLE_EN, [("skip", _("Skip"))]),
    )


async def wizard_title_en(message: Message, state: FSMContext) -> None:
    """The optional English title."""
    draft = await NewEventDraft.load(state)
    try:
        draft.title_en = drafts.check_title(message.text or "")
    except InvalidInputError:
        await message.answer(_("A title must be 1 to 200 characters. Please send it again."))
        return
    await draft.save(state)
    await ask_description(message, state)


async def wizard_description(message: Message, state: FSMContext) -> None:
    """The description."""
    draft = await NewEventDraft.load(state)
    try:
        draft.description = drafts.check_description(message.text or "")
    except InvalidInputError:
        await message.answer(
            _(
                "A description must be 1 to 2000 characters; yours has {count}. "
                "Please send a shorter one."
            ).format(count=len((message.text or "").strip()))
        )
        return
    await draft.save(state)
    await state.set_state(NewEvent.category)
    await message.answer(
        _("What kind of event is it?"),
        reply_markup=choices(
            WizardStep.CATEGORY,
            [(category.value, category_label(category)) for category in EventCategory],
        ),
    )


async def wizard_starts(message: Message, state: FSMContext, settings: Settings) -> None:
    """The start, in the future."""
    draft = await NewEventDraft.load(state)
    try:
        draft.starts_at = parse_local(message.text or "", settings.zone, now=utcnow())
    except InvalidInputError as error:
        if str(error) == "past":
            await message.answer(_("That time has already passed. Please give a future time."))
        elif str(error) == "too far":
            await message.answer(_("Events can be planned up to two years ahead."))
        else:
            await message.answer(sentences(_("I could not read that date."), format_hint()))
        return
    await draft.save(state)
    await state.set_state(NewEvent.ends)
    await message.answer(
        _("When does it end? Send HH:MM for the same day, or YYYY-MM-DD HH:MM."),
        reply_markup=cancel_markup(),
    )


async def end_refused(message: Message, error: InvalidInputError) -> None:
    """Why a typed end is refused."""
    if str(error) == "before start":
        await message.answer(_("The end must come after the start. Please send it again."))
    elif str(error) == "too long":
        await message.answer(_("An event can last at most 14 days."))
    else:
        await message.answer(_("I could not read that time. Send HH:MM or YYYY-MM-DD HH:MM."))


async def wizard_ends(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The end, after the start; then the venue."""
    draft = await NewEventDraft.load(state)
    try:
        draft.ends_at = parse_end(message.text or "", draft.start(), settings.zone)
    except InvalidInputError as error:
        await end_refused(message, error)
        return
    await draft.save(state)
    await state.set_state(NewEvent.venue)
    await message.answer(
        _("Where is it? Choose a member library, or another place."),
        reply_markup=await venue_keyboard(session, i18n.current_locale, page=0),
    )


async def wizard_place_name(message: Message, state: FSMContext) -> None:
    """A named place; its location next."""
    draft = await NewEventDraft.load(state)
    try:
        draft.place_name = drafts.check_place_name(message.text or "")
    except InvalidInputError:
        await message.answer(_("A place name must be 1 to 200 characters."))
        return
    draft.library_id = None
    await draft.save(state)
    await state.set_state(NewEvent.place_location)
    await message.answer(
        _("Now send the place's location (📎 → Location)."), reply_markup=cancel_markup()
    )


async def wizard_place_location(message: Message, state: FSMContext) -> None:
    """The named place's location."""
    if message.location is None:
        await message.answer(_("Please send a location (📎 → Location), not text."))
        return
    draft = await NewEventDraft.load(state)
    draft.latitude, draft.longitude = message.location.latitude, message.location.longitude
    await draft.save(state)
    await ask_capacity(message, state)


async def ask_capacity(message: Message, state: FSMContext) -> None:
    """The step after the venue."""
    await state.set_state(NewEvent.capacity)
    await message.answer(
        _("How many places are there? (a whole number, at least 1)"),
        reply_markup=cancel_markup(),
    )


async def wizard_capacity(message: Message, state: FSMContext) -> None:
    """The capacity, at least 1."""
    draft = await NewEventDraft.load(state)
    try:
        draft.capacity = drafts.check_capacity(message.text or "")
    except InvalidInputError:
        await message.answer(
            _("The capacity must be a whole number from 1 to {maximum}.").format(
                maximum=f"{drafts.CAPACITY_MAX:,}"
            )
        )
        return
    await draft.save(state)
    await state.set_state(NewEvent.partners)
    await message.answer(
        _("Partner organisations? Send them separated by commas, or tap Skip."),
        reply_markup=choices(WizardStep.PARTNERS, [("none", _("Skip"))]),
    )


async def wizard_partners(message: Message, state: FSMContext) -> None:
    """Partner organisations."""
    draft = await NewEventDraft.load(state)
    try:
        draft.partners = list(drafts.check_partners(message.text or ""))
    except InvalidInputError:
        await message.answer(
            _("Up to 10 partners, each up to 100 characters, separated by commas.")
        )
        return
    await draft.save(state)
    await ask_repeat(message, state)


async def ask_repeat(message: Message, state: FSMContext) -> None:
    """One-off or a series."""
    await state.set_state(NewEvent.repeat)
    await message.answer(
        _("Is it a one-off, or a series?"),
        reply_markup=choices(
            WizardStep.REPEAT,
            [
                ("once", _("Once")),
                (EventRecurrence.WEEKLY.value, _("Weekly")),
                (EventRecurrence.MONTHLY.value, _("Monthly")),
            ],
        ),
    )


async def cancel_text(message: Message, state: FSMContext) -> None:
    """/cancel inside the wizard or an edit."""
    await state.clear()
    await message.answer(_("Cancelled. Nothing was saved."))


def build_router() -> Router:
    """A fresh router with the wizard's typed steps."""
    router = Router(name=__name__)
    router.message.register(start_wizard, Command("newevent"))
    router.message.register(cancel_text, StateFilter(NewEvent, OrganiserInput), Command("cancel"))
    text = F.text & ~F.text.startswith("/")
    steps = (
        (wizard_title, NewEvent.title),
        (wizard_title_en, NewEvent.title_en),
        (wizard_description, NewEvent.description),
        (wizard_starts, NewEvent.starts),
        (wizard_ends, NewEvent.ends),
        (wizard_place_name, NewEvent.place_name),
        (wizard_capacity, NewEvent.capacity),
        (wizard_partners, NewEvent.partners),
    )
    for handler, step in steps:
        router.message.register(handler, step, text)
    router.message.register(wizard_place_location, NewEvent.place_location)
    return router
