"""/challenges: reading challenges to join, progress and streaks, team leaderboards (by
district, school or department), the certificate at completion and the reader's badges;
/newchallenge for organisers.

Badges are shown here rather than in /read: /read is the quick log of books, while this is
the screen of reading goals and what they earn (streak, certificates), where a reader looks
for their achievements, as Beanstack shows badges beside its challenges."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Challenge, DbInt, Reader, display_name, utcnow
from bot.notices.reading import BADGE_NAMES
from bot.services.errors import DomainError, NotFoundError
from bot.services.reading import badges, challenges
from bot.services.reading.teams import Board, TeamKind, TeamName
from handlers.reading.callbacks import button
from handlers.reading.completion import challenge_title, send_certificate, send_certificates
from handlers.reading.lists import Staff
from handlers.reading.lists import refusal as list_refusal


class ChallengeAct(StrEnum):
    JOIN = "j"
    BOARD = "b"
    CERTIFICATE = "c"
    BADGES = "g"  # challenge_id: 0


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
    if isinstance(error, challenges.BadChallenge) and error.reason == "team":
        return _(
            "Teams are team (by district), team:school (by school or university) or "
            "team:department (by college or department)."
        )
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
            + "\n"
            + _(
                "For teams by school or university, write team:school; by college or "
                "department, team:department."
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
        if challenge.team_kind != TeamKind.NONE:
            rows.append(
                [
                    button(
                        _("👥 Teams: {title}").format(title=challenge_title(challenge, language)),
                        ChallengeData(action=ChallengeAct.BOARD, challenge_id=challenge.id),
                    )
                ]
            )
    rows.append([await badges_button(session, reader)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def badges_button(session: AsyncSession, reader: Reader) -> InlineKeyboardButton:
    """🎖 My badges, with how many of them the reader has."""
    earned = await badges.badges_of(session, reader.id)
    return button(
        _("🎖 My badges ({count} of {total})").format(count=len(earned), total=len(badges.Badge)),
        ChallengeData(action=ChallengeAct.BADGES, challenge_id=0),
    )


def team_kind_text(kind: TeamKind) -> str:
    """How a challenge's teams are formed."""
    texts = {
        TeamKind.DISTRICT: _("teams by district"),
        TeamKind.SCHOOL: _("teams by school or university"),
        TeamKind.DEPARTMENT: _("teams by college or department"),
    }
    return texts.get(kind, "")


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
    text = _("Challenge {id} is open: {title}. Readers find it in /challenges.").format(
        id=made.id, title=escape(challenge_title(made, language))
    )
    if made.team_kind != TeamKind.NONE:
        text += "\n👥 " + team_kind_text(TeamKind(made.team_kind))
    await message.answer(text)


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
        joined = await challenges.join(session, reader, callback_data.challenge_id, utcnow())
    except DomainError as exc:
        await query.answer(refusal(exc, settings, language), show_alert=True)
        return
    alone = joined.kind is not TeamKind.NONE and joined.team is None
    await query.answer(joined_text(joined.kind, joined.team, language), show_alert=alone)
    text, markup = await overview(session, reader, settings, language)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    await send_certificates(query.message, reader, joined.completed, language)


def joined_text(kind: TeamKind, team: TeamName | None, language: str) -> str:
    """What joining says: the reader's team, or that they take part alone and why."""
    if kind is TeamKind.NONE:
        return _("You joined. Every book you mark read counts.")
    if team is not None:
        return _("You joined, in the team of {team}. Every book you mark read counts.").format(
            team=display_name(team.name, team.name_en, language)
        )
    alone = {
        TeamKind.DISTRICT: _(
            "You joined, alone: you have no home district in /settings, so your books count "
            "for you but for no team."
        ),
        TeamKind.SCHOOL: _(
            "You joined, alone: we do not know your school or university (follow its library, "
            "or collect a hold there), so your books count for you but for no team."
        ),
        TeamKind.DEPARTMENT: _(
            "You joined, alone: you have not picked your college or department in /settings, "
            "so your books count for you but for no team."
        ),
    }
    return alone[kind]


async def board(
    query: CallbackQuery,
    callback_data: ChallengeData,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """👥 Teams: each team's counts (no names of readers)."""
    language = i18n.current_locale
    try:
        found = await challenges.leaderboard(session, callback_data.challenge_id)
    except DomainError as exc:
        await query.answer(refusal(exc, settings, language), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(board_text(found, language))


def board_text(found: Board, language: str) -> str:
    """A leaderboard: the teams' books and readers, and how many take part alone."""
    lines = [
        _("👥 <b>{title}</b>: {teams}").format(
            title=escape(challenge_title(found.challenge, language)),
            teams=team_kind_text(found.kind),
        )
    ]
    for place, team in enumerate(found.teams, start=1):
        name = display_name(team.name.name, team.name.name_en, language) if team.name else "—"
        lines.append(
            _("{place}. {team}: {books} books by {readers} readers").format(
                place=place, team=escape(name), books=team.reads, readers=team.participants
            )
        )
    if not found.teams:
        lines.append(_("No team has joined yet."))
    if found.alone:
        lines.append(
            _("Taking part alone (no team of this kind): {readers} readers.").format(
                readers=found.alone
            )
        )
    return "\n".join(lines)


async def my_badges(
    query: CallbackQuery, session: AsyncSession, reader: Reader, settings: Settings, i18n: I18n
) -> None:
    """🎖 My badges: those earned, with their dates, and those still to earn."""
    earned = await badges.badges_of(session, reader.id)
    await query.answer()
    have = {item.badge for item in earned}
    lines = [_("🎖 <b>Your badges</b>")]
    if not earned:
        lines.append(_("None yet: log your first book with /read."))
    for item in earned:
        lines.append(
            _("{badge} — {day}").format(
                badge=_(BADGE_NAMES[item.badge.value]),
                day=day_text(settings, item.awarded_at, i18n.current_locale),
            )
        )
    missing = [badge for badge in badges.Badge if badge not in have]
    if missing:
        lines += ["", _("Still to earn:")]
        lines += ["▫️ " + _(BADGE_NAMES[badge.value]) for badge in missing]
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
    router.callback_query.register(my_badges, ChallengeData.filter(F.action == ChallengeAct.BADGES))
    return router
