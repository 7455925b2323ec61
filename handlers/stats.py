"""/stats [period]: alliance figures per district and library, charts as photos, a CSV file."""

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
from bot.i18n import Gettext
from bot.models import Role, display_name, utcnow
from bot.notices.campaigns import number
from bot.notices.registry import Context
from bot.services import charts, statistics
from bot.services.statistics import AllianceStatistics, BadPeriodError, DistrictStatistics
from handlers.admin import fit_lines
from handlers.admin_callbacks import AdminMenu
from handlers.common import rate_text
from handlers.filters import HasRole
from handlers.partners import send_partner_statistics

UNMET_SHOWN = 3
LIBRARIES_SHOWN = 40


def period_refusal(error: BadPeriodError) -> str:
    """Why a period was refused, with the forms that work."""
    reasons = {
        "format": _("I don't understand the period “{text}”."),
        "bad_date": _("“{text}” is not a real date."),
        "order": _("The period “{text}” ends before it starts."),
        "too_long": _("The period “{text}” is too long (at most 10 years)."),
        "empty": _("The period “{text}” is empty."),
        "future": _("The period “{text}” has not started yet."),
    }
    return (
        reasons.get(error.reason, reasons["format"]).format(text=escape(error.text))
        + "\n"
        + _(
            "Try /stats 7d, /stats 30d, /stats 90d, a month like /stats 2026-11, "
            "or a span like /stats 2026-09-01..2026-11-30."
        )
    )


def _district_name(row: DistrictStatistics, language: str) -> str:
    if row.district_id is None or row.name is None:
        return _("No district")
    return f"{row.code} {display_name(row.name, row.name_en, language)}"


def _totals(stats: AllianceStatistics, language: str) -> list[str]:
    def n(value: int) -> str:
        return number(value, language)

    t = stats.totals
    return [
        _("Readers: {readers} (new: {new}), active: {active}").format(
            readers=n(t.readers), new=n(t.new_readers), active=n(t.active_readers)
        ),
        _("Searches: {searches}, finding nothing: {zero}").format(
            searches=n(t.searches), zero=n(t.zero_hit_searches)
        ),
        _("Holds placed: {placed}, collected: {collected}").format(
            placed=n(t.holds_placed), collected=n(t.holds_collected)
        ),
        _("Event registrations: {registrations}, attended: {attended}").format(
            registrations=n(t.registrations), attended=n(t.attended)
        ),
        _("Books marked read: {reads}, readers in challenges: {participants}").format(
            reads=n(t.reads), participants=n(t.challenge_participants)
        ),
    ]


def _district_line(row: DistrictStatistics, language: str) -> str:
    def n(value: int) -> str:
        return number(value, language)

    c = row.counts
    per_10k = row.active_per_10k
    return (
        "• "
        + escape(_district_name(row, language))
        + ": "
        + _(
            "active {active}{per10k}, searches {searches} ({zero} found nothing), "
            "holds {placed}/{collected}, registrations {registrations}/{attended}, "
            "reads {reads}"
        ).format(
            reads=n(c.reads),
            active=n(c.active_readers),
            per10k=""
            if per_10k is None
            else " (" + _("{value} per 10,000").format(value=rate_text(per_10k)) + ")",
            searches=n(c.searches),
            zero=n(c.zero_hit_searches),
            placed=n(c.holds_placed),
            collected=n(c.holds_collected),
            registrations=n(c.registrations),
            attended=n(c.attended),
        )
    )


def _unmet_lines(stats: AllianceStatistics, language: str) -> list[str]:
    lines = ["", _("<b>Top unmet demand</b> (searches that found nothing)")]
    by_id = {row.district_id: row for row in stats.districts}
    for district_id, items in stats.unmet_by_district.items():
        found = by_id.get(district_id)
        label = _district_name(found, language) if found else _("No district")
        queries = "; ".join(
            f"“{escape(item.query)}” ×{number(item.searches, language)}"
            for item in items[:UNMET_SHOWN]
        )
        lines.append(f"• {escape(label)}: {queries}")
    return lines


def summary_text(stats: AllianceStatistics, ctx: Context) -> str:
    """The figures as a message: totals, each district, each library, unmet demand."""
    language = ctx.language
    lines = [
        _("📊 Statistics for {period} ({start} – {end})").format(
            period=escape(stats.period.label),
            start=ctx.when(stats.period.start),
            end=ctx.when(stats.period.end),
        ),
        *_totals(stats, language),
    ]
    if stats.districts:
        lines += ["", _("<b>Per district</b>")]
    lines += [_district_line(row, language) for row in stats.districts]
    if stats.libraries:
        lines += ["", _("<b>Per library</b> (holds placed/collected, registrations/attended)")]
    for library in stats.libraries[:LIBRARIES_SHOWN]:
        lines.append(
            f"• {escape(library.code)}: {number(library.holds_placed, language)}/"
            f"{number(library.holds_collected, language)}, "
            f"{number(library.registrations, language)}/{number(library.attended, language)}"
        )
    if len(stats.libraries) > LIBRARIES_SHOWN:
        lines.append(
            _("… and {count} more libraries: every one is in the CSV file.").format(
                count=number(len(stats.libraries) - LIBRARIES_SHOWN, language)
            )
        )
    if stats.unmet:
        lines += _unmet_lines(stats, language)
    return fit_lines(lines)


def _chart_words(_: Gettext) -> dict[str, str]:
    return {
        "districts": _("Per district"),
        "libraries": _("Per library"),
        "active": _("Active readers"),
        "searches": _("Searches"),
        "zero": _("Found nothing"),
        "placed": _("Holds placed"),
        "collected": _("Holds collected"),
        "registrations": _("Registrations"),
        "attended": _("Attended"),
    }


def chart_labels(i18n: I18n, language: str) -> dict[str, str]:
    """Chart words: translated when a font can draw them, else English (may scan the fonts:
    call it off the event loop)."""
    language = charts.label_language(language)
    return _chart_words(lambda text: i18n.gettext(text, locale=language))


def render_charts(stats: AllianceStatistics, labels: dict[str, str]) -> list[tuple[str, bytes]]:
    """The PNG charts (blocking: run in a thread)."""
    rendered: list[tuple[str, bytes]] = []
    districts = [row for row in stats.districts if row.district_id is not None]
    if districts:
        rendered.append(
            (
                "districts",
                charts.grouped_bar_chart(
                    f"{labels['districts']} · {stats.period.label}",
                    [row.code or "" for row in districts],
                    {
                        labels["active"]: [row.counts.active_readers for row in districts],
                        labels["searches"]: [row.counts.searches for row in districts],
                        labels["zero"]: [row.counts.zero_hit_searches for row in districts],
                        labels["placed"]: [row.counts.holds_placed for row in districts],
                        labels["registrations"]: [row.counts.registrations for row in districts],
                    },
                ),
            )
        )
    if stats.libraries:
        rendered.append(
            (
                "libraries",
                charts.grouped_bar_chart(
                    f"{labels['libraries']} · {stats.period.label}",
                    [library.code for library in stats.libraries],
                    {
                        labels["placed"]: [lib.holds_placed for lib in stats.libraries],
                        labels["collected"]: [lib.holds_collected for lib in stats.libraries],
                        labels["registrations"]: [lib.registrations for lib in stats.libraries],
                        labels["attended"]: [lib.attended for lib in stats.libraries],
                    },
                ),
            )
        )
    return rendered


async def send_statistics(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, period_text: str | None
) -> None:
    """Parse the period, count, and send the summary, the charts and the CSV."""
    try:
        period = statistics.parse_period(period_text, now=utcnow(), zone=settings.zone)
    except BadPeriodError as exc:
        await message.answer(period_refusal(exc))
        return
    stats = await statistics.alliance_statistics(session, period)
    language = i18n.current_locale
    ctx = Context(language=language, translator=i18n, settings=settings)
    await message.answer(summary_text(stats, ctx))
    await send_partner_statistics(message, session, period, language)
    captions = {
        "districts": _(
            "Per district: active readers, searches, searches finding nothing, "
            "holds placed, registrations"
        ),
        "libraries": _("Per library: holds placed and collected, registrations, attendance"),
    }
    labels = await asyncio.to_thread(chart_labels, i18n, language)
    pictures = await asyncio.to_thread(render_charts, stats, labels)
    for name, png in pictures:
        await message.answer_photo(
            BufferedInputFile(png, filename=f"stats-{name}.png"), caption=captions[name]
        )
    label = stats.period.label.replace("..", "_")
    await message.answer_document(
        BufferedInputFile(
            statistics.statistics_csv(stats).encode("utf-8"), filename=f"stats-{label}.csv"
        ),
        caption=_("Statistics for {period} as CSV").format(period=escape(stats.period.label)),
    )


async def stats_command(
    message: Message, command: CommandObject, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """/stats [period]."""
    await send_statistics(message, session, settings, i18n, command.args)


async def stats_section(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """The admin menu's Statistics: the last 30 days."""
    await callback.answer()
    if isinstance(callback.message, Message):
        await send_statistics(callback.message, session, settings, i18n, None)


def build_router() -> Router:
    """A fresh router with this module's handlers (one per dispatcher)."""
    router = Router(name=__name__)
    admin = HasRole(Role.ADMIN)
    router.message.filter(admin)
    router.callback_query.filter(admin)
    router.message.register(stats_command, Command("stats"))
    router.callback_query.register(stats_section, AdminMenu.filter(F.section == "stats"))
    return router
