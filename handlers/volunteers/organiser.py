"""/newshift opens a volunteer shift with its QR codes; /volunteerhours exports hours as CSV."""

from __future__ import annotations

import asyncio
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Reader, Role, utcnow
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.times import parse_any, span_text
from bot.services.roles import RoleSet
from bot.services.statistics import BadPeriodError, parse_period
from bot.services.volunteers import hours, shifts
from bot.services.volunteers.attendance import IN_LINK, OUT_LINK
from handlers.filters import HasRole
from handlers.organiser_events.manage import qr_png
from handlers.stats import period_refusal

EXPORT_PERIOD = "365d"


def usage() -> str:
    """How to write /newshift."""
    return _(
        "To open a volunteer shift on your event, send:\n"
        "<code>/newshift EVENT_ID PLACES YYYY-MM-DD HH:MM HH:MM ROLE</code>\n"
        "for example <code>/newshift 12 3 2026-12-20 13:30 17:30 Usher</code>: the event, how "
        "many volunteers, the day, the start and end times, and the role (up to 60 characters)."
    )


def _problem(field: str) -> str:
    texts = {
        "event": _("That event is cancelled or over."),
        "role": _("The role must be 1 to 60 characters."),
        "places": _("A shift has 1 to {limit} places.").format(limit=shifts.MAX_PLACES),
        "times": _("The shift must start in the future and end after it starts, within 12 hours."),
    }
    return texts.get(field, usage())


async def new_shift(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
) -> None:
    """Open the shift and send its check-in and check-out QR codes."""
    words = (command.args or "").split(maxsplit=5)
    if len(words) < 6 or not words[0].isdigit() or not words[1].isdigit():
        await message.answer(usage())
        return
    event_id, places, day, start, end, role = words
    try:
        starts_at = parse_any(f"{day} {start}", settings.zone)
        ends_at = parse_any(f"{day} {end}", settings.zone)
    except InvalidInputError:
        await message.answer(usage())
        return
    try:
        shift = await shifts.add_shift(
            session,
            reader,
            roles,
            int(event_id[:9]),
            role=role.strip(),
            places=int(places[:6]),
            starts_at=starts_at,
            ends_at=ends_at,
            now=utcnow(),
        )
    except NotFoundError:
        await message.answer(_("There is no event {id}.").format(id=escape(event_id)))
        return
    except NotAllowedError:
        await message.answer(_("You can open shifts only on events you organise."))
        return
    except InvalidInputError as error:
        await message.answer(_problem(str(error)))
        return
    assert message.bot is not None
    username = (await message.bot.me()).username or ""
    await message.answer(
        _(
            "🙋 Shift opened: {role}, {places} places, {when}. Readers sign up in /volunteer. "
            "Show these QR codes at the venue: volunteers scan the first when they arrive and "
            "the second when they leave."
        ).format(
            role=escape(shift.role),
            places=shift.places,
            when=span_text(shift.starts_at, shift.ends_at, settings.zone),
        )
    )
    for prefix, caption in ((IN_LINK, _("✅ Check in")), (OUT_LINK, _("👋 Check out"))):
        link = f"https://t.me/{username}?start={prefix}_{shift.token}"
        image = await asyncio.to_thread(qr_png, link)
        await message.answer_photo(
            BufferedInputFile(image, filename=f"shift-{shift.id}-{prefix}.png"),
            caption=f"{caption}: {escape(shift.role)}\n{link}",
        )


async def export(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    roles: RoleSet,
    settings: Settings,
) -> None:
    """/volunteerhours [PERIOD]: hours per reader and per institution, as two CSV files."""
    try:
        period = parse_period(command.args or EXPORT_PERIOD, now=utcnow(), zone=settings.zone)
    except BadPeriodError as error:
        await message.answer(period_refusal(error))
        return
    found = await hours.export_hours(session, reader, roles, period.start, period.end)
    if not found.readers:
        await message.answer(_("No volunteer hours were served in that period."))
        return
    label = period.label.replace("..", "_")
    await message.answer_document(
        BufferedInputFile(found.per_reader, filename=f"volunteer-hours-readers-{label}.csv"),
        caption=_("Volunteer hours per reader ({period}).").format(period=escape(period.label)),
    )
    await message.answer_document(
        BufferedInputFile(
            found.per_institution, filename=f"volunteer-hours-institutions-{label}.csv"
        ),
        caption=_("Volunteer hours per institution ({period}).").format(
            period=escape(period.label)
        ),
    )


def build_router() -> Router:
    """A fresh router with the organisers' commands."""
    router = Router(name=__name__)
    router.message.register(new_shift, Command("newshift"), HasRole(Role.ORGANISER))
    router.message.register(export, Command("volunteerhours"), HasRole(Role.ORGANISER))
    return router
