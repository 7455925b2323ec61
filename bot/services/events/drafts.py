"""What organisers type, checked: titles, descriptions, places, capacities, the whole draft."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.models import EventAudience, EventCategory, EventRecurrence
from bot.services.errors import InvalidInputError
from bot.services.events.times import LONGEST_EVENT

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 2000
PLACE_LIMIT = 200
PARTNER_LIMIT = 100
PARTNERS_MAX = 10
CAPACITY_MAX = 100_000
SERIES_MAX = 12

# Han characters and CJK punctuation (《》：（）, full-width forms).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
LATIN = re.compile(r"[A-Za-z]")
BILINGUAL_SEPARATOR = " / "


@dataclass(frozen=True)
class Venue:
    """A member library, or a named place with a location."""

    library_id: int | None = None
    place_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class EventDraft:
    """An event as the wizard collected it; nothing is stored until it is published."""

    title: str
    description: str
    category: EventCategory
    audience: EventAudience
    starts_at: datetime
    ends_at: datetime
    venue: Venue
    capacity: int
    partners: tuple[str, ...] = ()
    recurrence: EventRecurrence | None = None
    sessions: int = 1
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    title_en: str | None = None


def has_chinese(text: str) -> bool:
    """Whether the text has Han characters or CJK punctuation."""
    return CJK.search(text) is not None


def split_bilingual(text: str) -> tuple[str, str | None]:
    """``中文 / English`` (either order) as ("中文", "English"); anything else as (text, None).

    The same rule split the titles stored before events had an English title (migration 0009).
    """
    if text.count(BILINGUAL_SEPARATOR) != 1:
        return text, None
    first, second = (part.strip() for part in text.split(BILINGUAL_SEPARATOR))
    for chinese, english in ((first, second), (second, first)):
        if has_chinese(chinese) and LATIN.search(english) and not has_chinese(english):
            return chinese, english
    return text, None


def check_title(text: str) -> str:
    """A title: 1-200 characters."""
    text = " ".join(text.split())
    if not text or len(text) > TITLE_LIMIT:
        raise InvalidInputError("title")
    return text


def check_description(text: str) -> str:
    """A description: 1-2000 characters."""
    text = text.strip()
    if not text or len(text) > DESCRIPTION_LIMIT:
        raise InvalidInputError("description")
    return text


def check_capacity(text: str) -> int:
    """A capacity: a whole number of at least 1."""
    text = text.strip()
    if not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= CAPACITY_MAX:
        raise InvalidInputError("capacity")
    return int(text)


def check_partners(text: str) -> tuple[str, ...]:
    """Partner organisations, one per line or comma-separated."""
    parts = [" ".join(p.split()) for p in text.replace("，", ",").replace("\n", ",").split(",")]
    partners = tuple(p for p in parts if p)
    if len(partners) > PARTNERS_MAX or any(len(p) > PARTNER_LIMIT for p in partners):
        raise InvalidInputError("partners")
    return partners


def check_place_name(text: str) -> str:
    """A named place: 1-200 characters."""
    text = " ".join(text.split())
    if not text or len(text) > PLACE_LIMIT:
        raise InvalidInputError("place")
    return text


def check_draft(draft: EventDraft, now: datetime) -> None:
    """Every rule the wizard enforces, once more before publishing."""
    check_title(draft.title)
    if draft.title_en is not None:
        check_title(draft.title_en)
    check_description(draft.description)
    if draft.starts_at <= now:
        raise InvalidInputError("past")
    if not draft.starts_at < draft.ends_at <= draft.starts_at + LONGEST_EVENT:
        raise InvalidInputError("before start")
    if not 1 <= draft.capacity <= CAPACITY_MAX:
        raise InvalidInputError("capacity")
    venue = draft.venue
    if venue.library_id is None and (
        not venue.place_name or venue.latitude is None or venue.longitude is None
    ):
        raise InvalidInputError("venue")
    if draft.recurrence is None and draft.sessions != 1:
        raise InvalidInputError("sessions")
    if not 1 <= draft.sessions <= SERIES_MAX:
        raise InvalidInputError("sessions")
