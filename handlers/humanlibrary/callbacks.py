"""The callback data of the human library's buttons (ratings: ``bot.notices.humanlibrary``)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt


class ShelfAction(enum.StrEnum):
    """What a reader (or a living book) does in the human library."""

    SHELVES = "l"
    OPEN = "o"
    TAKE = "t"
    GIVE_BACK = "g"
    WAIT = "w"
    LEAVE = "x"
    SCHEDULE = "s"


class HumanLibraryData(CallbackData, prefix="hl"):
    """One action; ``item``: a living book (open, wait, leave) or a slot (take, give back)."""

    action: ShelfAction
    item: DbInt = 0
