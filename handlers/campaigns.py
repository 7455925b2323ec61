"""/newcampaign, /campaigns and the cmp_ deep link: campaigns to readers, and how they did."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from html import escape
from typing import Any, ClassVar

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter, or_f
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaign_buttons import CampaignControl, ControlAction
from bot.config import Settings
from bot.delivery import render_parts
from bot.models import AgeGroup, Campaign, CampaignStatus, District, Event, Reader, Role, utcnow
from bot.services import campaigns, directory
from bot.services.campaigns import (
    Audience,
    AudienceKind,
    Draft,
    Metrics,
    Reach,
    Schedule,
    ScheduleKind,
)
from bot.services.errors import InvalidInputError, NotFoundError
from handlers.admin_callbacks import AdminMenu
from handlers.common import edit_message
from handlers.deeplinks import DeepLinks
from handlers.filters import HasRole, Onboarded
from handlers.follow import library_name
from handlers.keyboards import district_label
from handlers.search import work_link

EVENT_LINK_PREFIX = "ev"
LIST_PREVIEW = 10


class CampaignWizard(StatesGroup):
    """The steps of preparing a campaign."""

    text_zh = State()
    text_en = State()
    link = State()
    reading_list = State()
    event = State()
    audience = State()
    districts = State()
    interests = State()
    age = State()
    schedule = State()
    moment = State()
    holdout = State()
    confirm = State()


class Step(StrEnum):
    LINK = "lk"
    EVENT = "ev"
    AUDIENCE = "au"
    DISTRICT = "dt"
    DISTRICTS_DONE = "dn"
    AGE = "ag"
    SCHEDULE = "sc"
    HOLDOUT = "ho"
    LAUNCH = "go"
    CANCEL = "x"


class CampaignStep(CallbackData, prefix="cps"):
    """A choice in the /newcampaign wizard (admins only)."""

    required_role: ClassVar[Role] = Role.ADMIN

    step: Step
    value: str = ""


def reach_of(settings: Settings) -> Reach:
    """How the settings find under-reached districts."""
    return Reach(settings.reach_period_days, settings.reach_rule, settings.reach_threshold_share)


def _button(text: str, step: Step, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=CampaignStep(step=step, value=value).pack()
    )


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("✖️ Cancel"), Step.CANCEL)]


def _markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[*rows, _cancel_row()])


async def _bot_username(bot: Bot) -> str:
    me = await bot.me()
    return me.username or ""


# --- the wizard ---------------------------------------------------------------------------


async def start_wizard(message: Message, state: FSMContext) -> None:
    """Step 1: the Chinese text."""
    await state.clear()
    await state.set_state(CampaignWizard.text_zh)
    await message.answer(
        _(
            "New campaign. Send the message in Chinese (bold, italic and links are kept). "
            "Readers get it with a button that opens the linked event or reading list."
        ),
        reply_markup=_markup(),
    )


def _text_of(message: Message) -> str | None:
    if not message.text:
        return None
    try:
        campaigns.check_text(message.html_text, len(message.text))
    except InvalidInputError:
        return None
    return message.html_text


async def _bad_text(message: Message) -> None:
    await message.answer(
        _("Please send the text as one message of at most {limit} characters.").format(
            limit=campaigns.PLAIN_TEXT_LIMIT
        )
    )


async def text_zh(message: Message, state: FSMContext) -> None:
    """The Chinese text, then the English one."""
    html_text = _text_of(message)
    if html_text is None:
        await _bad_text(message)
        return
    await state.update_data(text_zh=html_text)
    await state.set_state(CampaignWizard.text_en)
    await message.answer(_("Now the same message in English."), reply_markup=_markup())


async def text_en(message: Message, state: FSMContext) -> None:
    """The English text, then what to link."""
    html_text = _text_of(message)
    if html_text is None:
        await _bad_text(message)
        return
    await state.update_data(text_en=html_text)
    await state.set_state(CampaignWizard.link)
    await message.answer(
        _("Link an event or a reading list to the campaign's button?"),
        reply_markup=_markup(
            [
                _button(_("📅 An event"), Step.LINK, "event"),
                _button(_("📚 A reading list"), Step.LINK, "list"),
            ],
            [_button(_("Nothing"), Step.LINK, "none")],
        ),
    )


async def _ask_audience(message: Message, state: FSMContext) -> None:
    await state.set_state(CampaignWizard.audience)
    await message.answer(
        _("Who is the campaign for?"),
        reply_markup=_markup(
            [
                _button(
                    _("⚠️ The under-reached districts"), Step.AUDIENCE, AudienceKind.UNDER_REACHED
                )
            ],
            [_button(_("🏘 Districts I choose"), Step.AUDIENCE, AudienceKind.DISTRICTS)],
            [
                _button(_("💡 Interests"), Step.AUDIENCE, AudienceKind.INTERESTS),
                _button(_("👥 An age group"), Step.AUDIENCE, AudienceKind.AGE_GROUP),
            ],
        ),
    )


def _event_label(event: Event, settings: Settings) -> str:
    when = event.starts_at.astimezone(settings.zone).strftime("%m-%d %H:%M")
    return f"{when} {event.title}"[:60]


async def _link_choice(
    query: CallbackQuery,
    message: Message,
    value: str,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if value == "none":
        await state.update_data(event_id=None, work_ids=[])
        await edit_message(message, _("No event or reading list linked."))
        await _ask_audience(message, state)
    elif value == "list":
        await state.set_state(CampaignWizard.reading_list)
        await edit_message(
            message,
            _("Send the ISBNs of the reading list (at most {limit}), separated by spaces.").format(
                limit=campaigns.READING_LIST_LIMIT
            ),
            _markup(),
        )
    elif value == "event":
        events = await campaigns.upcoming_events(session, utcnow())
        if not events:
            await query.answer(_("There is no upcoming event to link."), show_alert=True)
            return
        await state.set_state(CampaignWizard.event)
        await edit_message(
            message,
            _("Which event?"),
            _markup(
                *(
                    [_button(_event_label(event, settings), Step.EVENT, str(event.id))]
                    for event in events
                )
            ),
        )
    else:
        await _stale(query)
        return
    await query.answer()


async def reading_list(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """The ISBNs of the reading list: all must be in the catalogue."""
    try:
        found = await campaigns.reading_list(session, message.text or "")
    except InvalidInputError:
        await message.answer(
            _("Please send between 1 and {limit} ISBNs, separated by spaces.").format(
                limit=campaigns.READING_LIST_LIMIT
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
    await state.update_data(event_id=None, work_ids=[work.id for work in found.works])
    await message.answer(
        _("Reading list: {titles}.").format(
            titles=escape("; ".join(work.title for work in found.works))
        )
    )
    await _ask_audience(message, state)


async def _event_choice(
    query: CallbackQuery, message: Message, value: str, state: FSMContext, session: AsyncSession
) -> None:
    events = {str(e.id): e for e in await campaigns.upcoming_events(session, utcnow())}
    event = events.get(value)
    if event is None:
        await query.answer(_("That event is not open any more."), show_alert=True)
        return
    await state.update_data(event_id=event.id, work_ids=[])
    await query.answer()
    await edit_message(message, _("Linked event: {title}.").format(title=escape(event.title)))
    await _ask_audience(message, state)


def _districts_markup(
    districts: list[District], chosen: set[int], language: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for district in districts:
        builder.button(
            text=("✅ " if district.id in chosen else "▫️ ") + district_label(district, language),
            callback_data=CampaignStep(step=Step.DISTRICT, value=str(district.id)),
        )
    builder.adjust(2)
    builder.row(_button(_("Next ▶️"), Step.DISTRICTS_DONE))
    builder.row(*_cancel_row())
    return builder.as_markup()


async def _audience_choice(
    query: CallbackQuery,
    message: Message,
    value: str,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if value == AudienceKind.UNDER_REACHED:
        await state.update_data(audience=Audience(AudienceKind.UNDER_REACHED).to_json())
        await query.answer()
        await edit_message(message, _("Audience: the under-reached districts at launch."))
        await _ask_schedule(message, state)
    elif value == AudienceKind.DISTRICTS:
        await state.set_state(CampaignWizard.districts)
        await state.update_data(district_ids=[])
        await query.answer()
        districts = await campaigns.all_districts(session)
        await edit_message(
            message,
            _("Choose the districts, then tap Next."),
            _districts_markup(districts, set(), i18n.current_locale),
        )
    elif value == AudienceKind.INTERESTS:
        await state.set_state(CampaignWizard.interests)
        await query.answer()
        await edit_message(
            message,
            _("Send the interests, separated by commas (for example: history, poetry)."),
            _markup(),
        )
    elif value == AudienceKind.AGE_GROUP:
        await state.set_state(CampaignWizard.age)
        await query.answer()
        await edit_message(
            message,
            _("Which age group?"),
            _markup([_button(age_label(age), Step.AGE, age.value) for age in AgeGroup]),
        )
    else:
        await _stale(query)


def age_label(age: AgeGroup) -> str:
    """An age group in words."""
    return {
        AgeGroup.CHILDREN: _("children"),
        AgeGroup.STUDENTS: _("students"),
        AgeGroup.ADULTS: _("adults"),
        AgeGroup.SENIORS: _("seniors"),
    }[age]


async def _district_toggle(
    query: CallbackQuery,
    message: Message,
    value: str,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    districts = await campaigns.all_districts(session)
    known = {str(d.id): d.id for d in districts}
    if value not in known:
        await _stale(query)
        return
    chosen = set((await state.get_data()).get("district_ids") or [])
    chosen ^= {known[value]}
    await state.update_data(district_ids=sorted(chosen))
    await query.answer()
    await edit_message(
        message,
        _("Choose the districts, then tap Next."),
        _districts_markup(districts, chosen, i18n.current_locale),
    )


async def _districts_done(
    query: CallbackQuery, message: Message, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    chosen = set((await state.get_data()).get("district_ids") or [])
    districts = [d for d in await campaigns.all_districts(session) if d.id in chosen]
    if not districts:
        await query.answer(_("Choose at least one district first."), show_alert=True)
        return
    audience = Audience(AudienceKind.DISTRICTS, tuple(d.id for d in districts))
    await state.update_data(audience=audience.to_json())
    await query.answer()
    await edit_message(
        message,
        _("Audience: readers in {districts}.").format(
            districts=escape(", ".join(district_label(d, i18n.current_locale) for d in districts))
        ),
    )
    await _ask_schedule(message, state)


async def interests(message: Message, state: FSMContext) -> None:
    """The interests of the audience."""
    try:
        chosen = campaigns.parse_interests(message.text or "")
    except InvalidInputError:
        await message.answer(
            _(
                "Please send 1 to {count} interests separated by commas, "
                "each at most {length} characters."
            ).format(count=campaigns.INTEREST_LIMIT, length=campaigns.INTEREST_LENGTH)
        )
        return
    audience = Audience(AudienceKind.INTERESTS, interests=chosen)
    await state.update_data(audience=audience.to_json())
    await message.answer(
        _("Audience: readers interested in {interests}.").format(
            interests=escape(", ".join(chosen))
        )
    )
    await _ask_schedule(message, state)


async def _age_choice(
    query: CallbackQuery, message: Message, value: str, state: FSMContext
) -> None:
    try:
        age = AgeGroup(value)
    except ValueError:
        await _stale(query)
        return
    await state.update_data(audience=Audience(AudienceKind.AGE_GROUP, age_group=age).to_json())
    await query.answer()
    await edit_message(message, _("Audience: {age}.").format(age=age_label(age)))
    await _ask_schedule(message, state)


async def _ask_schedule(message: Message, state: FSMContext) -> None:
    await state.set_state(CampaignWizard.schedule)
    await message.answer(
        _("When should it go out?"),
        reply_markup=_markup(
            [
                _button(_("Now"), Step.SCHEDULE, ScheduleKind.NOW),
                _button(_("At a time"), Step.SCHEDULE, ScheduleKind.AT),
                _button(_("Weekly"), Step.SCHEDULE, ScheduleKind.WEEKLY),
            ]
        ),
    )


async def _schedule_choice(
    query: CallbackQuery, message: Message, value: str, state: FSMContext, settings: Settings
) -> None:
    if value not in {kind.value for kind in ScheduleKind}:
        await _stale(query)
        return
    await state.update_data(schedule_kind=value, at=None)
    await query.answer()
    if value == ScheduleKind.NOW:
        await edit_message(message, _("Schedule: as soon as you launch it."))
        await _ask_holdout(message, state, settings)
        return
    await state.set_state(CampaignWizard.moment)
    await edit_message(
        message,
        (
            _("Send the time of the first message")
            if value == ScheduleKind.WEEKLY
            else _("Send the time to send it")
        )
        + " "
        + _("as YYYY-MM-DD HH:MM ({zone} time), within 90 days.").format(zone=settings.timezone),
        _markup(),
    )


async def moment(message: Message, state: FSMContext, settings: Settings) -> None:
    """The time of the (first) message."""
    try:
        at = campaigns.parse_moment(message.text or "", zone=settings.zone, now=utcnow())
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
    await state.update_data(at=at.isoformat())
    await message.answer(
        _("Schedule: {when}.").format(when=at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M"))
    )
    await _ask_holdout(message, state, settings)


async def _ask_holdout(message: Message, state: FSMContext, settings: Settings) -> None:
    await state.set_state(CampaignWizard.holdout)
    default = round(settings.campaign_holdout_share * 100)
    choices = sorted({default, 5, 10, 20} - {0})
    await message.answer(
        _(
            "Which share of the audience is held out? They get nothing, so the campaign's "
            "effect can be measured against them. Tap one, or send a percentage (0–50)."
        ),
        reply_markup=_markup(
            [
                *(
                    _button(
                        f"{share}%" + (" ✅" if share == default else ""), Step.HOLDOUT, str(share)
                    )
                    for share in choices
                ),
                _button(_("None"), Step.HOLDOUT, "0"),
            ]
        ),
    )


async def holdout_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A typed holdout share."""
    try:
        share = campaigns.parse_holdout(message.text or "")
    except InvalidInputError:
        await message.answer(_("Please send a percentage between 0 and 50, such as 10."))
        return
    await state.update_data(holdout=share)
    await _preview(message.chat.id, state, session, settings, i18n, bot)


def _draft(data: dict[str, Any]) -> Draft:
    kind = ScheduleKind(data.get("schedule_kind") or ScheduleKind.NOW)
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    return Draft(
        text={lang: data[f"text_{lang}"] for lang in ("zh", "en") if data.get(f"text_{lang}")},
        audience=Audience.from_json(data.get("audience") or {}),
        schedule=Schedule(kind, at),
        holdout_share=float(data.get("holdout", 0.0)),
        event_id=data.get("event_id"),
        work_ids=tuple(data.get("work_ids") or ()),
    )


async def _audience_words(
    session: AsyncSession, audience: Audience, district_ids: tuple[int, ...], language: str
) -> str:
    if audience.kind is AudienceKind.INTERESTS:
        return _("readers interested in {interests}").format(
            interests=escape(", ".join(audience.interests))
        )
    if audience.kind is AudienceKind.AGE_GROUP and audience.age_group is not None:
        return age_label(audience.age_group)
    names = [
        district_label(district, language)
        for district in await directory.districts_by_id(session, list(district_ids))
    ]
    listed = escape(", ".join(names)) if names else _("none at the moment")
    if audience.kind is AudienceKind.UNDER_REACHED:
        return _("the under-reached districts ({districts})").format(districts=listed)
    return _("readers in {districts}").format(districts=listed)


async def _preview(
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Show the admin exactly what readers get, with the audience, then ask to launch."""
    data = await state.get_data()
    draft = _draft(data)
    await state.set_state(CampaignWizard.confirm)
    await bot.send_message(chat_id, _("Preview — this is what readers will see:"))
    preview = Campaign(id=0, message={"text": dict(draft.text)})
    message = campaigns.campaign_message(
        preview, bot_username=await _bot_username(bot), translator=i18n
    )
    for language in draft.text:
        for method in render_parts(
            message,
            chat_id=chat_id,
            language=language,
            default_language=i18n.default_locale,
            i18n=i18n,
            unsubscribe_topic=campaigns.TOPIC,
        ):
            await bot(method)
    now = utcnow()
    count, districts = await campaigns.count_audience(
        session, draft.audience, now=now, reach=reach_of(settings)
    )
    await session.commit()
    held = campaigns.holdout_size(count, draft.holdout_share)
    if draft.schedule.kind is ScheduleKind.NOW or draft.schedule.at is None:
        when = _("now")
    else:
        when = draft.schedule.at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
        if draft.schedule.kind is ScheduleKind.WEEKLY:
            when = _("weekly from {when}").format(when=when)
    lines = [
        _("Audience: {audience} — {count} readers now.").format(
            audience=await _audience_words(session, draft.audience, districts, i18n.current_locale),
            count=count,
        ),
        _("Held out: {held} ({share:.0%}), never messaged; {treated} get the message.").format(
            held=held, share=draft.holdout_share, treated=count - held
        ),
        _("When: {when}.").format(when=when),
        _(
            "It is promotional: it waits for the end of quiet hours, and readers who get "
            "too many messages or turned campaigns off do not get it."
        ),
    ]
    await bot.send_message(
        chat_id,
        "\n".join(lines),
        reply_markup=_markup([_button(_("🚀 Launch"), Step.LAUNCH)]),
    )


async def _launch(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    draft = _draft(await state.get_data())
    try:
        campaign = await campaigns.create_campaign(
            session,
            reader,
            draft,
            now=utcnow(),
            reach=reach_of(settings),
            bot_username=await _bot_username(bot),
            translator=i18n,
        )
    except (InvalidInputError, NotFoundError):
        await state.clear()
        await query.answer()
        await edit_message(
            message,
            _(
                "The campaign could not be launched (its time has passed or its event is "
                "gone). Nothing was stored; send /newcampaign to start again."
            ),
        )
        return
    await state.clear()
    await query.answer(_("Launched."))
    metrics = await campaigns.compute_metrics(
        session, campaign, conversion_days=settings.campaign_conversion_days
    )
    await session.commit()
    if campaign.status is CampaignStatus.RUNNING:
        text = _(
            "🚀 Campaign #{id} launched: {treated} readers get it, {held} are held out. "
            "Send /campaigns to follow it."
        ).format(id=campaign.id, treated=metrics.treated, held=metrics.held_out)
    else:
        text = _("📅 Campaign #{id} is scheduled. Send /campaigns to follow it.").format(
            id=campaign.id
        )
    await edit_message(message, text)


async def step_choice(
    query: CallbackQuery,
    callback_data: CampaignStep,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A wizard button: each is only valid at its own step."""
    message = query.message
    if not isinstance(message, Message):
        await _stale(query)
        return
    current = await state.get_state()
    step, value = callback_data.step, callback_data.value
    if step is Step.CANCEL:
        if current is None or not current.startswith(CampaignWizard.__name__):
            await _stale(query)
            return
        await state.clear()
        await query.answer()
        await edit_message(message, _("Campaign cancelled. Nothing was stored or sent."))
        return
    expected = {
        Step.LINK: CampaignWizard.link,
        Step.EVENT: CampaignWizard.event,
        Step.AUDIENCE: CampaignWizard.audience,
        Step.DISTRICT: CampaignWizard.districts,
        Step.DISTRICTS_DONE: CampaignWizard.districts,
        Step.AGE: CampaignWizard.age,
        Step.SCHEDULE: CampaignWizard.schedule,
        Step.HOLDOUT: CampaignWizard.holdout,
        Step.LAUNCH: CampaignWizard.confirm,
    }[step]
    if current != expected.state:
        await _stale(query)
        return
    if step is Step.LINK:
        await _link_choice(query, message, value, state, session, settings)
    elif step is Step.EVENT:
        await _event_choice(query, message, value, state, session)
    elif step is Step.AUDIENCE:
        await _audience_choice(query, message, value, state, session, i18n)
    elif step is Step.DISTRICT:
        await _district_toggle(query, message, value, state, session, i18n)
    elif step is Step.DISTRICTS_DONE:
        await _districts_done(query, message, state, session, i18n)
    elif step is Step.AGE:
        await _age_choice(query, message, value, state)
    elif step is Step.SCHEDULE:
        await _schedule_choice(query, message, value, state, settings)
    elif step is Step.HOLDOUT:
        try:
            share = campaigns.parse_holdout(value)
        except InvalidInputError:
            await _stale(query)
            return
        await state.update_data(holdout=share)
        await query.answer()
        await edit_message(message, _("Holdout: {share:.0%}.").format(share=share))
        await _preview(message.chat.id, state, session, settings, i18n, bot)
    else:
        await _launch(query, message, state, session, settings, reader, i18n, bot)


async def wizard_expects_buttons(message: Message) -> None:
    """Text while the wizard waits for a button."""
    await message.answer(_("Please use the buttons above, or tap Cancel."))


# --- /campaigns ---------------------------------------------------------------------------


def status_label(status: CampaignStatus) -> str:
    """A campaign's status in words."""
    return {
        CampaignStatus.DRAFT: _("waiting for approval"),
        CampaignStatus.SCHEDULED: _("scheduled"),
        CampaignStatus.RUNNING: _("running"),
        CampaignStatus.PAUSED: _("paused"),
        CampaignStatus.COMPLETED: _("completed"),
        CampaignStatus.CANCELLED: _("cancelled"),
    }[status]


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


# A waiting campaign's card carries its message up to this length (it is HTML: never cut).
APPROVAL_BODY_CHARS = 2500


def campaign_text(campaign: Campaign, metrics: Metrics, settings: Settings, language: str) -> str:
    """One campaign's card: status, delivery, opens, conversions and uplift; while it waits
    for approval, also the message readers would get."""
    zone = settings.zone
    lines = [
        _("<b>#{id} {name}</b> — {status}").format(
            id=campaign.id, name=escape(campaign.name), status=status_label(campaign.status)
        )
    ]
    if campaign.launched_at is not None:
        lines.append(
            _("Launched {when}.").format(
                when=campaign.launched_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            )
        )
    if campaign.next_run_at is not None and campaign.status is not CampaignStatus.CANCELLED:
        lines.append(
            _("Next message: {when}.").format(
                when=campaign.next_run_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            )
        )
    lines.append(
        _(
            "Targeted {targeted} · held out {held} · sent {sent} · failed {failed} · "
            "blocked {blocked} · skipped {skipped} · queued {queued}"
        ).format(
            targeted=metrics.targeted,
            held=metrics.held_out,
            sent=metrics.sent,
            failed=metrics.failed,
            blocked=metrics.blocked,
            skipped=metrics.skipped,
            queued=metrics.queued,
        )
    )
    lines.append(
        _(
            "Opened {opened} · converted {converted} of {treated} ({rate}) · "
            "holdout {converted_holdout} of {held} ({holdout_rate})"
        ).format(
            opened=metrics.opened,
            converted=metrics.converted,
            treated=metrics.treated,
            rate=_rate(metrics.converted, metrics.treated),
            converted_holdout=metrics.converted_holdout,
            held=metrics.held_out,
            holdout_rate=_rate(metrics.converted_holdout, metrics.held_out),
        )
    )
    if metrics.uplift is None:
        lines.append(_("Uplift: not known yet (needs readers in both groups)."))
    else:
        lines.append(
            _("Uplift against the holdout: {uplift:+.1f} points.").format(
                uplift=metrics.uplift * 100
            )
        )
    if campaign.status is CampaignStatus.DRAFT:
        texts = campaign.message.get("text", {})
        body = texts.get(language) or next(iter(texts.values()), "")
        lines.append("")
        if body and len(body) <= APPROVAL_BODY_CHARS:
            lines += [_("Readers would get:"), body]
        else:
            lines.append(_("The message is long: the approval notice shows it in full."))
    return "\n".join(lines)


def control_markup(campaign: Campaign) -> InlineKeyboardMarkup | None:
    """The buttons a campaign's state allows."""

    def button(text: str, action: ControlAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text,
            callback_data=CampaignControl(action=action, campaign_id=campaign.id).pack(),
        )

    row: list[InlineKeyboardButton] = []
    if campaign.status is CampaignStatus.DRAFT:
        row.append(button(_("🚀 Launch"), ControlAction.APPROVE))
    if campaign.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
        row.append(button(_("⏸ Pause"), ControlAction.PAUSE))
    if campaign.status is CampaignStatus.PAUSED:
        row.append(button(_("▶️ Resume"), ControlAction.RESUME))
    if campaign.status not in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        row.append(button(_("✖️ Cancel"), ControlAction.CANCEL))
    row.append(button(_("🔄"), ControlAction.REFRESH))
    return InlineKeyboardMarkup(inline_keyboard=[row])


async def list_campaigns(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The newest campaigns, each with its numbers and controls."""
    recent = await campaigns.recent_campaigns(session)
    if not recent:
        await message.answer(_("No campaigns yet. Send /newcampaign to prepare one."))
        return
    await message.answer(_("Campaigns, newest first:"))
    for campaign in recent:
        metrics = await campaigns.compute_metrics(
            session, campaign, conversion_days=settings.campaign_conversion_days
        )
        await message.answer(
            campaign_text(campaign, metrics, settings, i18n.current_locale),
            reply_markup=control_markup(campaign),
        )
    await session.commit()
    await message.answer(
        _(
            "Converted: a hold or an event registration within {days} days of the message "
            "(for the holdout, of the launch). Uplift: the treated readers' conversion rate "
            "minus the holdout's."
        ).format(days=settings.campaign_conversion_days)
    )


async def campaigns_section(
    query: CallbackQuery,
    callback_data: AdminMenu,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The admin menu's Campaigns (the same as /campaigns) and New campaign (/newcampaign)."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.section == "newcampaign":
        await start_wizard(query.message, state)
    else:
        await list_campaigns(query.message, session, settings, i18n)


async def control(
    query: CallbackQuery,
    callback_data: CampaignControl,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Pause, resume, cancel, approve or refresh (the role is re-checked by the filter)."""
    action, campaign_id = callback_data.action, callback_data.campaign_id
    try:
        if action is ControlAction.PAUSE:
            campaign = await campaigns.pause(session, reader, campaign_id)
            notice = _("Paused: its waiting messages are held back.")
        elif action is ControlAction.RESUME:
            campaign = await campaigns.resume(session, reader, campaign_id, now=utcnow())
            notice = _("Resumed: its waiting messages are queued again.")
        elif action is ControlAction.CANCEL:
            campaign = await campaigns.cancel(session, reader, campaign_id)
            notice = _("Cancelled: nothing more of it is sent.")
        elif action is ControlAction.APPROVE:
            campaign = await campaigns.approve(
                session,
                reader,
                campaign_id,
                now=utcnow(),
                reach=reach_of(settings),
                bot_username=await _bot_username(bot),
                translator=i18n,
            )
            notice = _("Launched.")
        else:
            campaign = await campaigns.get_campaign(session, campaign_id)
            notice = ""
    except NotFoundError:
        await query.answer(_("That campaign does not exist."), show_alert=True)
        return
    except campaigns.StateError:
        await query.answer(
            _("That is not possible now: the campaign was changed meanwhile."), show_alert=True
        )
        campaign = await campaigns.get_campaign(session, campaign_id)
        notice = None
    metrics = await campaigns.compute_metrics(
        session, campaign, conversion_days=settings.campaign_conversion_days
    )
    await session.commit()
    if notice is not None:
        await query.answer(notice)
    await edit_message(
        query.message,
        campaign_text(campaign, metrics, settings, i18n.current_locale),
        control_markup(campaign),
    )


# --- the deep link ------------------------------------------------------------------------


def _event_lines(event: Event, settings: Settings, language: str) -> list[str]:
    zone = settings.zone
    lines = [
        "📅 <b>" + escape(event.title) + "</b>",
        _("{start} – {end}").format(
            start=event.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            end=event.ends_at.astimezone(zone).strftime("%H:%M"),
        ),
    ]
    place = library_name(event.venue_library, language) if event.venue_library else event.place_name
    if place:
        lines.append("📍 " + escape(place))
    if event.description:
        lines.append(escape(event.description[:600]))
    return lines


async def open_campaign_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``cmp_<id>``: count the open, show the linked event or reading list."""
    session = data["session"]
    reader = data["reader"]
    settings = data["settings"]
    i18n = data["i18n"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    assert isinstance(settings, Settings) and isinstance(i18n, I18n)
    try:
        opened = await campaigns.open_link(
            session, reader, int(argument) if argument.isdigit() else 0, now=utcnow()
        )
    except NotFoundError:
        await message.answer(_("This campaign is no longer available."))
        return
    campaign = opened.campaign
    language = i18n.current_locale
    texts = campaign.message.get("text") or {}
    body = texts.get(language) or next((t for t in texts.values() if t), "")
    lines = [body]
    rows: list[list[InlineKeyboardButton]] = []
    username = await _bot_username(message.bot) if message.bot else ""
    if opened.event is not None:
        await session.refresh(opened.event, ["venue_library"])
        lines += ["", *_event_lines(opened.event, settings, language)]
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("📅 Details and sign-up"),
                    url=f"https://t.me/{username}?start={EVENT_LINK_PREFIX}_{opened.event.id}",
                )
            ]
        )
    if opened.works:
        lines += ["", _("<b>Reading list</b>")]
        for work in opened.works[:LIST_PREVIEW]:
            authors = ", ".join(work.authors[:2])
            lines.append("📖 " + escape(work.title) + (f" — {escape(authors)}" if authors else ""))
            rows.append(
                [InlineKeyboardButton(text=work.title[:40], url=work_link(username, work.id))]
            )
    if campaign.status is CampaignStatus.CANCELLED:
        lines += ["", _("(This campaign has ended.)")]
    await session.commit()
    await message.answer(
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
    )


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is no longer active."), show_alert=True)


async def refuse_button(query: CallbackQuery) -> None:
    """A campaign button pressed by someone who is not an admin (forged or outdated)."""
    await query.answer(_("Sorry, only alliance admins can manage campaigns."), show_alert=True)


def register_deep_links(deep_links: DeepLinks) -> None:
    """Route ``/start cmp_<id>`` to the campaign's page."""
    deep_links.register(campaigns.DEEP_LINK_PREFIX, open_campaign_link)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.callback_query.filter(Onboarded())
    admin = HasRole(Role.ADMIN)
    router.message.register(start_wizard, Command("newcampaign"), admin)
    router.message.register(list_campaigns, Command("campaigns"), admin)
    router.callback_query.register(
        campaigns_section, AdminMenu.filter(F.section.in_({"campaigns", "newcampaign"})), admin
    )
    texts = (
        (CampaignWizard.text_zh, text_zh),
        (CampaignWizard.text_en, text_en),
        (CampaignWizard.reading_list, reading_list),
        (CampaignWizard.interests, interests),
        (CampaignWizard.moment, moment),
        (CampaignWizard.holdout, holdout_text),
    )
    for state, handler in texts:
        router.message.register(handler, StateFilter(state), F.text, ~F.text.startswith("/"), admin)
    router.message.register(
        _bad_text, StateFilter(CampaignWizard.text_zh, CampaignWizard.text_en), ~F.text, admin
    )
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
        admin,
    )
    router.callback_query.register(step_choice, CampaignStep.filter(), admin)
    router.callback_query.register(control, CampaignControl.filter(), admin)
    router.callback_query.register(
        refuse_button, or_f(CampaignStep.filter(), CampaignControl.filter())
    )
    return router
