"""The callback data of readers' event buttons (offers and ratings: ``bot.notices.events``)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from bot.models import DbInt
from bot.services.events.discovery import When


class EventList(CallbackData, prefix="evl"):
    """The event list with its filters and page."""

    when: str = When.ALL.value
    cat: str = ""
    aud: str = ""
    dist: DbInt = 0
    near: DbInt = 0
    page: DbInt = 0


class FilterKind(enum.StrEnum):
    """The filters with a picker of their own."""

    CATEGORY = "c"
    AUDIENCE = "a"
    DISTRICT = "d"


class EventFilterPick(CallbackData, prefix="evp"):
    """Open a picker for one filter, keeping the others (``page``: of the district picker)."""

    kind: FilterKind
    when: str = When.ALL.value
    cat: str = ""
    aud: str = ""
    dist: DbInt = 0
    near: DbInt = 0
    page: DbInt = 0


class EventOpen(CallbackData, prefix="evc"):
    """Open an event's card."""

    event_id: DbInt


class CardAction(enum.StrEnum):
    """What a reader does from an event's card."""

    REGISTER = "r"
    REGISTER_SERIES = "s"
    CANCEL = "x"
    CALENDAR = "i"
    MAP = "m"


class EventAction(CallbackData, prefix="eva"):
    """One action on an event's card."""

    action: CardAction
    event_id: DbInt


class MyEventsOpen(CallbackData, prefix="evm"):
    """The reader's own registrations, a page of them."""

    page: DbInt = 0
