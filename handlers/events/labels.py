"""Words and buttons every events screen shares: kinds, audiences, dates, places, paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.lists import format_list

from bot.models import Event, EventAudience, EventCategory, RegistrationStatus
from bot.services.events.discovery import When
from bot.services.events.records import Listing

# Telegram shows about this many characters of a button on a phone.
BUTTON_TITLE = 40
LIST_LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def category_label(category: EventCategory) -> str:
    """A category in words."""
    labels = {
        EventCategory.LECTURE: _("Lecture"),
        EventCategory.BOOK_CLUB: _("Book club"),
        EventCategory.HUMAN_LIBRARY: _("Human library"),
        EventCategory.CLASSICS_READING: _("Classics reading"),
        EventCategory.CONTEST: _("Contest"),
        EventCategory.EXHIBITION: _("Exhibition"),
        EventCategory.VOLUNTEERING: _("Volunteering"),
        EventCategory.WORKSHOP: _("Workshop"),
        EventCategory.OTHER: _("Other"),
    }
    return labels[category]


def audience_label(audience: EventAudience) -> str:
    """An audience in words."""
    labels = {
        EventAudience.EVERYONE: _("Everyone"),
        EventAudience.CHILDREN: _("Children"),
        EventAudience.STUDENTS: _("Students"),
        EventAudience.ADULTS: _("Adults"),
        EventAudience.SENIORS: _("Seniors"),
    }
    return labels[audience]


def when_label(when: When) -> str:
    """A date filter in words."""
    labels = {
        When.ALL: _("All dates"),
        When.TODAY: _("Today"),
        When.WEEK: _("This week"),
        When.WEEKEND: _("Weekend"),
    }
    return labels[when]


def status_label(status: RegistrationStatus, waitlist_rank: int | None = None) -> str:
    """A registration's status in words (with the waitlist rank when known)."""
    if status is RegistrationStatus.WAITLISTED and waitlist_rank is not None:
        return _("waitlist #{position}").format(position=waitlist_rank)
    labels = {
        RegistrationStatus.CONFIRMED: _("registered"),
        RegistrationStatus.ATTENDED: _("attended"),
        RegistrationStatus.OFFERED: _("place offered"),
        RegistrationStatus.WAITLISTED: _("waitlisted"),
        RegistrationStatus.CANCELLED: _("cancelled"),
    }
    return labels[status]


def places_line(listing: Listing) -> str:
    """Spots left, or the waitlist's length when full."""
    if listing.spots_left > 0 and listing.waitlisted == 0:
        return ngettext(
            "{left} of {capacity} place left",
            "{left} of {capacity} places left",
            listing.event.capacity,
        ).format(left=listing.spots_left, capacity=listing.event.capacity)
    return _("Full — {count} on the waitlist").format(count=listing.waitlisted)


def shortened(text: str, limit: int = BUTTON_TITLE) -> str:
    """The text cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def button_title(event: Event, language: str, limit: int = BUTTON_TITLE) -> str:
    """The event's title for a button: the reader's language, cut to fit."""
    return shortened(event.display_title(language), limit)


def joined(items: Sequence[str], language: str) -> str:
    """Items as the language lists them: "a, b and c", "甲、乙和丙"."""
    if not items:
        return ""
    return format_list(list(items), locale=LIST_LOCALES.get(language, "en"))


def page_buttons(page: int, more: bool, packed: Callable[[int], str]) -> list[InlineKeyboardButton]:
    """◀️ and ▶️ for a paged list (empty on a single page); ``packed`` gives a page's data."""
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(text="◀️", callback_data=packed(page - 1)))
    if more:
        buttons.append(InlineKeyboardButton(text="▶️", callback_data=packed(page + 1)))
    return buttons
