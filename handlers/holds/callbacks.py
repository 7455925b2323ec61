"""Callback data of the reader's hold screens, and the Reserve row of the work card.

The data of buttons that notices carry (``HoldAction``, ``ReserveWork``) is defined with
those notices, in ``bot.notices.holds``.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.notices.holds import ReserveWork


class PickupChoice(CallbackData, prefix="rsvp"):
    """Place the hold with this pickup library."""

    work_id: int
    library_id: int


class CancelWithReason(CallbackData, prefix="hdc"):
    """Cancel a hold, saying why."""

    hold_id: int
    reason: str


class ChangePickup(CallbackData, prefix="hdp"):
    """Move a queued hold to another pickup library."""

    hold_id: int
    library_id: int


class SuspendFor(CallbackData, prefix="hds"):
    """Suspend a queued hold for so many days."""

    hold_id: int
    days: int


class WatchWork(CallbackData, prefix="wtc"):
    """Tell me when a copy of this work arrives."""

    work_id: int


class SuggestWork(CallbackData, prefix="psw"):
    """Suggest a work nobody holds for purchase."""

    work_id: int


def reserve_rows(work_id: int) -> list[list[InlineKeyboardButton]]:
    """The work card's Reserve row."""
    return [
        [
            InlineKeyboardButton(
                text=_("🔖 Reserve"), callback_data=ReserveWork(work_id=work_id).pack()
            )
        ]
    ]
