"""/popular: the most reserved, most searched-for and most read works this week or month, in
the reader's district, university library, the whole alliance or their age group; new
arrivals per library."""

from __future__ import annotations

from enum import StrEnum
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import AgeGroup, Reader, display_name, utcnow
from bot.services.reading import rankings
from bot.services.reading.rankings import Metric, Period, Scope
from handlers.reading.callbacks import bot_username, button, title_for, work_link


class PopAct(StrEnum):
    SHOW = "s"
    ARRIVALS = "a"


class PopularData(CallbackData, prefix="pop"):
    """Show a ranking (metric, period, scope) or the new arrivals."""

    action: PopAct
    metric: Metric = Metric.RESERVED
    period: Period = Period.WEEK
    scope: Scope = Scope.ALLIANCE


def metric_label(metric: Metric) -> str:
    return {
        Metric.RESERVED: _("🔖 Most reserved"),
        Metric.SEARCHED: _("🔎 Most searched-for"),
        Metric.READ: _("📗 Most read"),
    }[metric]


def period_label(period: Period) -> str:
    return {Period.WEEK: _("This week"), Period.MONTH: _("This month")}[period]


def scope_label(scope: Scope) -> str:
    return {
        Scope.DISTRICT: _("My district"),
        Scope.INSTITUTION: _("My university"),
        Scope.ALLIANCE: _("Alliance"),
        Scope.AGE: _("My age group"),
    }[scope]


def age_label(age: AgeGroup) -> str:
    return {
        AgeGroup.CHILDREN: _("children"),
        AgeGroup.STUDENTS: _("students"),
        AgeGroup.ADULTS: _("adults"),
        AgeGroup.SENIORS: _("seniors"),
    }[age]


def unavailable_text(scope: Scope) -> str:
    """Why the reader has no ranking of this scope."""
    return {
        Scope.DISTRICT: _("Set your home district in /settings to see your district's ranking."),
        Scope.INSTITUTION: _(
            "Follow your university library (/follow) or pick up a hold there to see its ranking."
        ),
        Scope.AGE: _("Your age group is not known, so there is no age-group ranking for you."),
        Scope.ALLIANCE: "",
    }[scope]


def where_text(where: rankings.ScopeOf, language: str) -> str:
    if where.library is not None:
        return escape(display_name(where.library.name, where.library.name_en, language))
    if where.age_group is not None:
        return _("readers who are {group}").format(group=age_label(where.age_group))
    if where.district_id is not None:
        return _("your district")
    return _("the whole alliance")


def ranking_text(ranking: rankings.Ranking, username: str, language: str) -> str:
    head = _("{metric} · {period} · {where}").format(
        metric=metric_label(ranking.metric),
        period=period_label(ranking.period),
        where=where_text(ranking.where, language),
    )
    lines = [f"<b>{head}</b>", ""]
    if not ranking.works:
        lines.append(
            _(
                "No book has {count} or more different readers behind it here yet. "
                "A ranking only shows books that many readers chose."
            ).format(count=rankings.MIN_READERS)
        )
    for number, work in enumerate(ranking.works, start=1):
        title = escape(title_for(work.title, work.original_title, language))
        lines.append(
            f'{number}. <a href="{work_link(username, work.work_id)}">{title}</a> — '
            + _("{count} readers").format(count=work.readers)
        )
    lines.append("")
    if ranking.metric is Metric.SEARCHED:
        lines.append(_("<i>Searched-for: readers whose search led them to open the book.</i>"))
    lines.append(
        _(
            "<i>Counts are of different readers; a book shows once {count} or more chose it.</i>"
        ).format(count=rankings.MIN_READERS)
    )
    return "\n".join(lines)


def popular_keyboard(metric: Metric, period: Period, scope: Scope) -> InlineKeyboardMarkup:
    def pick(label: str, chosen: bool, data: PopularData) -> InlineKeyboardButton:
        return button(("• " if chosen else "") + label, data)

    show = PopAct.SHOW
    rows = [
        [
            pick(
                metric_label(m),
                m is metric,
                PopularData(action=show, metric=m, period=period, scope=scope),
            )
            for m in Metric
        ],
        [
            pick(
                period_label(p),
                p is period,
                PopularData(action=show, metric=metric, period=p, scope=scope),
            )
            for p in Period
        ],
        [
            pick(
                scope_label(s),
                s is scope,
                PopularData(action=show, metric=metric, period=period, scope=s),
            )
            for s in Scope
        ],
        [button(_("🆕 New arrivals"), PopularData(action=PopAct.ARRIVALS))],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """Redraw in place, without link previews; the same view tapped again is no error."""
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup, disable_web_page_preview=True)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


async def _ranking_view(
    session: AsyncSession,
    reader: Reader,
    data: PopularData,
    username: str,
    language: str,
) -> str:
    try:
        ranking = await rankings.ranking(
            session, reader, data.metric, data.period, data.scope, utcnow()
        )
    except rankings.ScopeUnavailable as exc:
        return unavailable_text(exc.scope)
    return ranking_text(ranking, username, language)


async def popular(
    message: Message, session: AsyncSession, reader: Reader, bot: Bot, i18n: I18n
) -> None:
    """/popular: the reader's district's most reserved this week (the alliance's without one)."""
    scope = Scope.DISTRICT if reader.district_id is not None else Scope.ALLIANCE
    data = PopularData(action=PopAct.SHOW, scope=scope)
    text = await _ranking_view(session, reader, data, await bot_username(bot), i18n.current_locale)
    await message.answer(
        text,
        reply_markup=popular_keyboard(data.metric, data.period, data.scope),
        disable_web_page_preview=True,
    )


async def show_ranking(
    query: CallbackQuery,
    callback_data: PopularData,
    session: AsyncSession,
    reader: Reader,
    bot: Bot,
    i18n: I18n,
) -> None:
    """A metric, period or scope button: the ranking in place."""
    text = await _ranking_view(
        session, reader, callback_data, await bot_username(bot), i18n.current_locale
    )
    await query.answer()
    await _edit(
        query,
        text,
        popular_keyboard(callback_data.metric, callback_data.period, callback_data.scope),
    )


def arrivals_text(found: list[rankings.Arrivals], username: str, language: str) -> str:
    lines = [_("<b>🆕 New arrivals, last {days} days</b>").format(days=rankings.ARRIVALS_DAYS)]
    if not found:
        lines.append(_("No new books arrived near you lately."))
    for arrivals in found:
        library = arrivals.library
        lines.append("")
        lines.append(f"🏛 <b>{escape(display_name(library.name, library.name_en, language))}</b>")
        for work in arrivals.works:
            title = escape(title_for(work.title, work.original_title, language))
            lines.append(f'• <a href="{work_link(username, work.work_id)}">{title}</a>')
    return "\n".join(lines)


async def show_arrivals(
    query: CallbackQuery, session: AsyncSession, reader: Reader, bot: Bot, i18n: I18n
) -> None:
    """🆕 New arrivals: per library near the reader."""
    found = await rankings.new_arrivals(session, reader, utcnow())
    await query.answer()
    scope = Scope.DISTRICT if reader.district_id is not None else Scope.ALLIANCE
    await _edit(
        query,
        arrivals_text(found, await bot_username(bot), i18n.current_locale),
        popular_keyboard(Metric.RESERVED, Period.WEEK, scope),
    )


def build_router() -> Router:
    """/popular and its buttons."""
    router = Router(name=__name__)
    router.message.register(popular, Command("popular"))
    router.callback_query.register(show_ranking, PopularData.filter(F.action == PopAct.SHOW))
    router.callback_query.register(show_arrivals, PopularData.filter(F.action == PopAct.ARRIVALS))
    return router
