"""How holds read in the reader's screens: status words, one hold's lines and its buttons."""

from __future__ import annotations

from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

# aiogram's gettext takes (singular, plural, n); the name lets `make i18n` extract plurals.
from aiogram.utils.i18n import gettext as ngettext

from bot.config import Settings
from bot.models import ACTIVE_HOLD_STATUSES, HoldStatus, Library, Work
from bot.notices.holds import HoldAct, HoldAction, library_html, library_plain, title_html
from bot.services.errors import DomainError
from bot.services.holds import refusals
from bot.services.holds.notices import library_of, title_of
from bot.services.holds.placing import PickupOption
from bot.services.holds.reader_actions import CancelReason, HoldView
from handlers.common import distance_text

# Pickup points offered at once, nearest first.
PICKUP_CHOICES = 8


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    """An inline button with typed callback data."""
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def when(moment: datetime, settings: Settings) -> str:
    """A moment in the alliance's time zone."""
    return moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")


def work_html(work: Work) -> str:
    """A work's title in a message: the original-script one and the romanised one."""
    return title_html(title_of(work))


def library_name_html(library: Library, language: str) -> str:
    """A library's name in the reader's language, escaped for a message."""
    return library_html(library_of(library), language)


def hold_status_label(status: HoldStatus) -> str:
    """A hold's status in words."""
    labels = {
        HoldStatus.QUEUED: _("waiting in the queue"),
        HoldStatus.IN_TRANSIT: _("on its way to your library"),
        HoldStatus.READY: _("ready for pickup"),
        HoldStatus.COLLECTED: _("collected"),
        HoldStatus.CANCELLED: _("cancelled"),
        HoldStatus.EXPIRED: _("expired"),
    }
    return labels[status]


def reason_label(reason: CancelReason) -> str:
    """A cancellation reason in words."""
    labels = {
        CancelReason.NOT_NEEDED: _("I don't need it any more"),
        CancelReason.FOUND_ELSEWHERE: _("I found it elsewhere"),
        CancelReason.TOO_LONG: _("The wait is too long"),
        CancelReason.OTHER: _("Another reason"),
    }
    return labels[reason]


def refusal(error: DomainError) -> str:
    """Why a hold action was refused, in words."""
    if isinstance(error, refusals.NotYourHoldError):
        return _("That hold is not one of yours.")
    if isinstance(error, refusals.HoldStateError):
        return _("That hold is {status} now, so this is not possible.").format(
            status=hold_status_label(error.status)
        )
    if isinstance(error, refusals.AlreadyExtendedError):
        return _("This hold has already been extended once.")
    if isinstance(error, refusals.OthersWaitingError):
        return _("Other readers are waiting for this book, so it cannot be extended.")
    if isinstance(error, refusals.NotPickupPointError):
        return _("That library does not hand out holds.")
    return _("That is not possible.")


def option_label(option: PickupOption, language: str) -> str:
    """A pickup choice as a button label (plain text): name, distance, shelf or transit."""
    parts = [library_plain(library_of(option.library), language)]
    if option.distance_km is not None:
        parts.append(distance_text(option.distance_km))
    if option.on_shelf:
        parts.append(_("on the shelf"))
    elif option.transit_days is not None:
        days = option.transit_days
        parts.append(ngettext("{days} day transit", "{days} days transit", days).format(days=days))
    else:
        parts.append(_("queue"))
    return " · ".join(parts)


def extend_label(settings: Settings) -> str:
    """The label of the button that keeps a ready hold longer."""
    days = settings.hold_extension_days
    return ngettext("➕ {days} day", "➕ {days} days", days).format(days=days)


def hold_lines(view: HoldView, settings: Settings, language: str) -> list[str]:
    """One hold in My holds: title, status, queue position, pickup library, ready-until."""
    hold = view.hold
    lines = [work_html(hold.work)]
    status = hold_status_label(hold.status)
    if view.position is not None:
        status += " " + _("(number {position} in the queue)").format(position=view.position)
    if hold.suspended_until is not None and hold.status is HoldStatus.QUEUED:
        status += " · " + _("suspended until {date}").format(
            date=hold.suspended_until.astimezone(settings.zone).strftime("%Y-%m-%d")
        )
    lines.append("   " + status)
    lines.append(
        "   "
        + _("Pickup: {library}").format(library=library_name_html(hold.pickup_library, language))
    )
    if hold.status is HoldStatus.READY and hold.ready_until is not None:
        lines.append(
            "   " + _("Kept for you until {until}").format(until=when(hold.ready_until, settings))
        )
    return lines


def hold_keyboard(view: HoldView, settings: Settings) -> InlineKeyboardMarkup:
    """The actions that apply to one hold in its current state."""
    hold = view.hold

    def act(action: HoldAct) -> HoldAction:
        return HoldAction(action=action, hold_id=hold.id)

    rows: list[list[InlineKeyboardButton]] = []
    if hold.status is HoldStatus.READY:
        row = [button(_("🚶 On my way"), act(HoldAct.ON_MY_WAY))]
        if not hold.extended:
            row.append(button(extend_label(settings), act(HoldAct.EXTEND)))
        rows.append(row)
    if hold.status in (HoldStatus.READY, HoldStatus.IN_TRANSIT):
        rows.append([button(_("🔁 Pass it on"), act(HoldAct.PASS_ON))])
    if hold.status is HoldStatus.QUEUED:
        rows.append([button(_("📍 Change pickup library"), act(HoldAct.PICKUP))])
        if hold.suspended_until is None:
            rows.append([button(_("⏸ Suspend"), act(HoldAct.SUSPEND))])
        else:
            rows.append([button(_("▶️ Resume now"), act(HoldAct.RESUME))])
    if hold.status in ACTIVE_HOLD_STATUSES:
        rows.append([button(_("✖️ Cancel the hold"), act(HoldAct.CANCEL))])
    rows.append([button(_("⬅️ My holds"), HoldAction(action=HoldAct.LIST, hold_id=0))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def my_holds_row() -> list[InlineKeyboardButton]:
    """The button back to My holds."""
    return [button(_("📚 My holds"), HoldAction(action=HoldAct.LIST, hold_id=0))]
