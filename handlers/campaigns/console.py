"""/campaigns: each campaign's numbers, a page at a time, with pause, resume and cancel."""

from __future__ import annotations

from collections.abc import Awaitable
from html import escape
from typing import ClassVar

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Campaign, CampaignStatus, Reader, Role, utcnow
from bot.notices.campaigns import (
    CampaignControl,
    ControlAction,
    body_html,
    number,
    percent,
    points,
)
from bot.notices.registry import Context
from bot.services.campaigns import lifecycle
from bot.services.campaigns.metrics import Metrics, compute_metrics
from bot.services.campaigns.notices import CampaignBody
from bot.services.campaigns.plans import StateError
from bot.services.errors import NotFoundError
from handlers.admin_callbacks import AdminMenu
from handlers.campaigns.wizard import start_wizard
from handlers.common import edit_message
from handlers.filters import HasRole

# A waiting campaign's card carries its message up to this length (it is HTML: never cut).
APPROVAL_BODY_CHARS = 2500


class CampaignList(CallbackData, prefix="cpl"):
    """A page of /campaigns, newest first (admins only)."""

    required_role: ClassVar[Role] = Role.ADMIN

    page: int


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


def _rate(part: int, whole: int, language: str) -> str:
    return percent(part / whole, language, decimals=1) if whole else "—"


def _numbers(metrics: Metrics, language: str) -> list[str]:
    def n(value: int) -> str:
        return number(value, language)

    lines = [
        _(
            "Targeted {targeted} · held out {held} · sent {sent} · failed {failed} · "
            "outcome unknown {unknown} · blocked {blocked} · skipped {skipped} · queued {queued}"
        ).format(
            targeted=n(metrics.targeted),
            held=n(metrics.held_out),
            sent=n(metrics.sent),
            failed=n(metrics.failed),
            unknown=n(metrics.unknown),
            blocked=n(metrics.blocked),
            skipped=n(metrics.skipped),
            queued=n(metrics.queued),
        ),
        _(
            "Opened {opened} · converted {converted} of {treated} ({rate}) · "
            "holdout {converted_holdout} of {held} ({holdout_rate})"
        ).format(
            opened=n(metrics.opened),
            converted=n(metrics.converted),
            treated=n(metrics.treated),
            rate=_rate(metrics.converted, metrics.treated, language),
            converted_holdout=n(metrics.converted_holdout),
            held=n(metrics.held_out),
            holdout_rate=_rate(metrics.converted_holdout, metrics.held_out, language),
        ),
    ]
    if metrics.uplift is None:
        lines.append(_("Uplift: not known yet (needs readers in both groups)."))
    else:
        lines.append(
            _("Uplift against the holdout: {uplift} points.").format(
                uplift=points(metrics.uplift * 100, language)
            )
        )
    return lines


def campaign_text(campaign: Campaign, metrics: Metrics, ctx: Context) -> str:
    """One campaign's card: status, delivery, opens, conversions and uplift; while it waits
    for approval, also the message readers would get."""
    lines = [
        _("<b>#{id} {name}</b> — {status}").format(
            id=campaign.id, name=escape(campaign.name), status=status_label(campaign.status)
        )
    ]
    if campaign.launched_at is not None:
        lines.append(_("Launched {when}.").format(when=ctx.when(campaign.launched_at)))
    if campaign.next_run_at is not None and campaign.status is not CampaignStatus.CANCELLED:
        lines.append(_("Next message: {when}.").format(when=ctx.when(campaign.next_run_at)))
    lines += _numbers(metrics, ctx.language)
    if campaign.status is CampaignStatus.DRAFT:
        body = body_html(CampaignBody.of(campaign.message), ctx)
        lines.append("")
        if body and len(body) <= APPROVAL_BODY_CHARS:
            lines += [_("Readers would get:"), body]
        else:
            lines.append(_("The message is long: the approval notice shows it in full."))
    return "\n".join(lines)


def control_markup(campaign: Campaign) -> InlineKeyboardMarkup:
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


def _paging(page: int, pages: int) -> InlineKeyboardMarkup | None:
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                text=_("◀️ Newer"), callback_data=CampaignList(page=page - 1).pack()
            )
        )
    if page + 1 < pages:
        row.append(
            InlineKeyboardButton(
                text=_("Older ▶️"), callback_data=CampaignList(page=page + 1).pack()
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def list_campaigns(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, page: int = 0
) -> None:
    """A page of campaigns, newest first, each with its numbers and controls."""
    found = await lifecycle.recent_campaigns(session, page)
    if not found.campaigns:
        await message.answer(_("No campaigns yet. Send /newcampaign to prepare one."))
        return
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    if found.page == 0:
        await message.answer(_("Campaigns, newest first:"))
    for campaign in found.campaigns:
        metrics = await compute_metrics(
            session, campaign, conversion_days=settings.campaign_conversion_days
        )
        await message.answer(
            campaign_text(campaign, metrics, ctx), reply_markup=control_markup(campaign)
        )
    await message.answer(
        _(
            "Converted: a hold or an event registration within {days} days of the message "
            "(for the holdout, of the launch). Uplift: the treated readers' conversion rate "
            "minus the holdout's."
        ).format(days=settings.campaign_conversion_days),
        reply_markup=_paging(found.page, found.pages),
    )


async def campaigns_command(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """/campaigns: the newest campaigns."""
    await list_campaigns(message, session, settings, i18n)


async def campaigns_page(
    query: CallbackQuery,
    callback_data: CampaignList,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Older (or newer) campaigns."""
    await query.answer()
    if isinstance(query.message, Message):
        await list_campaigns(query.message, session, settings, i18n, max(0, callback_data.page))


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


async def apply(
    query: CallbackQuery,
    campaign_id: int,
    change: Awaitable[Campaign] | None,
    done: str,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Make the change (None: only look), say how it went and redraw the campaign's card."""
    notice: str | None = done
    try:
        campaign = await (change or lifecycle.get_campaign(session, campaign_id))
    except NotFoundError:
        await query.answer(_("That campaign does not exist."), show_alert=True)
        return
    except StateError:
        await query.answer(
            _("That is not possible now: the campaign was changed meanwhile."), show_alert=True
        )
        campaign = await lifecycle.get_campaign(session, campaign_id)
        notice = None
    metrics = await compute_metrics(
        session, campaign, conversion_days=settings.campaign_conversion_days
    )
    if notice is not None:
        await query.answer(notice)
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    await edit_message(
        query.message, campaign_text(campaign, metrics, ctx), control_markup(campaign)
    )


async def pause(
    query: CallbackQuery,
    callback_data: CampaignControl,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Pause: its waiting messages are held back."""
    campaign_id = callback_data.campaign_id
    change = lifecycle.pause(session, reader, campaign_id)
    done = _("Paused: its waiting messages are held back.")
    await apply(query, campaign_id, change, done, session, settings, i18n)


async def resume(
    query: CallbackQuery,
    callback_data: CampaignControl,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Resume: its waiting messages are queued again."""
    campaign_id = callback_data.campaign_id
    change = lifecycle.resume(session, reader, campaign_id, now=utcnow())
    done = _("Resumed: its waiting messages are queued again.")
    await apply(query, campaign_id, change, done, session, settings, i18n)


async def cancel(
    query: CallbackQuery,
    callback_data: CampaignControl,
    session: AsyncSession,
    settings: Settings,
    reader: Reader,
    i18n: I18n,
) -> None:
    """Cancel: nothing more of it is sent."""
    campaign_id = callback_data.campaign_id
    change = lifecycle.cancel(session, reader, campaign_id)
    done = _("Cancelled: nothing more of it is sent.")
    await apply(query, campaign_id, change, done, session, settings, i18n)


async def refresh(
    query: CallbackQuery,
    callback_data: CampaignControl,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The card with fresh numbers."""
    await apply(query, callback_data.campaign_id, None, "", session, settings, i18n)


def build_router() -> Router:
    """/campaigns and its controls (admins only)."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.callback_query.filter(HasRole(Role.ADMIN))
    router.message.register(campaigns_command, Command("campaigns"))
    router.callback_query.register(
        campaigns_section, AdminMenu.filter(F.section.in_({"campaigns", "newcampaign"}))
    )
    router.callback_query.register(campaigns_page, CampaignList.filter())
    control = CampaignControl.filter
    router.callback_query.register(pause, control(F.action == ControlAction.PAUSE))
    router.callback_query.register(resume, control(F.action == ControlAction.RESUME))
    router.callback_query.register(cancel, control(F.action == ControlAction.CANCEL))
    router.callback_query.register(refresh, control(F.action == ControlAction.REFRESH))
    return router
