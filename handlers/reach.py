"""/reach: admins see each district's reach now, the under-reached marked, a chart and the trend."""

from __future__ import annotations

import asyncio
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Role, display_name, utcnow
from bot.notices.campaigns import listing, number, percent
from bot.notices.registry import Context
from bot.services import charts, reach
from bot.services.reach import DistrictReach, ReachRule, ReachView
from handlers.admin_callbacks import AdminMenu
from handlers.common import rate_text
from handlers.filters import HasRole, Onboarded


def rule_of(settings: Settings) -> ReachRule:
    """The under-reached rule the settings choose."""
    return ReachRule(settings.reach_rule, settings.reach_threshold_share)


def _name(district: DistrictReach, language: str) -> str:
    return display_name(district.name, district.name_en, language)


def _trend(change: float | None, language: str) -> str:
    if change is None:
        return _("new")
    if abs(change) < 0.5:
        return "→ 0"
    return ("▲ +" if change > 0 else "▼ -") + number(abs(change), language)


def _rule_text(settings: Settings, threshold: float | None, language: str) -> str:
    if settings.reach_rule == "bottom_quarter":
        text = _("Under-reached: the lowest quarter of districts by index.")
    else:
        text = _("Under-reached: an index below {share} of the alliance median.").format(
            share=percent(settings.reach_threshold_share, language)
        )
    if threshold is not None:
        text += " " + _("Threshold now: {threshold}.").format(threshold=number(threshold, language))
    return text


def _district_lines(
    rank: int, district: DistrictReach, view: ReachView, language: str
) -> list[str]:
    mark = "⚠️ " if district.under_reached else ""
    index = (
        _("no population")
        if district.reach_index is None
        else number(district.reach_index, language)
    )
    change = _trend(reach.trend(district, view.previous.districts), language)
    return [
        f"{rank}. {mark}<b>{escape(_name(district, language))}</b>: {index} ({change})",
        "   "
        + _(
            "per 10,000: {active} active readers · {searches} searches · "
            "{holds} holds · {registrations} registrations · {attended} attended"
        ).format(
            active=rate_text(district.per_10k("active_readers")),
            searches=rate_text(district.per_10k("searches")),
            holds=rate_text(district.per_10k("holds")),
            registrations=rate_text(district.per_10k("registrations")),
            attended=rate_text(district.per_10k("attendance")),
        ),
    ]


def reach_text(view: ReachView, settings: Settings, ctx: Context) -> str:
    """The ranking with the under-reached marked and the trend against the previous period."""
    current, language = view.current, ctx.language
    lines = [
        _("<b>Reach by district</b>, {start} – {end}").format(
            start=ctx.day(current.period_start), end=ctx.day(current.period_end)
        ),
        _("Live figures, counted now ({when}).").format(when=ctx.when(current.period_end)),
        _("Index 100 = the alliance average; trend against the previous {days} days.").format(
            days=(current.period_end - current.period_start).days
        ),
        "",
    ]
    for rank, district in enumerate(current.districts, start=1):
        lines += _district_lines(rank, district, view, language)
    lines.append("")
    under = current.under_reached
    if under:
        lines.append(
            _("⚠️ Under-reached: {districts}.").format(
                districts=escape(listing((_name(d, language) for d in under), language))
            )
        )
    else:
        lines.append(_("No district is under-reached."))
    lines.append(_rule_text(settings, current.threshold, language))
    lines.append(_("Send /newcampaign to reach them."))
    return "\n".join(lines)


async def reach_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/reach (it takes nothing after it: the period is a setting)."""
    if command.args and command.args.strip():
        await message.answer(
            _("/reach takes nothing after it: it always covers the last {days} days.").format(
                days=settings.reach_period_days
            )
        )
        return
    await show_reach(message, session, settings, i18n)


async def show_reach(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The ranking, measured now, then the chart."""
    view = await reach.current_view(
        session, now=utcnow(), days=settings.reach_period_days, rule=rule_of(settings)
    )
    ctx = Context(language=i18n.current_locale, translator=i18n, settings=settings)
    await message.answer(reach_text(view, settings, ctx))
    if not any(d.reach_index is not None for d in view.current.districts):
        return
    labels = await asyncio.to_thread(charts.label_language, i18n.current_locale)
    axis_label = i18n.gettext("Reach index", locale=labels)
    png = await asyncio.to_thread(
        charts.reach_chart, view.current, view.previous, axis_label=axis_label
    )
    await message.answer_photo(
        BufferedInputFile(png, "reach.png"),
        caption=_(
            "Reach index per district: red bars are under-reached, the dashed line is the "
            "threshold, the dotted line the alliance average (100), dashes the previous period."
        ),
    )


async def reach_section(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The admin menu's Reach: the same as /reach."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await show_reach(callback.message, session, settings, i18n)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    router.message.filter(Onboarded())
    router.message.register(reach_command, Command("reach"), HasRole(Role.ADMIN))
    router.callback_query.register(
        reach_section, AdminMenu.filter(F.section == "reach"), HasRole(Role.ADMIN)
    )
    return router
