"""/challenges: reading challenges to join, progress and streaks, team leaderboards by
district, and the certificate at completion; /newchallenge for organisers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Challenge, DbInt, Reader, utcnow
from bot.services.errors import DomainError, NotFoundError
from bot.services.reading import challenges
from handlers.reading.callbacks import button
from handlers.reading.completion import announce_completions, challenge_title, send_certificate
from handlers.reading.lists import Staff
from handlers.reading.lists import refusal as list_refusal


class ChallengeAct(StrEnum):
    JOIN = "j"
    BOARD = "b"
    CERTIFICATE = "c"


class ChallengeData(CallbackData, prefix="ch"):
    action: ChallengeAct
    challenge_id: DbInt


def day_text(settings: Settings, moment: datetime, language: str) -> str:
    """A date in the alliance's time zone."""
    return format_date(
        moment.astimezone(settings.zone).date(),
        "yyyy-MM-dd",
        locale="zh_CN" if language == "zh" else "en_GB",
    )


def refusal(error: DomainError, settings: Settings, language: str) -> str:
    if isinstance(error, challenges.ChallengeEnded):
        return _("This challenge ended on {day}; it cannot be joined or set any more.").format(
            day=day_text(settings, error.ended, language)
        )
    if isinstance(error, challenges.BadChallenge) and error.reason == "list":
        return _("A list to finish must be published and have books on it.")
    if isinstance(error, challenges.BadChallenge):
        return (
            _(
                "Send /newchallenge GOAL FROM..TO [team] 中文标题 | English title, e.g. "
                "/newchallenge 5 2026-12-01..2026-12-31 team 冬日读书 | Winter reading "
                "(a goal of 1 to {goal} books, a period of at most {days} days)."
            ).format(goal=challenges.MAX_GOAL, days=challenges.MAX_DAYS)
            + "\n"
            + _(
                "To finish a reading list, give list:LIST_NUMBER as the goal; to explore a CLC "
                "class, GOAL:CLASS (e.g. 3:I for three books of literature)."
            )
        )
    if isinstance(error, NotFoundError):
        return _("That challenge is not there, or you have not completed it.")
    return list_refusal(error)


def aim(challenge: Challenge, target: int, title: str, period: str) -> str:
    """What the challenge asks, by its kind."""
    if challenge.kind == challenges.LIST:
        return _("<b>{title}</b>: finish reading list {list} ({goal} books), {period}").format(
            title=title, list=challenge.list_id, goal=target, period=period
        )
    if challenge.kind == challenges.CLC:
        return _("<b>{title}</b>: {goal} books of CLC class {cls}, {period}").format(
            title=title, goal=target, cls=challenge.clc_class, period=period
        )
    return _("<b>{title}</b>: {goal} books, {period}").format(
        title=title, goal=target, period=period
    )


async def overview(
    session: AsyncSession, reader: Reader, settings: Settings, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    now = utcnow()
    standings = await challenges.standings(session, reader, now)
    streak = await challenges.streak_weeks(session, reader.id, now, settings.zone)
    lines = [
        _("🏁 <b>Reading challenges</b>"),
        _("Your streak: {weeks} weeks in a row with a read.").format(weeks=streak),
        "",
    ]
    rows = []
    if not standings:
        lines.append(_("No challenge is open right now."))
    for standing in standings:
        challenge = standing.challenge
        title = escape(challenge_title(challenge, language))
        period = _("{start} to {end}").format(
            start=day_text(settings, challenge.starts_at, language),
            end=day_text(settings, challenge.ends_at, language),
        )
        lines.append(aim(challenge, standing.target, title, period))
        if standing.completed_at is not None:
            lines.append("   🏅 " + _("Completed!"))
            rows.append(
                [
                    button(
                        _("🏅 Certificate: {title}").format(
                            title=challenge_title(challenge, language)
                        ),
                        ChallengeData(action=ChallengeAct.CERTIFICATE, challenge_id=challenge.id),
                    )
                ]
            )
        elif standing.joined:
            lines.append(
                "   "
                + _("Your progress: {done} of {goal}").format(
                    done=min(standing.progress, standing.target), goal=standing.target
                )
            )
        else:
            rows.append(
                [
                    button(
                        _("Join: {title}").format(title=challenge_title(challenge, language)),
                        ChallengeData(action=ChallengeAct.JOIN, challenge_id=challenge.id),
                    )
                ]
            )
        if challenge.team_by_district:
            rows.append(
                [
                    button(
                        _("👥 Teams: {title}").format(title=challenge_title(challenge, language)),
                        ChallengeData(action=ChallengeAct.BOARD, challenge_id=challenge.id),
                    )
                ]
            )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def show_challenges(
    message: Message, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """/challenges: open challenges, the reader's progress and streak."""
    text, markup = await overview(session, reader, settings, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def new_challenge(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/newchallenge GOAL FROM..TO [team] 中文标题 | English title."""
    language = i18n.current_locale
    try:
        spec = challenges.parse_challenge(command.args or "", settings.zone)
        made = await challenges.create_challenge(session, reader, spec, utcnow())
    except DomainError as exc:
        await message.answer(refusal(exc, settings, language))
        return
    await message.answer(
        _("Challenge {id} is open: {title}. Readers find it in /challenges.").format(
            id=made.id, title=escape(challenge_title(made, language))
        )
    )


async def join(
    query: CallbackQuery,
    callback_data: ChallengeData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Join: take part (refused once the period has ended)."""
    language = i18n.current_locale
    try:
        await challenges.join(session, reader, callback_data.challenge_id, utcnow())
    except DomainError as exc:
        await query.answer(refusal(exc, settings, language), show_alert=True)
        return
    await query.answer(_("You joined. Every book you mark read counts."))
    text, markup = await overview(session, reader, settings, language)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    await announce_completions(query.message, session, reader, i18n)


async def board(
    query: CallbackQuery,
    callback_data: ChallengeData,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """👥 Teams: the districts' counts (no names of readers)."""
    language = i18n.current_locale
    try:
        challenge, teams = await challenges.leaderboard(session, callback_data.challenge_id)
    except DomainError as exc:
        await query.answer(refusal(exc, settings, language), show_alert=True)
        return
    await query.answer()
    lines = [
        _("👥 <b>{title}</b>: teams by district").format(
            title=escape(challenge_title(challenge, language))
        )
    ]
    for place, team in enumerate(teams, start=1):
        name = team.district.display_name(language) if team.district else _("no district")
        lines.append(
            _("{place}. {team}: {books} books by {readers} readers").format(
                place=place, team=escape(name), books=team.reads, readers=team.participants
            )
        )
    if not teams:
        lines.append(_("Nobody has joined yet."))
    if isinstance(query.message, Message):
        await query.message.answer("\n".join(lines))


async def certificate(
    query: CallbackQuery,
    callback_data: ChallengeData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
) -> None:
    """🏅 Certificate: send it again."""
    language = i18n.current_locale
    try:
        challenge = await challenges.completed(session, reader, callback_data.challenge_id)
    except DomainError as exc:
        await query.answer(refusal(exc, settings, language), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await send_certificate(query.message, reader, challenge, language)


def build_router() -> Router:
    """/challenges for everybody; /newchallenge for organisers."""
    router = Router(name=__name__)
    router.message.register(show_challenges, Command("challenges"))
    router.message.register(new_challenge, Command("newchallenge"), Staff())
    router.callback_query.register(join, ChallengeData.filter(F.action == ChallengeAct.JOIN))
    router.callback_query.register(board, ChallengeData.filter(F.action == ChallengeAct.BOARD))
    router.callback_query.register(
        certificate, ChallengeData.filter(F.action == ChallengeAct.CERTIFICATE)
    )
    return router
