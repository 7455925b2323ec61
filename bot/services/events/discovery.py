"""Finding events: date and other filters in the alliance zone, "near me", the event card."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.geo import haversine_km
from bot.models import (
    District,
    Event,
    EventAudience,
    EventCategory,
    EventStatus,
    Reader,
    ReadingList,
    Registration,
    RegistrationStatus,
)
from bot.services.events.records import (
    Listing,
    event_point,
    load_event,
    place_counts,
    waitlist_rank,
    with_venue,
)
from bot.services.reading.list_links import LinkTarget, linked_list

NEAR_KM = 10.0
# Deep links: ``/start ev_<id>`` opens an event's card.
EVENT_LINK = "ev"
SATURDAY = 5


class When(enum.StrEnum):
    """Date filters, in the alliance zone."""

    ALL = "all"
    TODAY = "today"
    WEEK = "week"
    WEEKEND = "weekend"


@dataclass(frozen=True)
class EventFilter:
    """What the reader narrowed the list to."""

    when: When = When.ALL
    category: EventCategory | None = None
    audience: EventAudience | None = None
    district_id: int | None = None
    near: tuple[float, float] | None = None


def date_spans(when: When, now: datetime, zone: tzinfo) -> list[tuple[datetime, datetime]]:
    """The [start, end) spans a date filter covers, from local midnights in ``zone``.

    "This week" is the next seven days (today and the six after it); "Weekend" is the
    coming Saturday and Sunday, and on a Saturday or Sunday also what is left of today's.
    """
    if when is When.ALL:
        return []
    today = now.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0, 0), zone)

    if when is When.TODAY:
        return [(midnight(today), midnight(today + timedelta(days=1)))]
    if when is When.WEEK:
        return [(now, midnight(today + timedelta(days=7)))]
    saturday = today + timedelta(days=(SATURDAY - today.weekday()) % 7)
    spans = []
    if today.weekday() > SATURDAY:  # Sunday: the rest of today, then the next weekend
        spans.append((now, midnight(today + timedelta(days=1))))
    spans.append((max(now, midnight(saturday)), midnight(saturday + timedelta(days=2))))
    return spans


async def discover(
    session: AsyncSession,
    wanted: EventFilter,
    *,
    now: datetime,
    zone: tzinfo,
    limit: int = 8,
    offset: int = 0,
) -> tuple[list[Listing], bool]:
    """Published events that have not ended, filtered; soonest (or nearest) first; more?"""
    query = select(Event).where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
    spans = date_spans(wanted.when, now, zone)
    if spans:
        query = query.where(
            or_(*(and_(Event.starts_at < end, Event.ends_at > start) for start, end in spans))
        )
    if wanted.category is not None:
        query = query.where(Event.category == wanted.category)
    if wanted.audience is not None:
        # An event for everyone suits every audience.
        query = query.where(Event.audience.in_([wanted.audience, EventAudience.EVERYONE]))
    if wanted.district_id is not None:
        query = query.where(Event.district_id == wanted.district_id)
    query = with_venue(query.order_by(Event.starts_at, Event.id))
    distances: dict[int, float] = {}
    if wanted.near is None:
        events = list(await session.scalars(query.offset(offset).limit(limit + 1)))
    else:
        latitude, longitude = wanted.near
        candidates = []
        for event in await session.scalars(query):
            point = event_point(event)
            if point is None:
                continue
            distance = haversine_km(latitude, longitude, *point)
            if distance <= NEAR_KM:
                distances[event.id] = distance
                candidates.append(event)
        candidates.sort(key=lambda e: (distances[e.id], e.starts_at))
        events = candidates[offset : offset + limit + 1]
    more = len(events) > limit
    events = events[:limit]
    counts = await place_counts(session, [event.id for event in events])
    return [
        Listing(event, *counts[event.id], distance_km=distances.get(event.id)) for event in events
    ], more


async def upcoming_events(session: AsyncSession, now: datetime, limit: int = 10) -> list[Event]:
    """Published events that have not ended, soonest first."""
    rows = await session.scalars(
        with_venue(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )
    return list(rows)


async def districts_with_events(
    session: AsyncSession, now: datetime, *, limit: int = 50, offset: int = 0
) -> tuple[list[District], bool]:
    """Districts that have an upcoming event, by code; more?"""
    rows = list(
        await session.scalars(
            select(District)
            .where(
                District.id.in_(
                    select(Event.district_id).where(
                        Event.status == EventStatus.PUBLISHED, Event.ends_at > now
                    )
                )
            )
            .order_by(District.code)
            .offset(offset)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True)
class EventCard:
    """One event as a reader sees it, with the reader's own registration."""

    listing: Listing
    registration: Registration | None
    waitlist_rank: int | None
    series_sessions: int
    # The published reading list its organiser linked to it (a book club's list).
    reading_list: ReadingList | None = None


async def event_card(session: AsyncSession, reader: Reader, event_id: int) -> EventCard:
    """The card of a published, completed or cancelled event (NotFoundError if unknown)."""
    event = await load_event(session, event_id)
    taken, waitlisted = (await place_counts(session, [event.id]))[event.id]
    registration = await session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.reader_id == reader.id
        )
    )
    rank = None
    if registration is not None and registration.status is RegistrationStatus.WAITLISTED:
        rank = await waitlist_rank(session, registration)
    sessions = 0
    if event.series_id is not None:
        sessions = (
            await session.scalar(
                select(func.count()).where(
                    Event.series_id == event.series_id,
                    Event.status == EventStatus.PUBLISHED,
                    Event.starts_at > event.starts_at - timedelta(seconds=1),
                )
            )
            or 0
        )
    reading_list = await linked_list(session, LinkTarget.EVENT, event.id)
    return EventCard(Listing(event, taken, waitlisted), registration, rank, sessions, reading_list)
