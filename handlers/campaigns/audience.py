"""/newcampaign, the audience: under-reached districts, chosen districts, interests or an age."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AgeGroup, Role
from bot.notices.campaigns import listing
from bot.services import directory, readers
from bot.services.campaigns import inputs
from bot.services.campaigns.targeting import AudienceKind
from bot.services.errors import InvalidInputError
from handlers.campaigns.draft import (
    CampaignDraft,
    CampaignStep,
    CampaignWizard,
    Step,
    age_label,
    cancel_row,
    markup,
    message_of,
    page_row,
    stale,
    step_button,
    whole_number,
)
from handlers.campaigns.launch import ask_schedule
from handlers.common import edit_message
from handlers.filters import HasRole
from handlers.keyboards import district_label

DISTRICTS_PER_PAGE = 10


async def ask_audience(message: Message, state: FSMContext) -> None:
    """Who is the campaign for?"""
    await state.set_state(CampaignWizard.audience)
    await message.answer(
        _("Who is the campaign for?"),
        reply_markup=markup(
            [
                step_button(
                    _("⚠️ The under-reached districts"), Step.AUDIENCE, AudienceKind.UNDER_REACHED
                )
            ],
            [step_button(_("🏘 Districts I choose"), Step.AUDIENCE, AudienceKind.DISTRICTS)],
            [
                step_button(_("💡 Interests"), Step.AUDIENCE, AudienceKind.INTERESTS),
                step_button(_("👥 An age group"), Step.AUDIENCE, AudienceKind.AGE_GROUP),
            ],
        ),
    )


async def _districts_markup(
    session: AsyncSession, draft: CampaignDraft, language: str
) -> InlineKeyboardMarkup:
    page = await readers.district_page(session, draft.district_page, DISTRICTS_PER_PAGE)
    builder = InlineKeyboardBuilder()
    for district in page.districts:
        chosen = district.id in draft.district_ids
        builder.button(
            text=("✅ " if chosen else "▫️ ") + district_label(district, language),
            callback_data=CampaignStep(step=Step.DISTRICT, value=str(district.id)),
        )
    builder.adjust(2)
    paging = page_row(Step.DISTRICT_PAGE, page.page, page.pages)
    if paging:
        builder.row(*paging)
    builder.row(step_button(_("Next ▶️"), Step.DISTRICTS_DONE))
    builder.row(*cancel_row())
    return builder.as_markup()


async def audience_choice(
    query: CallbackQuery,
    callback_data: CampaignStep,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """The kind of audience; the districts, interests or age group come next."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    try:
        kind = AudienceKind(callback_data.value)
    except ValueError:
        kind = None
    if message is None or kind is None:
        await stale(query)
        return
    await query.answer()
    draft.audience, draft.district_ids, draft.district_page = kind, [], 0
    await draft.save(state)
    if kind is AudienceKind.UNDER_REACHED:
        await edit_message(message, _("Audience: the under-reached districts at launch."))
        await ask_schedule(message, state)
    elif kind is AudienceKind.DISTRICTS:
        await state.set_state(CampaignWizard.districts)
        await edit_message(
            message,
            _("Choose the districts, then tap Next."),
            await _districts_markup(session, draft, i18n.current_locale),
        )
    elif kind is AudienceKind.INTERESTS:
        await state.set_state(CampaignWizard.interests)
        await edit_message(
            message,
            _("Send the interests, separated by commas (for example: history, poetry)."),
            markup(),
        )
    else:
        await state.set_state(CampaignWizard.age)
        await edit_message(
            message,
            _("Which age group?"),
            markup([step_button(age_label(age), Step.AGE, age.value) for age in AgeGroup]),
        )


async def district_toggle(
    query: CallbackQuery,
    callback_data: CampaignStep,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """Choose a district, or un-choose it."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    district_id = whole_number(callback_data.value)
    district = await directory.district(session, district_id) if district_id else None
    if message is None or district is None:
        await stale(query)
        return
    chosen = set(draft.district_ids) ^ {district.id}
    draft.district_ids = sorted(chosen)
    await draft.save(state)
    await query.answer()
    await edit_message(
        message,
        _("Choose the districts, then tap Next."),
        await _districts_markup(session, draft, i18n.current_locale),
    )


async def district_page(
    query: CallbackQuery,
    callback_data: CampaignStep,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """Another page of districts."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    page = whole_number(callback_data.value)
    if message is None or page is None:
        await stale(query)
        return
    draft.district_page = page
    await draft.save(state)
    await query.answer()
    await edit_message(
        message,
        _("Choose the districts, then tap Next."),
        await _districts_markup(session, draft, i18n.current_locale),
    )


async def districts_done(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    """The chosen districts (at least one), then the schedule."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    districts = sorted(
        await directory.districts_by_id(session, draft.district_ids), key=lambda d: d.code
    )
    if message is None:
        await stale(query)
        return
    if not districts:
        await query.answer(_("Choose at least one district first."), show_alert=True)
        return
    draft.district_ids = [d.id for d in districts]
    await draft.save(state)
    await query.answer()
    names = (district_label(d, i18n.current_locale) for d in districts)
    await edit_message(
        message,
        _("Audience: readers in {districts}.").format(
            districts=escape(listing(names, i18n.current_locale))
        ),
    )
    await ask_schedule(message, state)


async def interests(message: Message, state: FSMContext, i18n: I18n) -> None:
    """The interests of the audience."""
    draft = await CampaignDraft.load(state)
    try:
        chosen = inputs.parse_interests(message.text or "")
    except InvalidInputError:
        await message.answer(
            _(
                "Please send 1 to {count} interests separated by commas, "
                "each at most {length} characters."
            ).format(count=inputs.INTEREST_LIMIT, length=inputs.INTEREST_LENGTH)
        )
        return
    draft.interests = list(chosen)
    await draft.save(state)
    await message.answer(
        _("Audience: readers interested in {interests}.").format(
            interests=escape(listing(chosen, i18n.current_locale))
        )
    )
    await ask_schedule(message, state)


async def age_choice(query: CallbackQuery, callback_data: CampaignStep, state: FSMContext) -> None:
    """The age group of the audience."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    try:
        age = AgeGroup(callback_data.value)
    except ValueError:
        age = None
    if message is None or age is None:
        await stale(query)
        return
    draft.age_group = age
    await draft.save(state)
    await query.answer()
    await edit_message(message, _("Audience: {age}.").format(age=age_label(age)))
    await ask_schedule(message, state)


def build_router() -> Router:
    """The wizard's audience steps (admins only)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.callback_query.filter(HasRole(Role.ADMIN))
    router.message.register(
        interests, StateFilter(CampaignWizard.interests), F.text, ~F.text.startswith("/")
    )
    step = CampaignStep.filter
    for action, handler, state in (
        (Step.AUDIENCE, audience_choice, CampaignWizard.audience),
        (Step.DISTRICT, district_toggle, CampaignWizard.districts),
        (Step.DISTRICT_PAGE, district_page, CampaignWizard.districts),
        (Step.DISTRICTS_DONE, districts_done, CampaignWizard.districts),
        (Step.AGE, age_choice, CampaignWizard.age),
    ):
        router.callback_query.register(handler, step(F.step == action), StateFilter(state))
    return router
