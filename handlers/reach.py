"""/reach: admins see each district's reach, the under-reached marked, a chart and the trend."""

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
from bot.models import Role, utcnow
from bot.services import charts, reach
from bot.services.reach import DistrictReach, ReachRule, ReachView
from handlers.admin_callbacks import AdminMenu
from handlers.common import rate_text
from handlers.filters import HasRole, Onboarded


def rule_of(settings: Settings) -> ReachRule:
    """The under-reached rule the settings choose."""
    return ReachRule(settings.reach_rule, settings.reach_threshold_share)


def _name(district: DistrictReach, language: str) -> str:
    if language == "en" and district.name_en:
        return district.name_en
    return district.name


def _trend(change: float | None) -> str:
    if change is None:
        return _("new")
    if abs(change) < 0.5:
        return "→ 0"
    return f"▲ +{change:.0f}" if change > 0 else f"▼ {change:.0f}"


def _rule_text(settings: Settings, threshold: float | None) -> str:
    if settings.reach_rule == "bottom_quarter":
        text = _("Under-reached: the lowest quarter of districts by index.")
    else:
        text = _("Under-reached: an index below {share:.0%} of the alliance median.").format(
            share=settings.reach_threshold_share
        )
    if threshold is not None:
        text += " " + _("Threshold now: {threshold:.0f}.").format(threshold=threshold)
    return text


def reach_text(view: ReachView, settings: Settings, language: str) -> str:
    """The ranking with the under-reached marked and the trend against the previous period."""
    current = view.current
    zone = settings.zone
    lines = [
        _("<b>Reach by district</b>, {start} – {end}").format(
            start=current.period_start.astimezone(zone).strftime("%Y-%m-%d"),
            end=current.period_end.astimezone(zone).strftime("%Y-%m-%d"),
        ),
        _("Index 100 = the alliance average; trend against the previous {days} days.").format(
            days=(current.period_end - current.period_start).days
        ),
        "",
    ]
    for rank, district in enumerate(current.districts, start=1):
        mark = "⚠️ " if district.under_reached else ""
        if district.reach_index is None:
            index = _("no population")
        else:
            index = f"{district.reach_index:.0f}"
        lines.append(
            f"{rank}. {mark}<b>{escape(_name(district, language))}</b>: {index} "
            f"({_trend(reach.trend(district, view.previous.districts))})"
        )
        lines.append(
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
            )
        )
    lines.append("")
    under = current.under_reached
    if under:
        lines.append(
            _("⚠️ Under-reached: {districts}.").format(
                districts=escape(", ".join(_name(d, language) for d in under))
            )
        )
    else:
        lines.append(_("No district is under-reached."))
    lines.append(_rule_text(settings, current.threshold))
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
    """The ranking, then the chart."""
    view = await reach.current_view(
        session, now=utcnow(), days=settings.reach_period_days, rule=rule_of(settings)
    )
    await message.answer(reach_text(view, settings, i18n.current_locale))
    if not any(d.reach_index is not None for d in view.current.districts):
        return
    axis_label = i18n.gettext("Reach index", locale=charts.label_language(i18n.current_locale))
    png = await asyncio.to_thread(
        reach.chart_png, view.current, view.previous, axis_label=axis_label
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
