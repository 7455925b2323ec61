"""/volunteer: shifts to sign up for, one's own, hours served and a certificate; QR check-in."""

from __future__ import annotations

import asyncio
import enum
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import DbInt, Reader, utcnow
from bot.services.charts import label_language
from bot.services.errors import DomainError, NotFoundError
from bot.services.events.times import span_text
from bot.services.quizzes.certificates import CertificateText, certificate_png
from bot.services.statistics import BadPeriodError, Period, parse_period
from bot.services.volunteers import attendance, hours, shifts
from bot.services.volunteers.attendance import AttendanceError
from handlers.stats import period_refusal

DEFAULT_PERIOD = "365d"


class VolunteerAction(enum.StrEnum):
    """What a reader does in /volunteer."""

    SIGN_UP = "s"
    WITHDRAW = "w"
    CERTIFICATE = "c"


class VolunteerData(CallbackData, prefix="vo"):
    """An action on a shift (``shift_id``), or a certificate for ``period``."""

    action: VolunteerAction
    shift_id: DbInt = 0
    period: str = ""


def _hours_text(value: float) -> str:
    return f"{value:.1f}"


def refusal_text(error: DomainError) -> str:
    """Why a volunteer action was refused."""
    if isinstance(error, shifts.ShiftFullError):
        return _("Sorry, every place on this shift is taken.")
    if isinstance(error, shifts.AlreadySignedUpError):
        return _("You are already on this shift.")
    if isinstance(error, shifts.ShiftStartedError):
        return _("This shift has started; signing up or withdrawing is over.")
    if isinstance(error, shifts.ShiftCancelledError):
        return _("This event has been cancelled, so its shifts are closed.")
    if isinstance(error, shifts.NotSignedUpError):
        return _("You are not on this shift, so nothing was changed.")
    if isinstance(error, NotFoundError):
        return _("That shift no longer exists.")
    return _("That did not work; nothing was changed.")


async def _view(
    session: AsyncSession, reader: Reader, period: Period, settings: Settings
) -> tuple[str, Any]:
    now = utcnow()
    found = await shifts.open_shifts(session, reader, now=now)
    served = await hours.reader_service(session, reader, period.start, period.end)
    lines = [
        _("🙋 <b>Volunteering</b>"),
        _("Hours served ({period}): {hours} h in {shifts} shifts.").format(
            period=escape(period.label), hours=_hours_text(served.hours), shifts=served.shifts
        ),
        "",
    ]
    builder = InlineKeyboardBuilder()
    if not found:
        lines.append(_("No volunteer shifts are open right now."))
    for item in found:
        shift = item.shift
        when = span_text(shift.starts_at, shift.ends_at, settings.zone)
        lines.append(
            _("• {role} at {event}, {when}: {left} of {places} places left").format(
                role=escape(shift.role),
                event=escape(shift.event.display_title(reader.language or "zh")),
                when=when,
                left=item.left,
                places=shift.places,
            )
            + (_(" (you are on it)") if item.mine else "")
        )
        if item.mine:
            label, action = (
                _("↩️ Withdraw: {role}").format(role=shift.role),
                VolunteerAction.WITHDRAW,
            )
        elif item.left:
            label, action = _("🙋 Sign up: {role}").format(role=shift.role), VolunteerAction.SIGN_UP
        else:
            continue
        builder.row(
            InlineKeyboardButton(
                text=f"{label} {shift.starts_at.astimezone(settings.zone):%m-%d %H:%M}"[:60],
                callback_data=VolunteerData(action=action, shift_id=shift.id).pack(),
            )
        )
    if served.shifts:
        builder.row(
            InlineKeyboardButton(
                text=_("🏅 Certificate of service hours"),
                callback_data=VolunteerData(
                    action=VolunteerAction.CERTIFICATE, period=period.label
                ).pack(),
            )
        )
    return "\n".join(lines), builder.as_markup()


async def show_volunteering(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
) -> None:
    """/volunteer [PERIOD]: shifts open, one's own, hours served in the period."""
    try:
        period = parse_period(command.args or DEFAULT_PERIOD, now=utcnow(), zone=settings.zone)
    except BadPeriodError as error:
        await message.answer(period_refusal(error))
        return
    text, markup = await _view(session, reader, period, settings)
    await message.answer(text, reply_markup=markup)


async def sign_up(
    query: CallbackQuery, callback_data: VolunteerData, session: AsyncSession, reader: Reader
) -> None:
    """Take a place on the shift."""
    try:
        shift = await shifts.sign_up(session, reader, callback_data.shift_id, now=utcnow())
    except DomainError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer(
        _("You are signed up as {role}. A reminder comes before the shift.").format(
            role=shift.role
        ),
        show_alert=True,
    )


async def withdraw(
    query: CallbackQuery, callback_data: VolunteerData, session: AsyncSession, reader: Reader
) -> None:
    """Give the place back."""
    try:
        await shifts.withdraw(session, reader, callback_data.shift_id, now=utcnow())
    except DomainError as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer(_("You are off the shift."), show_alert=True)


async def certificate(
    query: CallbackQuery,
    callback_data: VolunteerData,
    session: AsyncSession,
    reader: Reader,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A certificate image of the hours served in the period, drawn off the event loop."""
    try:
        period = parse_period(callback_data.period, now=utcnow(), zone=settings.zone)
    except BadPeriodError as error:
        await query.answer(period_refusal(error), show_alert=True)
        return
    served = await hours.reader_service(session, reader, period.start, period.end)
    if not served.shifts:
        await query.answer(_("No hours served in that period yet."), show_alert=True)
        return
    await query.answer()
    language = await asyncio.to_thread(label_language, i18n.current_locale)
    with i18n.use_locale(language):
        text = CertificateText(
            heading=_("Certificate of Volunteer Service"),
            name=reader.first_name or "—",
            achievement=_("{hours} hours in {shifts} shifts").format(
                hours=_hours_text(served.hours), shifts=served.shifts
            ),
            contest=_("Period: {period}").format(period=period.label),
            footer=_("Bookbridge reading alliance"),
        )
    image = await asyncio.to_thread(certificate_png, text)
    await bot.send_photo(
        reader.chat_id,
        BufferedInputFile(image, filename="volunteer-certificate.png"),
        caption=_("🏅 Your certificate of service hours."),
    )


def _attendance_text(error: AttendanceError) -> str:
    role = escape(error.shift.role)
    texts = {
        "not_signed_up": _("You are not signed up for this shift ({role}).").format(role=role),
        "too_early": _("Check-in for this shift opens 30 minutes before it starts."),
        "over": _("This shift is over; its QR code no longer counts."),
        "already_in": _("You are already checked in."),
        "not_in": _(
            "You have not checked in to this shift, so you cannot check out. "
            "Scan the check-in QR code first."
        ),
        "already_out": _("You have already checked out of this shift."),
    }
    return texts.get(error.reason, _("That did not work; nothing was changed."))


async def check_in_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``vin_<token>``: the volunteer arrives."""
    session, reader = data["session"], data["reader"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    try:
        shift = await attendance.check_in(session, reader, argument, now=utcnow())
    except NotFoundError:
        await message.answer(_("This volunteer QR code is not valid."))
        return
    except AttendanceError as error:
        await message.answer(_attendance_text(error))
        return
    await message.answer(
        _("✅ Checked in as {role}. Thank you! Scan the check-out code when you leave.").format(
            role=escape(shift.role)
        )
    )


async def check_out_link(message: Message, argument: str, data: dict[str, Any]) -> None:
    """Deep link ``vout_<token>``: the volunteer leaves; refused without a check-in."""
    session, reader = data["session"], data["reader"]
    assert isinstance(session, AsyncSession) and isinstance(reader, Reader)
    try:
        _shift, time = await attendance.check_out(session, reader, argument, now=utcnow())
    except NotFoundError:
        await message.answer(_("This volunteer QR code is not valid."))
        return
    except AttendanceError as error:
        await message.answer(_attendance_text(error))
        return
    await message.answer(
        _("👋 Checked out: {hours} h counted. See your hours in /volunteer.").format(
            hours=_hours_text(time.total_seconds() / 3600)
        )
    )


def build_router() -> Router:
    """A fresh router with the reader's side of volunteering."""
    router = Router(name=__name__)
    router.message.register(show_volunteering, Command("volunteer"))
    on = VolunteerData.filter
    router.callback_query.register(sign_up, on(F.action == VolunteerAction.SIGN_UP))
    router.callback_query.register(withdraw, on(F.action == VolunteerAction.WITHDRAW))
    router.callback_query.register(certificate, on(F.action == VolunteerAction.CERTIFICATE))
    return router
