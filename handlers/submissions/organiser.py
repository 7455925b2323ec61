"""Organisers' commands for submission contests: open one, add judges, scores, results."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import ContestKind, Reader, Role, utcnow
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.times import local_time, parse_local
from bot.services.roles import AmbiguousReaderError, RoleSet, find_reader
from bot.services.submissions import entries, judging
from handlers.filters import HasRole


def usage() -> str:
    """How to write the organisers' contest commands."""
    return _(
        "<code>/newcontest essay|poetry|photo YYYY-MM-DD HH:MM TITLE</code> opens a contest "
        "until that deadline; <code>/judge CONTEST_ID @username</code> adds a judge; "
        "<code>/contestscores CONTEST_ID</code> sends the scores as CSV; "
        "<code>/publishresults CONTEST_ID</code> publishes the results after the deadline."
    )


async def new_contest(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
) -> None:
    """/newcontest KIND DEADLINE TITLE."""
    words = (command.args or "").split(maxsplit=3)
    if len(words) < 4 or words[0] not in {kind.value for kind in ContestKind}:
        await message.answer(usage())
        return
    try:
        deadline = parse_local(f"{words[1]} {words[2]}", settings.zone, now=utcnow())
        contest = await entries.create_contest(
            session,
            reader,
            roles,
            title=words[3].strip(),
            kind=ContestKind(words[0]),
            deadline=deadline,
            now=utcnow(),
        )
    except InvalidInputError:
        await message.answer(
            _("Check the deadline (a time to come) and the title (up to 200 characters).")
            + "\n\n"
            + usage()
        )
        return
    await message.answer(
        _(
            "🏆 Contest {id} “{title}” is open until {deadline}. "
            "Add judges with /judge {id} @username."
        ).format(
            id=contest.id,
            title=escape(contest.title),
            deadline=local_time(contest.deadline, settings.zone),
        )
    )


def _contest_id(command: CommandObject) -> tuple[int, list[str]] | None:
    words = (command.args or "").split()
    if not words or not words[0].isdigit() or len(words[0]) > 9:
        return None
    return int(words[0]), words[1:]


async def add_judge(
    message: Message, command: CommandObject, session: AsyncSession, reader: Reader, roles: RoleSet
) -> None:
    """/judge CONTEST_ID @username."""
    parsed = _contest_id(command)
    if parsed is None or len(parsed[1]) != 1:
        await message.answer(usage())
        return
    try:
        judge = await find_reader(session, parsed[1][0])
        added = await judging.add_judge(session, reader, roles, parsed[0], judge)
    except (NotFoundError, InvalidInputError, AmbiguousReaderError):
        await message.answer(
            _("I do not know that contest or that person (they must have started this bot).")
        )
        return
    except NotAllowedError:
        await message.answer(_("You can manage only the contests you opened."))
        return
    name = escape(judge.first_name or "—")
    await message.answer(
        _("⚖️ {name} is on the panel; they score with /judging.").format(name=name)
        if added
        else _("{name} is already on the panel.").format(name=name)
    )


async def scores(
    message: Message, command: CommandObject, session: AsyncSession, reader: Reader, roles: RoleSet
) -> None:
    """/contestscores CONTEST_ID: every score as CSV."""
    parsed = _contest_id(command)
    if parsed is None:
        await message.answer(usage())
        return
    try:
        content = await judging.scores_csv(session, reader, roles, parsed[0])
    except NotFoundError:
        await message.answer(_("There is no such contest."))
        return
    except NotAllowedError:
        await message.answer(_("You can manage only the contests you opened."))
        return
    await message.answer_document(
        BufferedInputFile(content, filename=f"contest-{parsed[0]}-scores.csv"),
        caption=_("Scores of contest {id}.").format(id=parsed[0]),
    )


async def publish(
    message: Message, command: CommandObject, session: AsyncSession, reader: Reader, roles: RoleSet
) -> None:
    """/publishresults CONTEST_ID: results out; the winners are asked about their names."""
    parsed = _contest_id(command)
    if parsed is None:
        await message.answer(usage())
        return
    try:
        top = await judging.publish_results(session, reader, roles, parsed[0], now=utcnow())
    except NotFoundError:
        await message.answer(_("There is no such contest."))
        return
    except NotAllowedError:
        await message.answer(_("You can manage only the contests you opened."))
        return
    except InvalidInputError:
        await message.answer(_("Results can be published once the deadline has passed."))
        return
    await message.answer(
        _(
            "🏁 Results published; {count} winners are asked whether their names may be shown."
        ).format(count=len(top))
    )


def build_router() -> Router:
    """A fresh router with the organisers' commands."""
    router = Router(name=__name__)
    staff = HasRole(Role.ORGANISER)
    router.message.register(new_contest, Command("newcontest"), staff)
    router.message.register(add_judge, Command("judge"), staff)
    router.message.register(scores, Command("contestscores"), staff)
    router.message.register(publish, Command("publishresults"), staff)
    return router
