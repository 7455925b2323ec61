"""What an admin gives the /newcampaign wizard: texts, holdout, moment, interests, a reading
list, and the upcoming event to link, checked and read into plain values."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Event, EventStatus, Work, WorkIsbn
from bot.services.errors import InvalidInputError
from search.isbn import find_isbn13

PLAIN_TEXT_LIMIT = 3500
TEXT_LIMIT = 4096
READING_LIST_LIMIT = 10
INTEREST_LIMIT = 10
INTEREST_LENGTH = 40
HOLDOUT_MAX = 0.5
SCHEDULE_HORIZON = timedelta(days=90)
EVENTS_PER_PAGE = 8


def check_text(html_text: str, plain_length: int) -> None:
    """A campaign text must fit one Telegram message."""
    if not html_text.strip() or plain_length > PLAIN_TEXT_LIMIT or len(html_text) > TEXT_LIMIT:
        raise InvalidInputError("text")


def parse_holdout(text: str) -> float:
    """``10``, ``10%`` or ``0.1``: a share between 0 and 50 %."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidInputError("holdout") from None
    if value >= 1 or "%" in text:
        value /= 100
    if not 0 <= value <= HOLDOUT_MAX or value != value:
        raise InvalidInputError("holdout")
    return round(value, 4)


_MOMENT = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")


def parse_moment(text: str, *, zone: tzinfo, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` in the alliance time zone, in the future and within 90 days."""
    match = _MOMENT.match(text)
    if match is None:
        raise InvalidInputError("format")
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        raise InvalidInputError("format") from None
    if moment <= now:
        raise InvalidInputError("past")
    if moment - now > SCHEDULE_HORIZON:
        raise InvalidInputError("far")
    return moment


def parse_interests(text: str) -> tuple[str, ...]:
    """Comma-separated interests (at most 10, each at most 40 characters), lower-cased."""
    parts = [part.strip().lower() for part in re.split(r"[,，、;；\n]", text)]
    interests = tuple(dict.fromkeys(part for part in parts if part))
    if not interests or len(interests) > INTEREST_LIMIT:
        raise InvalidInputError("interests")
    if any(len(part) > INTEREST_LENGTH for part in interests):
        raise InvalidInputError("interests")
    return interests


@dataclass(frozen=True)
class ReadingList:
    """The works an ISBN list names, and the ISBNs that name nothing in the catalogue."""

    works: Sequence[Work]
    unknown: Sequence[str]


async def reading_list(session: AsyncSession, text: str) -> ReadingList:
    """Works for a list of ISBNs (space or comma separated, at most 10)."""
    tokens = [token for token in re.split(r"[\s,，;；]+", text.strip()) if token]
    if not tokens or len(tokens) > READING_LIST_LIMIT:
        raise InvalidInputError("count")
    works: list[Work] = []
    unknown: list[str] = []
    for token in tokens:
        isbn = find_isbn13(token)
        work = None
        if isbn is not None:
            work = await session.scalar(
                select(Work)
                .join(WorkIsbn, WorkIsbn.work_id == Work.id)
                .where(WorkIsbn.isbn == isbn)
            )
        if work is None:
            unknown.append(token[:20])
        elif work not in works:
            works.append(work)
    return ReadingList(works=works, unknown=unknown)


@dataclass(frozen=True)
class EventPage:
    """One page of the events a campaign can link, soonest first."""

    events: list[Event]
    page: int
    pages: int


def _linkable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Event.status == EventStatus.PUBLISHED, Event.starts_at > now)


async def upcoming_events(
    session: AsyncSession, now: datetime, page: int = 0, per_page: int = EVENTS_PER_PAGE
) -> EventPage:
    """Published events that have not started, a page at a time (out-of-range pages clamp)."""
    total = await session.scalar(select(func.count(Event.id)).where(*_linkable(now))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    rows = await session.scalars(
        select(Event)
        .where(*_linkable(now))
        .order_by(Event.starts_at, Event.id)
        .offset(page * per_page)
        .limit(per_page)
    )
    return EventPage(events=list(rows), page=page, pages=pages)


async def linkable_event(session: AsyncSession, event_id: int, now: datetime) -> Event | None:
    """The event if a campaign can link it now (published, not started)."""
    return await session.scalar(select(Event).where(Event.id == event_id, *_linkable(now)))
