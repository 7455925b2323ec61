"""/evaluation [PERIOD] (admins): the alliance's evaluation report per member library, as
PNG pages (table and chart, in the admin's language) and a CSV."""

from __future__ import annotations

import asyncio
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import N_
from bot.models import Role, utcnow
from bot.services import charts, reach, statistics
from bot.services.bookstores import evaluation, evaluation_pages
from bot.services.bookstores.evaluation import Evaluation
from bot.services.reach import ReachRule
from bot.services.statistics import BadPeriodError
from handlers.admin import fit_lines
from handlers.bookstores.reports import period_refusal
from handlers.bookstores.wording import money
from handlers.filters import HasRole

# Headings of the PNG pages, translated when a font can draw them.
PAGE_WORDS = {
    "title": N_("Evaluation of member libraries"),
    "library": N_("Library"),
    "lent": N_("Lent to others"),
    "events": N_("Events"),
    "attended": N_("Attended"),
    "reached": N_("Reached (under-reached)"),
    "suggestions": N_("Suggestions bought"),
    "vouchers": N_("Vouchers"),
    "spend": N_("Spent ¥"),
    "wait": N_("Hold→ready h"),
    "rating": N_("Rating (n)"),
}


def evaluation_text(report: Evaluation, language: str) -> str:
    """The report's summary in chat: one line per library that did anything."""
    lines = [
        _("📋 <b>Evaluation of member libraries</b>, {period}").format(
            period=escape(report.period.label)
        )
    ]
    for row in report.libraries:
        wait = "—" if row.hold_to_ready_hours is None else f"{row.hold_to_ready_hours:.0f}"
        rating = "—" if row.rating is None else f"{row.rating:.1f}"
        lines.append(
            _(
                "• {code}: lent {lent}, events {events} ({attended} attended), reached "
                "{reached} in under-reached districts, suggestions {suggestions}, vouchers "
                "{vouchers} ({spend}), hold to ready {wait} h, rating {rating} ({feedback})"
            ).format(
                code=escape(row.library.code),
                lent=row.filled_for_others,
                events=row.events,
                attended=row.attended,
                reached=row.reached_under_reached,
                suggestions=row.suggestions,
                vouchers=row.vouchers,
                spend=money(row.voucher_spend, language),
                wait=wait,
                rating=rating,
                feedback=row.feedback,
            )
        )
    return fit_lines(lines)


async def evaluation_command(
    message: Message, command: CommandObject, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """/evaluation [PERIOD]."""
    try:
        period = statistics.parse_period(command.args, now=utcnow(), zone=settings.zone)
    except BadPeriodError as exc:
        await message.answer(period_refusal(exc, "evaluation"))
        return
    rule = ReachRule(settings.reach_rule, settings.reach_threshold_share)
    under_reached = await reach.under_reached_district_ids(
        session, now=min(period.end, utcnow()), days=settings.reach_period_days, rule=rule
    )
    report = await evaluation.evaluate(session, period, under_reached=under_reached)
    language = i18n.current_locale
    await message.answer(evaluation_text(report, language))
    drawn_in = await asyncio.to_thread(charts.label_language, language)
    words = {key: i18n.gettext(text, locale=drawn_in) for key, text in PAGE_WORDS.items()}
    pictures = await asyncio.to_thread(evaluation_pages.pages, report, words, drawn_in)
    label = report.period.label.replace("..", "_")
    for number, png in enumerate(pictures, start=1):
        await message.answer_photo(
            BufferedInputFile(png, filename=f"evaluation-{label}-{number}.png")
        )
    await message.answer_document(
        BufferedInputFile(
            evaluation.evaluation_csv(report).encode("utf-8"), filename=f"evaluation-{label}.csv"
        ),
        caption=_("Evaluation for {period} as CSV").format(period=escape(report.period.label)),
    )


def build_router() -> Router:
    """/evaluation for admins."""
    router = Router(name=__name__)
    router.message.filter(HasRole(Role.ADMIN))
    router.message.register(evaluation_command, Command("evaluation"))
    return router
