"""/newcampaign, first steps: the texts, then the event or reading list the button opens."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Event, Role, utcnow
from bot.notices.campaigns import listing, short_moment
from bot.notices.registry import Context
from bot.services.campaigns import inputs
from bot.services.errors import InvalidInputError
from handlers.campaigns.audience import ask_audience
from handlers.campaigns.draft import (
    CampaignDraft,
    CampaignStep,
    CampaignWizard,
    Step,
    markup,
    message_of,
    page_row,
    stale,
    step_button,
    whole_number,
)
from handlers.common import edit_message
from handlers.filters import HasRole

EVENT_LABEL_LENGTH = 60


async def start_wizard(message: Message, state: FSMContext) -> None:
    """Step 1: the Chinese text."""
    await state.clear()
    await CampaignDraft().save(state)
    await state.set_state(CampaignWizard.text_zh)
    await message.answer(
        _(
            "New campaign. Send the message in Chinese (bold, italic and links are kept). "
            "Readers get it with a button that opens the linked event or reading list."
        ),
        reply_markup=markup(),
    )


def _text_of(message: Message) -> str | None:
    if not message.text:
        return None
    try:
        inputs.check_text(message.html_text, len(message.text))
    except InvalidInputError:
        return None
    return message.html_text


async def bad_text(message: Message) -> None:
    """A text step got something that is not one message of text, or too long."""
    await message.answer(
        _("Please send the text as one message of at most {limit} characters.").format(
            limit=inputs.PLAIN_TEXT_LIMIT
        )
    )


async def text_zh(message: Message, state: FSMContext) -> None:
    """The Chinese text, then the English one."""
    draft = await CampaignDraft.load(state)
    html_text = _text_of(message)
    if html_text is None:
        await bad_text(message)
        return
    draft.text_zh = html_text
    await draft.save(state)
    await state.set_state(CampaignWizard.text_en)
    await message.answer(_("Now the same message in English."), reply_markup=markup())


async def text_en(message: Message, state: FSMContext) -> None:
    """The English text, then what to link."""
    draft = await CampaignDraft.load(state)
    html_text = _text_of(message)
    if html_text is None:
        await bad_text(message)
        return
    draft.text_en = html_text
    await draft.save(state)
    await state.set_state(CampaignWizard.link)
    await message.answer(
        _("Link an event or a reading list to the campaign's button?"),
        reply_markup=markup(
            [
                step_button(_("📅 An event"), Step.LINK, "event"),
                step_button(_("📚 A reading list"), Step.LINK, "list"),
            ],
            [step_button(_("Nothing"), Step.LINK, "none")],
        ),
    )


def _event_label(event: Event, ctx: Context) -> str:
    return f"{short_moment(event.starts_at, ctx)} {event.title}"[:EVENT_LABEL_LENGTH]


async def _show_events(
    query: CallbackQuery,
    message: Message,
    page: int,
    session: AsyncSession,
    ctx: Context,
) -> bool:
    """A page of the events to link; False (and an alert) when there is none."""
    events = await inputs.upcoming_events(session, utcnow(), page)
    if not events.events:
        await query.answer(_("There is no upcoming event to link."), show_alert=True)
        return False
    rows: list[list[InlineKeyboardButton]] = [
        [step_button(_event_label(event, ctx), Step.EVENT, str(event.id))]
        for event in events.events
    ]
    paging = page_row(Step.EVENT_PAGE, events.page, events.pages)
    await query.answer()
    await edit_message(message, _("Which event?"), markup(*rows, *([paging] if paging else [])))
    return True


async def link_choice(
    query: CallbackQuery,
    callback_data: CampaignStep,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """An event, a reading list, or nothing."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    if message is None or callback_data.value not in {"none", "list", "event"}:
        await stale(query)
        return
    if callback_data.value == "event":
        ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
        if await _show_events(query, message, 0, session, ctx):
            await state.set_state(CampaignWizard.event)
        return
    await query.answer()
    if callback_data.value == "list":
        await state.set_state(CampaignWizard.reading_list)
        await edit_message(
            message,
            _("Send the ISBNs of the reading list (at most {limit}), separated by spaces.").format(
                limit=inputs.READING_LIST_LIMIT
            ),
            markup(),
        )
        return
    draft.event_id, draft.work_ids = None, []
    await draft.save(state)
    await edit_message(message, _("No event or reading list linked."))
    await ask_audience(message, state)


async def event_page(
    query: CallbackQuery,
    callback_data: CampaignStep,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Another page of upcoming events."""
    message = message_of(query)
    page = whole_number(callback_data.value)
    if message is None or page is None:
        await stale(query)
        return
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    await _show_events(query, message, page, session, ctx)


async def event_choice(
    query: CallbackQuery, callback_data: CampaignStep, state: FSMContext, session: AsyncSession
) -> None:
    """The event the campaign's button opens."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    event_id = whole_number(callback_data.value)
    event = await inputs.linkable_event(session, event_id, utcnow()) if event_id else None
    if message is None or event is None:
        await query.answer(_("That event is not open any more."), show_alert=True)
        return
    draft.event_id, draft.work_ids = event.id, []
    await draft.save(state)
    await query.answer()
    await edit_message(message, _("Linked event: {title}.").format(title=escape(event.title)))
    await ask_audience(message, state)


async def reading_list(
    message: Message, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    """The ISBNs of the reading list: all must be in the catalogue."""
    draft = await CampaignDraft.load(state)
    language = i18n.current_locale
    try:
        found = await inputs.reading_list(session, message.text or "")
    except InvalidInputError:
        await message.answer(
            _("Please send between 1 and {limit} ISBNs, separated by spaces.").format(
                limit=inputs.READING_LIST_LIMIT
            )
        )
        return
    if found.unknown:
        await message.answer(
            _(
                "These are not ISBNs of works in the catalogue: {isbns}. Send the whole list again."
            ).format(isbns=escape(", ".join(found.unknown)))
        )
        return
    draft.event_id, draft.work_ids = None, [work.id for work in found.works]
    await draft.save(state)
    await message.answer(
        _("Reading list: {titles}.").format(
            titles=escape(listing((work.title for work in found.works), language))
        )
    )
    await ask_audience(message, state)


def build_router() -> Router:
    """The wizard's texts and links (admins only)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.callback_query.filter(HasRole(Role.ADMIN))
    router.message.register(start_wizard, Command("newcampaign"))
    typed = (F.text, ~F.text.startswith("/"))
    router.message.register(text_zh, StateFilter(CampaignWizard.text_zh), *typed)
    router.message.register(text_en, StateFilter(CampaignWizard.text_en), *typed)
    router.message.register(reading_list, StateFilter(CampaignWizard.reading_list), *typed)
    router.message.register(
        bad_text, StateFilter(CampaignWizard.text_zh, CampaignWizard.text_en), ~F.text
    )
    step = CampaignStep.filter
    router.callback_query.register(
        link_choice, step(F.step == Step.LINK), StateFilter(CampaignWizard.link)
    )
    router.callback_query.register(
        event_page, step(F.step == Step.EVENT_PAGE), StateFilter(CampaignWizard.event)
    )
    router.callback_query.register(
        event_choice, step(F.step == Step.EVENT), StateFilter(CampaignWizard.event)
    )
    return router
