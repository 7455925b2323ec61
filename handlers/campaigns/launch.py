"""/newcampaign, last steps: when, the holdout, a preview of what readers get, and launch."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.delivery import render_parts
from bot.models import CampaignStatus, Reader, Role, utcnow
from bot.notices.campaigns import listing, number, percent
from bot.notices.registry import Context, render_notice
from bot.services import directory
from bot.services.campaigns import inputs
from bot.services.campaigns.lifecycle import create_campaign
from bot.services.campaigns.metrics import compute_metrics
from bot.services.campaigns.notices import TOPIC, CampaignBody, CampaignMessage
from bot.services.campaigns.plans import CampaignPlan, ScheduleKind
from bot.services.campaigns.targeting import (
    Audience,
    AudienceKind,
    Reach,
    count_audience,
    holdout_size,
)
from bot.services.errors import InvalidInputError, NotFoundError
from handlers.campaigns.draft import (
    CampaignDraft,
    CampaignStep,
    CampaignWizard,
    Step,
    age_label,
    markup,
    message_of,
    stale,
    step_button,
)
from handlers.common import edit_message
from handlers.filters import HasRole
from handlers.keyboards import district_label


async def bot_username(bot: Bot) -> str:
    """The bot's @username, for deep links."""
    me = await bot.me()
    return me.username or ""


async def ask_schedule(message: Message, state: FSMContext) -> None:
    """When should it go out?"""
    await state.set_state(CampaignWizard.schedule)
    await message.answer(
        _("When should it go out?"),
        reply_markup=markup(
            [
                step_button(_("Now"), Step.SCHEDULE, ScheduleKind.NOW),
                step_button(_("At a time"), Step.SCHEDULE, ScheduleKind.AT),
                step_button(_("Weekly"), Step.SCHEDULE, ScheduleKind.WEEKLY),
            ]
        ),
    )


async def schedule_choice(
    query: CallbackQuery, callback_data: CampaignStep, state: FSMContext, settings: Settings
) -> None:
    """Now, at a time, or weekly from a time."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    try:
        kind = ScheduleKind(callback_data.value)
    except ValueError:
        kind = None
    if message is None or kind is None:
        await stale(query)
        return
    draft.schedule, draft.at = kind, None
    await draft.save(state)
    await query.answer()
    if kind is ScheduleKind.NOW:
        await edit_message(message, _("Schedule: as soon as you launch it."))
        await ask_holdout(message, state, settings)
        return
    await state.set_state(CampaignWizard.moment)
    await edit_message(
        message,
        (
            _("Send the time of the first message")
            if kind is ScheduleKind.WEEKLY
            else _("Send the time to send it")
        )
        + " "
        + _("as YYYY-MM-DD HH:MM ({zone} time), within 90 days.").format(zone=settings.timezone),
        markup(),
    )


async def moment(message: Message, state: FSMContext, settings: Settings, i18n: I18n) -> None:
    """The time of the (first) message."""
    draft = await CampaignDraft.load(state)
    try:
        at = inputs.parse_moment(message.text or "", zone=settings.zone, now=utcnow())
    except InvalidInputError as exc:
        reason = str(exc)
        if reason == "past":
            text = _("That time has passed. Please send a time in the future.")
        elif reason == "far":
            text = _("That is more than 90 days ahead. Please send an earlier time.")
        else:
            text = _("Please send the time as YYYY-MM-DD HH:MM, for example 2026-12-24 10:00.")
        await message.answer(text)
        return
    draft.at = at
    await draft.save(state)
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    await message.answer(_("Schedule: {when}.").format(when=ctx.when(at)))
    await ask_holdout(message, state, settings)


async def ask_holdout(message: Message, state: FSMContext, settings: Settings) -> None:
    """Which share is held out?"""
    await state.set_state(CampaignWizard.holdout)
    default = round(settings.campaign_holdout_share * 100)
    choices = sorted({default, 5, 10, 20} - {0})
    await message.answer(
        _(
            "Which share of the audience is held out? They get nothing, so the campaign's "
            "effect can be measured against them. Tap one, or send a percentage (0–50)."
        ),
        reply_markup=markup(
            [
                *(
                    step_button(
                        f"{share}%" + (" ✅" if share == default else ""), Step.HOLDOUT, str(share)
                    )
                    for share in choices
                ),
                step_button(_("None"), Step.HOLDOUT, "0"),
            ]
        ),
    )


async def holdout_choice(
    query: CallbackQuery,
    callback_data: CampaignStep,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A holdout share tapped."""
    message = message_of(query)
    draft = await CampaignDraft.load(state)
    try:
        share = inputs.parse_holdout(callback_data.value)
    except InvalidInputError:
        share = None
    if message is None or share is None:
        await stale(query)
        return
    draft.holdout = share
    await draft.save(state)
    await query.answer()
    await edit_message(
        message, _("Holdout: {share}.").format(share=percent(share, i18n.current_locale))
    )
    await preview(message.chat.id, state, session, settings, i18n, bot)


async def holdout_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A typed holdout share."""
    draft = await CampaignDraft.load(state)
    try:
        draft.holdout = inputs.parse_holdout(message.text or "")
    except InvalidInputError:
        await message.answer(_("Please send a percentage between 0 and 50, such as 10."))
        return
    await draft.save(state)
    await preview(message.chat.id, state, session, settings, i18n, bot)


async def _audience_words(
    session: AsyncSession, audience: Audience, district_ids: tuple[int, ...], language: str
) -> str:
    if audience.kind is AudienceKind.INTERESTS:
        return _("readers interested in {interests}").format(
            interests=escape(listing(audience.interests, language))
        )
    if audience.kind is AudienceKind.AGE_GROUP and audience.age_group is not None:
        return age_label(audience.age_group)
    districts = await directory.districts_by_id(session, list(district_ids))
    names = [district_label(d, language) for d in sorted(districts, key=lambda d: d.code)]
    listed = escape(listing(names, language)) if names else _("none at the moment")
    if audience.kind is AudienceKind.UNDER_REACHED:
        return _("the under-reached districts ({districts})").format(districts=listed)
    return _("readers in {districts}").format(districts=listed)


async def _send_preview(
    chat_id: int, plan: CampaignPlan, settings: Settings, i18n: I18n, bot: Bot
) -> None:
    """The message exactly as readers of each language get it."""
    await bot.send_message(chat_id, _("Preview — this is what readers will see:"))
    notice = CampaignMessage(
        campaign_id=0, bot_username=await bot_username(bot), body=CampaignBody(text=dict(plan.text))
    )
    for language in plan.text:
        ctx = Context(language=language, translator=i18n, settings=settings)
        for method in render_parts(
            render_notice(notice, ctx),
            chat_id=chat_id,
            language=language,
            default_language=i18n.default_locale,
            i18n=i18n,
            unsubscribe_topic=TOPIC,
        ):
            await bot(method)


async def preview(
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Show the admin exactly what readers get, with the audience, then ask to launch."""
    plan = (await CampaignDraft.load(state)).plan()
    await state.set_state(CampaignWizard.confirm)
    await _send_preview(chat_id, plan, settings, i18n, bot)
    language = i18n.current_locale
    count, districts = await count_audience(
        session, plan.audience, now=utcnow(), reach=Reach.of(settings)
    )
    held = holdout_size(count, plan.holdout_share)
    ctx = Context(language=language, translator=i18n, settings=settings)
    when = _("now")
    if plan.schedule.kind is not ScheduleKind.NOW and plan.schedule.at is not None:
        when = ctx.when(plan.schedule.at)
        if plan.schedule.kind is ScheduleKind.WEEKLY:
            when = _("weekly from {when}").format(when=when)
    treated = ngettext(
        "{count} reader gets the message", "{count} readers get the message", count - held
    )
    lines = [
        ngettext(
            "Audience: {audience} — {count} reader now.",
            "Audience: {audience} — {count} readers now.",
            count,
        ).format(
            audience=await _audience_words(session, plan.audience, districts, language),
            count=number(count, language),
        ),
        _("Held out: {held} ({share}), never messaged; {treated}.").format(
            held=number(held, language),
            share=percent(plan.holdout_share, language),
            treated=treated.format(count=number(count - held, language)),
        ),
        _("When: {when}.").format(when=when),
        _(
            "It is promotional: it waits for the end of quiet hours, and readers who get "
            "too many messages or turned campaigns off do not get it."
        ),
    ]
    await bot.send_message(
        chat_id, "\n".join(lines), reply_markup=markup([step_button(_("🚀 Launch"), Step.LAUNCH)])
    )


async def launch(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Create the campaign: it launches now, or waits for its time."""
    plan = (await CampaignDraft.load(state)).plan()
    await state.clear()
    try:
        campaign = await create_campaign(
            session,
            reader,
            plan,
            now=utcnow(),
            reach=Reach.of(settings),
            bot_username=await bot_username(bot),
        )
    except (InvalidInputError, NotFoundError):
        await query.answer()
        await edit_message(
            query.message,
            _(
                "The campaign could not be launched (its time has passed or its event is "
                "gone). Nothing was stored; send /newcampaign to start again."
            ),
        )
        return
    await query.answer(_("Launched."))
    if campaign.status is CampaignStatus.RUNNING:
        metrics = await compute_metrics(
            session, campaign, conversion_days=settings.campaign_conversion_days
        )
        text = _(
            "🚀 Campaign #{id} launched: {treated}, {held}. Send /campaigns to follow it."
        ).format(
            id=campaign.id,
            treated=ngettext(
                "{count} reader gets it", "{count} readers get it", metrics.treated
            ).format(count=number(metrics.treated, i18n.current_locale)),
            held=ngettext("{count} is held out", "{count} are held out", metrics.held_out).format(
                count=number(metrics.held_out, i18n.current_locale)
            ),
        )
    else:
        text = _("📅 Campaign #{id} is scheduled. Send /campaigns to follow it.").format(
            id=campaign.id
        )
    await edit_message(query.message, text)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Leave the wizard: nothing is stored."""
    await state.clear()
    await query.answer()
    await edit_message(query.message, _("Campaign cancelled. Nothing was stored or sent."))


async def wizard_expects_buttons(message: Message) -> None:
    """Text while the wizard waits for a button."""
    await message.answer(_("Please use the buttons above, or tap Cancel."))


def build_router() -> Router:
    """The wizard's schedule, holdout, preview and launch (admins only)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.callback_query.filter(HasRole(Role.ADMIN))
    typed = (F.text, ~F.text.startswith("/"))
    router.message.register(moment, StateFilter(CampaignWizard.moment), *typed)
    router.message.register(holdout_text, StateFilter(CampaignWizard.holdout), *typed)
    router.message.register(
        wizard_expects_buttons,
        StateFilter(
            CampaignWizard.link,
            CampaignWizard.event,
            CampaignWizard.audience,
            CampaignWizard.districts,
            CampaignWizard.age,
            CampaignWizard.schedule,
            CampaignWizard.confirm,
        ),
        ~F.text.startswith("/"),
    )
    step = CampaignStep.filter
    router.callback_query.register(
        schedule_choice, step(F.step == Step.SCHEDULE), StateFilter(CampaignWizard.schedule)
    )
    router.callback_query.register(
        holdout_choice, step(F.step == Step.HOLDOUT), StateFilter(CampaignWizard.holdout)
    )
    router.callback_query.register(
        launch, step(F.step == Step.LAUNCH), StateFilter(CampaignWizard.confirm)
    )
    router.callback_query.register(cancel, step(F.step == Step.CANCEL), StateFilter(CampaignWizard))
    return router
