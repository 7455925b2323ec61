"""The callback data of readers' event buttons (offers and ratings: ``bot.notices.events``)."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData

from bot.services.events.discovery import When


class EventList(CallbackData, prefix="evl"):
    """The event list with its filters and page."""

    when: str = When.ALL.value
    cat: str = ""
    aud: str = ""
    dist: int = 0
    near: int = 0
    page: int = 0


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
    dist: int = 0
    near: int = 0
    page: int = 0


class EventOpen(CallbackData, prefix="evc"):
    """Open an event's card."""

    event_id: int


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
    event_id: int


class MyEventsOpen(CallbackData, prefix="evm"):
    """The reader's own registrations, a page of them."""

    page: int = 0
