"""Reading events: discovery, registration with a waitlist and timed offers, check-in, feedback.

Rules (after LibCal where the issue is silent):
* one registration per reader and event; confirmed while there is room, else waitlisted at
  the end of the list; registration opens when set (default: at once) and closes when set
  (default: at the start);
* a freed place (cancellation, declined or expired offer, capacity increase) goes to the
  first waitlisted reader: confirmed at once while the start is further away than
  ``waitlist_offer_within_hours``, else offered for ``waitlist_offer_hours`` (never past the
  start); a declined or expired offer leaves the waitlist and the place moves on;
* changes are made with the event row locked (``FOR UPDATE`` on PostgreSQL; SQLite
  transactions begin with ``BEGIN IMMEDIATE``), so concurrent registrations are exact.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.geo import haversine_km
from bot.i18n import Gettext, Translator, in_every_language
from bot.models import (
    District,
    Event,
    EventAudience,
    EventCategory,
    EventRecurrence,
    EventSeries,
    EventStatus,
    Feedback,
    Library,
    Notification,
    NotificationStatus,
    Reader,
    Registration,
    RegistrationStatus,
)
from bot.services import audit, outbox
from bot.services.broadcasts import check_text
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.outbox import Attachment, Button, OutboxMessage, Outgoing, Priority
from bot.services.roles import RoleSet

_Row = TypeVar("_Row", bound=Any)

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 2000
PLACE_LIMIT = 200
PARTNER_LIMIT = 100
PARTNERS_MAX = 10
CAPACITY_MAX = 100_000
COMMENT_LIMIT = 1000
SERIES_MAX = 12
LONGEST_EVENT = timedelta(days=14)
FURTHEST_START = timedelta(days=730)
NEAR_KM = 10.0
# Check-in opens this long before the start and closes at the end (LibCal's default window).
CHECKIN_EARLY = timedelta(minutes=30)
FEEDBACK_WITHIN = timedelta(days=7)

HOLDING = (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED, RegistrationStatus.OFFERED)
ACTIVE = (*HOLDING, RegistrationStatus.WAITLISTED)

# Callback data the outbox messages carry; handlers.events packs the same shapes.
OFFER_CALLBACK = "evo:{registration_id}:{answer}"
RATE_CALLBACK = "evf:{event_id}:{rating}"
EVENT_LINK = "ev"
CHECKIN_LINK = "ci"


class RegistrationClosedError(DomainError):
    """Registration has not opened yet, or has closed (``cancelled``: the event was)."""

    def __init__(self, opens_at: datetime | None = None, *, cancelled: bool = False) -> None:
        super().__init__("not open" if opens_at else "cancelled" if cancelled else "closed")
        self.opens_at = opens_at
        self.cancelled = cancelled


class NotRegisteredError(NotFoundError):
    """The reader holds no active registration for the event (a stale Cancel button)."""


class AlreadyRegisteredError(DomainError):
    """The reader already holds a registration for this event."""

    def __init__(self, registration: Registration) -> None:
        super().__init__("already registered")
        self.registration = registration


class OfferGoneError(DomainError):
    """The offer expired, was answered, or never existed."""


class CheckInError(DomainError):
    """Check-in refused: ``reason`` is not_registered, too_early, over or already."""

    def __init__(self, reason: str, event: Event) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event = event


# --- discovery -------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Listing:
    """An event with its places and, for "near me", the distance."""

    event: Event
    taken: int
    waitlisted: int
    distance_km: float | None = None

    @property
    def spots_left(self) -> int:
        """Places still free."""
        return max(0, self.event.capacity - self.taken)


def date_range(when: When, now: datetime, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """The [start, end) instants a date filter covers, from local midnights in ``zone``."""
    if when is When.ALL:
        return None
    today = now.astimezone(zone).date()

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0, 0), zone)

    if when is When.TODAY:
        return midnight(today), midnight(today + timedelta(days=1))
    monday_next = today + timedelta(days=7 - today.weekday())
    if when is When.WEEK:
        return now, midnight(monday_next)
    saturday = monday_next - timedelta(days=2)
    return max(now, midnight(saturday)), midnight(monday_next)


def event_point(event: Event) -> tuple[float, float] | None:
    """Where the event is: its own place, else its venue library."""
    if event.latitude is not None and event.longitude is not None:
        return event.latitude, event.longitude
    if event.venue_library is not None:
        return event.venue_library.latitude, event.venue_library.longitude
    return None


def _with_venue(query: Select[_Row]) -> Select[_Row]:
    return query.options(
        selectinload(Event.venue_library), selectinload(Event.organiser), selectinload(Event.series)
    )


async def place_counts(
    session: AsyncSession, event_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """(taken, waitlisted) per event."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_(list(event_ids)), Registration.status.in_(ACTIVE))
        .group_by(Registration.event_id, Registration.status)
    )
    counts: dict[int, list[int]] = {event_id: [0, 0] for event_id in event_ids}
    for event_id, status, number in rows:
        counts[event_id][1 if status is RegistrationStatus.WAITLISTED else 0] += number
    return {event_id: (pair[0], pair[1]) for event_id, pair in counts.items()}


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
    span = date_range(wanted.when, now, zone)
    if span is not None:
        query = query.where(Event.starts_at < span[1], Event.ends_at > span[0])
    if wanted.category is not None:
        query = query.where(Event.category == wanted.category)
    if wanted.audience is not None:
        # An event for everyone suits every audience.
        query = query.where(Event.audience.in_([wanted.audience, EventAudience.EVERYONE]))
    if wanted.district_id is not None:
        query = query.where(Event.district_id == wanted.district_id)
    query = _with_venue(query.order_by(Event.starts_at, Event.id))
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
        _with_venue(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )
    return list(rows)


async def districts_with_events(session: AsyncSession, now: datetime) -> list[District]:
    """Districts that have an upcoming event, by code."""
    rows = await session.scalars(
        select(District)
        .where(
            District.id.in_(
                select(Event.district_id).where(
                    Event.status == EventStatus.PUBLISHED, Event.ends_at > now
                )
            )
        )
        .order_by(District.code)
    )
    return list(rows)


@dataclass(frozen=True)
class EventCard:
    """One event as a reader sees it, with the reader's own registration."""

    listing: Listing
    registration: Registration | None
    waitlist_rank: int | None
    series_sessions: int


async def event_card(session: AsyncSession, reader: Reader, event_id: int) -> EventCard:
    """The card of a published, completed or cancelled event (NotFoundError if unknown)."""
    event = await session.scalar(_with_venue(select(Event).where(Event.id == event_id)))
    if event is None:
        raise NotFoundError("event")
    taken, waitlisted = (await place_counts(session, [event.id]))[event.id]
    registration = await session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.reader_id == reader.id
        )
    )
    rank = None
    if registration is not None and registration.status is RegistrationStatus.WAITLISTED:
        rank = await _waitlist_rank(session, registration)
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
    return EventCard(Listing(event, taken, waitlisted), registration, rank, sessions)


async def _waitlist_rank(session: AsyncSession, registration: Registration) -> int:
    ahead = await session.scalar(
        select(func.count()).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.position < registration.position,
        )
    )
    return (ahead or 0) + 1


# --- notices ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Notices:
    """What services need to write notices: the catalogues and the alliance zone."""

    translator: Translator
    zone: tzinfo
    offer_within: timedelta = timedelta(hours=24)
    offer_for: timedelta = timedelta(hours=2)

    @classmethod
    def for_alliance(cls, settings: Settings, translator: Translator) -> Notices:
        """The notices helper with the alliance's zone and waitlist-offer settings."""
        return cls(
            translator=translator,
            zone=settings.zone,
            offer_within=timedelta(hours=settings.waitlist_offer_within_hours),
            offer_for=timedelta(hours=settings.waitlist_offer_hours),
        )


def local_time(moment: datetime, zone: tzinfo) -> str:
    """An instant as the alliance's wall clock, with the zone's abbreviation."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def span_text(starts_at: datetime, ends_at: datetime, zone: tzinfo) -> str:
    """Start to end on the alliance's wall clock: ``2026-12-20 19:00–21:30 CST``."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end_text} {start.tzname() or ''}".rstrip()


def time_span(event: Event, zone: tzinfo) -> str:
    """The event's start to end on the alliance's wall clock."""
    return span_text(event.starts_at, event.ends_at, zone)


def venue_name(event: Event, language: str) -> str:
    """The venue library's name in the language, or the named place."""
    library = event.venue_library
    if library is not None:
        return library.name_en if language == "en" and library.name_en else library.name
    return event.place_name or ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _notice(
    notices: Notices, event: Event, render: Callable[[Gettext, str], str]
) -> dict[str, str]:
    def full(_: Gettext, language: str) -> str:
        head = f"<b>{_escape(event.title)}</b>\n🕒 {time_span(event, notices.zone)}"
        venue = venue_name(event, language)
        if venue:
            head += f"\n📍 {_escape(venue)}"
        return render(_, language) + "\n\n" + head

    return in_every_language(notices.translator, full)


def event_calendar(event: Event, zone: tzinfo, *, language: str = "en") -> bytes:
    """An iCalendar file for the event, with times in the alliance zone."""
    from icalendar import Calendar
    from icalendar import Event as CalendarEvent

    calendar = Calendar()
    calendar.add("prodid", "-//Bookbridge//Reading events//EN")
    calendar.add("version", "2.0")
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}@bookbridge")
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_at.astimezone(zone))
    entry.add("dtend", event.ends_at.astimezone(zone))
    entry.add("dtstamp", event.updated_at)
    if event.description:
        entry.add("description", event.description)
    place = venue_name(event, language)
    if event.venue_library is not None and event.venue_library.address:
        place = f"{place}, {event.venue_library.address}"
    if place:
        entry.add("location", place)
    point = event_point(event)
    if point is not None:
        entry.add("geo", point)
    if event.status is EventStatus.CANCELLED:
        entry.add("status", "CANCELLED")
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def calendar_filename(event: Event) -> str:
    """The .ics file's name."""
    return f"event-{event.id}.ics"


async def _notify(
    session: AsyncSession,
    registration: Registration,
    *,
    kind: str,
    dedup_key: str,
    text: dict[str, str],
    buttons: Sequence[Sequence[Button]] = (),
    attachment: Attachment | None = None,
    expires_at: datetime | None = None,
    now: datetime,
) -> None:
    await outbox.enqueue(
        session,
        reader_id=registration.reader_id,
        kind=kind,
        message=OutboxMessage(text=text, buttons=buttons, attachment=attachment),
        dedup_key=dedup_key,
        priority=Priority.HIGH,
        expires_at=expires_at,
        now=now,
    )


async def _skip_pending(session: AsyncSession, key_prefix: str, reason: str) -> None:
    """Queued reminders that no longer apply are skipped (the event moved or was cancelled)."""
    await session.execute(
        update(Notification)
        .where(
            Notification.dedup_key.startswith(key_prefix, autoescape=True),
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.SKIPPED, last_error=f"{outbox.EXPIRED}: {reason}")
        .execution_options(synchronize_session=False)
    )


# --- registration ----------------------------------------------------------------------


async def _locked_event(session: AsyncSession, event_id: int) -> Event:
    query = _with_venue(select(Event).where(Event.id == event_id)).execution_options(
        populate_existing=True
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Event)
    event = await session.scalar(query)
    if event is None:
        raise NotFoundError("event")
    return event


async def _taken(session: AsyncSession, event_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                Registration.event_id == event_id, Registration.status.in_(HOLDING)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Registered:
    """The outcome of registering: the registration and, when waitlisted, the rank."""

    event: Event
    registration: Registration
    waitlist_rank: int | None


async def _register_locked(
    session: AsyncSession, reader: Reader, event: Event, now: datetime, notices: Notices
) -> Registered:
    if event.status is EventStatus.CANCELLED:
        raise RegistrationClosedError(cancelled=True)
    if event.status is not EventStatus.PUBLISHED:
        raise RegistrationClosedError()
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        raise RegistrationClosedError(event.registration_opens_at)
    if now >= (event.registration_closes_at or event.starts_at) or now >= event.starts_at:
        raise RegistrationClosedError()
    registration = await session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.reader_id == reader.id
        )
    )
    if registration is not None and registration.status is not RegistrationStatus.CANCELLED:
        raise AlreadyRegisteredError(registration)
    waiting = (
        await session.scalar(
            select(func.count()).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
        )
        or 0
    )
    room = await _taken(session, event.id) < event.capacity and waiting == 0
    last = await session.scalar(
        select(func.max(Registration.position)).where(Registration.event_id == event.id)
    )
    if registration is None:
        registration = Registration(event_id=event.id, reader_id=reader.id)
        session.add(registration)
    registration.status = RegistrationStatus.CONFIRMED if room else RegistrationStatus.WAITLISTED
    registration.position = (last or 0) + 1
    registration.cancelled_at = None
    registration.offer_expires_at = None
    await session.flush()
    rank = None if room else await _waitlist_rank(session, registration)
    return Registered(event, registration, rank)


async def register(
    session: AsyncSession, reader: Reader, event_id: int, *, now: datetime, notices: Notices
) -> Registered:
    """Register the reader: confirmed while there is room, else waitlisted; commits."""
    try:
        event = await _locked_event(session, event_id)
        result = await _register_locked(session, reader, event, now, notices)
        await session.commit()
    except DomainError:
        # Refusals come before any change: end the transaction (and its lock) without
        # expiring what the caller has loaded, as a rollback would.
        await session.commit()
        raise
    except BaseException:
        await session.rollback()
        raise
    return result


async def register_series(
    session: AsyncSession, reader: Reader, event_id: int, *, now: datetime, notices: Notices
) -> list[Registered]:
    """Register for this session and every later one of its series still open; commits."""
    try:
        first = await _locked_event(session, event_id)
        if first.series_id is None:
            raise NotFoundError("series")
        ids = list(
            await session.scalars(
                select(Event.id)
                .where(
                    Event.series_id == first.series_id,
                    Event.status == EventStatus.PUBLISHED,
                    Event.starts_at >= first.starts_at,
                )
                .order_by(Event.starts_at)
            )
        )
        results = []
        for session_id in ids:
            event = await _locked_event(session, session_id)
            try:
                results.append(await _register_locked(session, reader, event, now, notices))
            except (AlreadyRegisteredError, RegistrationClosedError):
                continue
        await session.commit()
    except DomainError:
        # Refusals come before any change: end the transaction (and its lock) without
        # expiring what the caller has loaded, as a rollback would.
        await session.commit()
        raise
    except BaseException:
        await session.rollback()
        raise
    return results


def _offer_text(notices: Notices, event: Event, until: str) -> dict[str, str]:
    def render(_: Gettext, language: str) -> str:
        return _(
            "🎟 A place has opened up for you! Accept it by {until}, or it goes "
            "to the next person on the waitlist."
        ).format(until=until)

    return _notice(notices, event, render)


def _reminder_text(notices: Notices, event: Event, starts: str) -> dict[str, str]:
    def render(_: Gettext, language: str) -> str:
        return _("⏰ Reminder: your event starts at {starts}.").format(starts=starts)

    return _notice(notices, event, render)


async def _fill(session: AsyncSession, event: Event, now: datetime, notices: Notices) -> int:
    """Give free places to the waitlist in order (confirm, or offer near the start)."""
    if event.status is not EventStatus.PUBLISHED or now >= event.starts_at:
        return 0
    free = event.capacity - await _taken(session, event.id)
    moved = 0
    while free > 0:
        waiting = await session.scalar(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.position)
            .limit(1)
        )
        if waiting is None:
            break
        if event.starts_at - now <= notices.offer_within:
            waiting.status = RegistrationStatus.OFFERED
            waiting.offer_expires_at = min(now + notices.offer_for, event.starts_at)
            until = local_time(waiting.offer_expires_at, notices.zone)
            await _notify(
                session,
                waiting,
                kind="event-offer",
                dedup_key=f"ev-offer:{waiting.id}:{int(now.timestamp())}",
                text=_offer_text(notices, event, until),
                buttons=(
                    (
                        Button(
                            label=in_every_language(
                                notices.translator, lambda _, lang: _("Accept")
                            ),
                            callback_data=OFFER_CALLBACK.format(
                                registration_id=waiting.id, answer="a"
                            ),
                        ),
                        Button(
                            label=in_every_language(
                                notices.translator, lambda _, lang: _("Decline")
                            ),
                            callback_data=OFFER_CALLBACK.format(
                                registration_id=waiting.id, answer="d"
                            ),
                        ),
                    ),
                ),
                expires_at=waiting.offer_expires_at,
                now=now,
            )
        else:
            waiting.status = RegistrationStatus.CONFIRMED
            await _notify(
                session,
                waiting,
                kind="event-promoted",
                dedup_key=f"ev-promoted:{waiting.id}:{int(now.timestamp())}",
                text=_notice(
                    notices,
                    event,
                    lambda _, language: _(
                        "🎉 Good news: a place opened up and you moved from the waitlist to "
                        "confirmed."
                    ),
                ),
                now=now,
            )
        await session.flush()
        free -= 1
        moved += 1
    return moved


async def cancel_registration(
    session: AsyncSession, reader: Reader, event_id: int, *, now: datetime, notices: Notices
) -> Registration:
    """Cancel the reader's registration (any time) and pass the place on; commits."""
    try:
        event = await _locked_event(session, event_id)
        registration = await session.scalar(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.reader_id == reader.id,
                Registration.status.in_(ACTIVE),
            )
        )
        if registration is None:
            raise NotRegisteredError("registration")
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        registration.offer_expires_at = None
        await session.flush()
        await _skip_pending(session, f"ev-rem:{event.id}:{reader.id}:", "registration cancelled")
        await _fill(session, event, now, notices)
        await session.commit()
    except DomainError:
        # Refusals come before any change: end the transaction (and its lock) without
        # expiring what the caller has loaded, as a rollback would.
        await session.commit()
        raise
    except BaseException:
        await session.rollback()
        raise
    return registration


async def answer_offer(
    session: AsyncSession,
    reader: Reader,
    registration_id: int,
    accept: bool,
    *,
    now: datetime,
    notices: Notices,
) -> Registration:
    """Accept (confirmed) or decline (the place moves on) a timed offer; commits."""
    try:
        registration = await session.get(Registration, registration_id)
        if registration is None or registration.reader_id != reader.id:
            raise OfferGoneError("not yours")
        event = await _locked_event(session, registration.event_id)
        await session.refresh(registration)
        if registration.status is not RegistrationStatus.OFFERED or (
            registration.offer_expires_at is not None and registration.offer_expires_at <= now
        ):
            raise OfferGoneError("gone")
        registration.offer_expires_at = None
        if accept:
            registration.status = RegistrationStatus.CONFIRMED
        else:
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = now
            await session.flush()
            await _fill(session, event, now, notices)
        await session.commit()
    except DomainError:
        # Refusals come before any change: end the transaction (and its lock) without
        # expiring what the caller has loaded, as a rollback would.
        await session.commit()
        raise
    except BaseException:
        await session.rollback()
        raise
    return registration


async def expire_offers(session: AsyncSession, *, now: datetime, notices: Notices) -> int:
    """Offers past their time leave the waitlist and the place moves on; commits."""
    due = list(
        await session.scalars(
            select(Registration.id).where(
                Registration.status == RegistrationStatus.OFFERED,
                Registration.offer_expires_at <= now,
            )
        )
    )
    expired = 0
    for registration_id in due:
        registration = await session.get(Registration, registration_id)
        assert registration is not None
        event = await _locked_event(session, registration.event_id)
        await session.refresh(registration)
        if registration.status is not RegistrationStatus.OFFERED:
            await session.commit()
            continue
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        registration.offer_expires_at = None
        await _notify(
            session,
            registration,
            kind="event-offer-expired",
            dedup_key=f"ev-offer-expired:{registration.id}:{int(now.timestamp())}",
            text=_notice(
                notices,
                event,
                lambda _, language: _(
                    "⌛ The place we offered you was not accepted in time, so it went to the "
                    "next person on the waitlist."
                ),
            ),
            now=now,
        )
        await session.flush()
        await _fill(session, event, now, notices)
        await session.commit()
        expired += 1
    return expired


@dataclass(frozen=True)
class MyEvent:
    """One of the reader's registrations, with the waitlist rank when waiting."""

    registration: Registration
    event: Event
    waitlist_rank: int | None


async def my_events(session: AsyncSession, reader: Reader, *, now: datetime) -> list[MyEvent]:
    """The reader's registrations for events that have not ended, soonest first."""
    rows = await session.execute(
        _with_venue(select(Event))
        .add_columns(Registration)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Registration.reader_id == reader.id,
            Registration.status.in_(ACTIVE),
            Event.ends_at > now,
            Event.status == EventStatus.PUBLISHED,
        )
        .order_by(Event.starts_at)
    )
    result = []
    for event, registration in rows:
        rank = None
        if registration.status is RegistrationStatus.WAITLISTED:
            rank = await _waitlist_rank(session, registration)
        result.append(MyEvent(registration, event, rank))
    return result


# --- check-in and feedback -------------------------------------------------------------


async def check_in(session: AsyncSession, reader: Reader, token: str, *, now: datetime) -> Event:
    """Mark a confirmed reader attended by the event's check-in link, during its window."""
    event = await session.scalar(_with_venue(select(Event).where(Event.checkin_token == token)))
    if event is None or event.status is EventStatus.CANCELLED:
        raise NotFoundError("event")
    registration = await session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.reader_id == reader.id
        )
    )
    if registration is not None and registration.status is RegistrationStatus.ATTENDED:
        raise CheckInError("already", event)
    if registration is None or registration.status is not RegistrationStatus.CONFIRMED:
        raise CheckInError("not_registered", event)
    if now < event.starts_at - CHECKIN_EARLY:
        raise CheckInError("too_early", event)
    if now > event.ends_at:
        raise CheckInError("over", event)
    registration.status = RegistrationStatus.ATTENDED
    registration.attended_at = now
    await session.commit()
    return event


async def rate(
    session: AsyncSession, reader: Reader, event_id: int, rating: int, *, now: datetime
) -> Event:
    """Record (or change) an attendee's 1-5 rating after the event; commits."""
    if not 1 <= rating <= 5:
        raise InvalidInputError("rating")
    event = await session.get(Event, event_id)
    attended = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == event_id,
            Registration.reader_id == reader.id,
            Registration.status == RegistrationStatus.ATTENDED,
        )
    )
    if event is None or attended is None:
        raise NotAllowedError("not an attendee")
    feedback = await session.scalar(
        select(Feedback).where(Feedback.event_id == event_id, Feedback.reader_id == reader.id)
    )
    if feedback is None:
        session.add(Feedback(event_id=event_id, reader_id=reader.id, rating=rating))
    else:
        feedback.rating = rating
    await session.commit()
    return event


async def comment(session: AsyncSession, reader: Reader, event_id: int, text: str) -> None:
    """Add the optional comment to the reader's rating; commits."""
    text = text.strip()
    if not text or len(text) > COMMENT_LIMIT:
        raise InvalidInputError("comment")
    feedback = await session.scalar(
        select(Feedback).where(Feedback.event_id == event_id, Feedback.reader_id == reader.id)
    )
    if feedback is None:
        raise NotFoundError("feedback")
    feedback.comment = text
    await session.commit()


@dataclass(frozen=True)
class FeedbackSummary:
    """Ratings of one event: how many, average, per star, and the latest comments."""

    count: int
    average: float | None
    per_rating: dict[int, int]
    comments: list[str]


async def feedback_summary(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int
) -> tuple[Event, FeedbackSummary]:
    """The organiser's (or an admin's) view of an event's feedback."""
    event = await managed_event(session, actor, roles, event_id)
    rows = list(await session.scalars(select(Feedback).where(Feedback.event_id == event.id)))
    per = dict.fromkeys(range(1, 6), 0)
    for row in rows:
        per[row.rating] += 1
    average = sum(row.rating for row in rows) / len(rows) if rows else None
    comments = [
        row.comment for row in sorted(rows, key=lambda r: r.id, reverse=True) if row.comment
    ][:10]
    return event, FeedbackSummary(len(rows), average, per, comments)


# --- jobs ------------------------------------------------------------------------------


async def queue_reminders(
    session: AsyncSession, *, now: datetime, hours: Sequence[int], notices: Notices
) -> int:
    """Queue due reminders for confirmed readers, once per threshold and start time; commits."""
    if not hours:
        return 0
    thresholds = sorted(set(hours))
    horizon = now + timedelta(hours=thresholds[-1])
    rows = await session.execute(
        _with_venue(select(Event))
        .add_columns(Registration.reader_id)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            Event.starts_at <= horizon,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Event.id, Registration.reader_id)
    )
    outgoing = []
    texts: dict[tuple[int, int], dict[str, str]] = {}
    for event, reader_id in rows:
        left = event.starts_at - now
        # Only the nearest threshold already crossed: a late registration gets one reminder.
        threshold = next(h for h in thresholds if left <= timedelta(hours=h))
        key = (event.id, threshold)
        if key not in texts:
            starts = local_time(event.starts_at, notices.zone)
            texts[key] = _reminder_text(notices, event, starts)
        outgoing.append(
            Outgoing(
                reader_id=reader_id,
                kind="event-reminder",
                message=OutboxMessage(text=texts[key]),
                dedup_key=(
                    f"ev-rem:{event.id}:{reader_id}:{threshold}:{int(event.starts_at.timestamp())}"
                ),
                priority=Priority.HIGH,
                expires_at=event.starts_at,
            )
        )
    queued = await outbox.enqueue_many(session, outgoing, now=now)
    await session.commit()
    return queued


async def queue_feedback_prompts(session: AsyncSession, *, now: datetime, notices: Notices) -> int:
    """Ask attendees of events that ended (within a week) for a 1-5 rating; commits."""
    rows = await session.execute(
        _with_venue(select(Event))
        .add_columns(Registration.reader_id)
        .join(Registration, Registration.event_id == Event.id)
        .where(
            Event.status.in_([EventStatus.PUBLISHED, EventStatus.COMPLETED]),
            Event.ends_at <= now,
            Event.ends_at > now - FEEDBACK_WITHIN,
            Registration.status == RegistrationStatus.ATTENDED,
        )
    )
    outgoing = []
    for event, reader_id in rows:
        text = _notice(
            notices,
            event,
            lambda _, language: _("💬 Thank you for coming! How was it? Tap 1 to 5 stars."),
        )
        outgoing.append(
            Outgoing(
                reader_id=reader_id,
                kind="event-feedback",
                message=OutboxMessage(
                    text=text,
                    buttons=(
                        tuple(
                            Button(
                                label="⭐" * rating if rating < 2 else f"{rating}⭐",
                                callback_data=RATE_CALLBACK.format(
                                    event_id=event.id, rating=rating
                                ),
                            )
                            for rating in range(1, 6)
                        ),
                    ),
                ),
                dedup_key=f"ev-fb:{event.id}:{reader_id}",
                expires_at=event.ends_at + FEEDBACK_WITHIN,
            )
        )
    queued = await outbox.enqueue_many(session, outgoing, now=now)
    await session.commit()
    return queued


async def complete_past_events(session: AsyncSession, *, now: datetime) -> int:
    """Published events that have ended become completed; commits."""
    result = await session.execute(
        update(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at <= now)
        .values(status=EventStatus.COMPLETED)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# --- organisers ------------------------------------------------------------------------


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


def _wall_clock(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` as typed: full-width digits and colons, and ``/`` or ``.``
    between the date's parts, are fine too (naive; InvalidInputError otherwise)."""
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    date_part, _space, clock = cleaned.partition(" ")
    try:
        return datetime.strptime(f"{re.sub(r'[/.]', '-', date_part)} {clock}", "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise InvalidInputError("format") from exc


def parse_local(text: str, zone: tzinfo, *, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` on the alliance's wall clock, in the future."""
    moment = _wall_clock(text).replace(tzinfo=zone)
    if moment <= now:
        raise InvalidInputError("past")
    if moment > now + FURTHEST_START:
        raise InvalidInputError("too far")
    return moment


def parse_end(text: str, starts_at: datetime, zone: tzinfo) -> datetime:
    """``HH:MM`` (the start's day) or ``YYYY-MM-DD HH:MM``, after the start."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    try:
        if len(text) <= 5:
            clock = datetime.strptime(text, "%H:%M").time()
            ends = datetime.combine(starts_at.astimezone(zone).date(), clock, zone)
        else:
            ends = _wall_clock(text).replace(tzinfo=zone)
    except ValueError as exc:
        raise InvalidInputError("format") from exc
    if ends <= starts_at:
        raise InvalidInputError("before start")
    if ends - starts_at > LONGEST_EVENT:
        raise InvalidInputError("too long")
    return ends


def session_starts(
    starts_at: datetime, recurrence: EventRecurrence | None, count: int, zone: tzinfo
) -> list[datetime]:
    """Start instants of each session: same wall-clock time weekly, or monthly on the same day."""
    if recurrence is None:
        return [starts_at]
    local = starts_at.astimezone(zone)
    result = []
    for n in range(count):
        if recurrence is EventRecurrence.WEEKLY:
            day = local.date() + timedelta(weeks=n)
        else:
            month = local.month - 1 + n
            year, month = local.year + month // 12, month % 12 + 1
            day = _same_day(year, month, local.day)
        result.append(datetime.combine(day, local.timetz().replace(tzinfo=None), zone))
    return result


def _same_day(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def check_draft(draft: EventDraft, now: datetime) -> None:
    """Every rule the wizard enforces, once more before publishing."""
    check_title(draft.title)
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


async def _nearest_district(session: AsyncSession, latitude: float, longitude: float) -> int | None:
    districts = list(await session.scalars(select(District)))
    if not districts:
        return None
    return min(
        districts, key=lambda d: haversine_km(latitude, longitude, d.latitude, d.longitude)
    ).id


async def publish(
    session: AsyncSession, organiser: Reader, draft: EventDraft, *, now: datetime, zone: tzinfo
) -> list[Event]:
    """Store the event (every session of a series) and audit it; commits."""
    check_draft(draft, now)
    venue = draft.venue
    district_id: int | None
    if venue.library_id is not None:
        library = await session.get(Library, venue.library_id)
        if library is None:
            raise InvalidInputError("venue")
        district_id = library.district_id
    else:
        assert venue.latitude is not None and venue.longitude is not None
        district_id = await _nearest_district(session, venue.latitude, venue.longitude)
    series = None
    if draft.recurrence is not None:
        series = EventSeries(
            title=draft.title, recurrence=draft.recurrence, organiser_id=organiser.id
        )
        session.add(series)
        await session.flush()
    duration = draft.ends_at - draft.starts_at
    events = []
    for starts_at in session_starts(draft.starts_at, draft.recurrence, draft.sessions, zone):
        shift = starts_at - draft.starts_at
        event = Event(
            title=draft.title,
            description=draft.description,
            category=draft.category,
            audience=draft.audience,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            venue_library_id=venue.library_id,
            place_name=venue.place_name if venue.library_id is None else None,
            latitude=venue.latitude if venue.library_id is None else None,
            longitude=venue.longitude if venue.library_id is None else None,
            district_id=district_id,
            capacity=draft.capacity,
            registration_opens_at=(
                draft.registration_opens_at + shift if draft.registration_opens_at else None
            ),
            registration_closes_at=(
                draft.registration_closes_at + shift if draft.registration_closes_at else None
            ),
            organiser_id=organiser.id,
            partners=list(draft.partners),
            status=EventStatus.PUBLISHED,
            checkin_token=secrets.token_urlsafe(12),
            series_id=series.id if series else None,
        )
        session.add(event)
        events.append(event)
    await session.flush()
    for event in events:
        audit.record(
            session,
            organiser,
            "event.publish",
            target_type="event",
            target_id=event.id,
            title=event.title,
            series_id=event.series_id,
        )
    await session.commit()
    return events


async def managed_event(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int
) -> Event:
    """The event if the actor organises it or is an admin (callback data can be forged)."""
    event = await session.scalar(_with_venue(select(Event).where(Event.id == event_id)))
    if event is None:
        raise NotFoundError("event")
    if not roles.is_admin and event.organiser_id != actor.id:
        raise NotAllowedError("not the organiser")
    return event


async def organised_events(
    session: AsyncSession, actor: Reader, roles: RoleSet, *, now: datetime, limit: int = 20
) -> list[Listing]:
    """Upcoming and recent (30 days) events the actor runs; admins see every event."""
    query = select(Event).where(Event.ends_at > now - timedelta(days=30))
    if not roles.is_admin:
        query = query.where(Event.organiser_id == actor.id)
    events = list(await session.scalars(_with_venue(query.order_by(Event.starts_at).limit(limit))))
    counts = await place_counts(session, [event.id for event in events])
    return [Listing(event, *counts[event.id]) for event in events]


def _active_registrations(event_id: int) -> Select[Registration]:
    return (
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status.in_(ACTIVE))
        .order_by(Registration.position)
    )


class EditField(enum.StrEnum):
    """Fields an organiser edits by typing."""

    TITLE = "title"
    DESCRIPTION = "description"
    PARTNERS = "partners"
    PLACE = "place"
    OPENS = "opens"
    CLOSES = "closes"


async def edit_event(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    edit: EditField,
    text: str,
    *,
    now: datetime,
    zone: tzinfo,
) -> Event:
    """Change one typed field after checking it; audited; commits."""
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED:
        raise NotAllowedError("not published")
    value: Any
    if edit is EditField.TITLE:
        event.title = value = check_title(text)
    elif edit is EditField.DESCRIPTION:
        event.description = value = check_description(text)
        value = len(value)
    elif edit is EditField.PARTNERS:
        partners = [] if text.strip() == "-" else list(check_partners(text))
        event.partners = value = partners
    elif edit is EditField.PLACE:
        if event.venue_library_id is not None:
            raise InvalidInputError("library venue")
        event.place_name = value = check_place_name(text)
    else:
        moment = None if text.strip() == "-" else _parse_any(text, zone)
        if moment is not None and moment > event.starts_at:
            raise InvalidInputError("after start")
        opens = moment if edit is EditField.OPENS else event.registration_opens_at
        closes = moment if edit is EditField.CLOSES else event.registration_closes_at
        if opens is not None and closes is not None and opens >= closes:
            raise InvalidInputError("window")
        event.registration_opens_at, event.registration_closes_at = opens, closes
        value = moment.isoformat() if moment else None
    audit.record(
        session,
        actor,
        f"event.edit.{edit.value}",
        target_type="event",
        target_id=event.id,
        value=value,
    )
    await session.commit()
    return event


def _parse_any(text: str, zone: tzinfo) -> datetime:
    return _wall_clock(text).replace(tzinfo=zone)


async def set_choice(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    *,
    category: EventCategory | None = None,
    audience: EventAudience | None = None,
) -> Event:
    """Change the category or the audience; audited; commits."""
    event = await managed_event(session, actor, roles, event_id)
    if category is not None:
        event.category = category
    if audience is not None:
        event.audience = audience
    audit.record(
        session,
        actor,
        "event.edit.choice",
        target_type="event",
        target_id=event.id,
        category=category.value if category else None,
        audience=audience.value if audience else None,
    )
    await session.commit()
    return event


async def set_capacity(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    capacity: int,
    *,
    now: datetime,
    notices: Notices,
) -> Event:
    """Change the capacity (not below the places held); more room promotes; commits."""
    await managed_event(session, actor, roles, event_id)
    try:
        event = await _locked_event(session, event_id)
        if event.status is not EventStatus.PUBLISHED:
            raise NotAllowedError("not published")
        held = await _taken(session, event.id)
        if capacity < max(1, held) or capacity > CAPACITY_MAX:
            raise InvalidInputError("capacity below held")
        before = event.capacity
        event.capacity = capacity
        await session.flush()
        promoted = await _fill(session, event, now, notices)
        audit.record(
            session,
            actor,
            "event.capacity",
            target_type="event",
            target_id=event.id,
            before=before,
            after=capacity,
            promoted=promoted,
        )
        await session.commit()
    except DomainError:
        # Refusals come before any change: end the transaction (and its lock) without
        # expiring what the caller has loaded, as a rollback would.
        await session.commit()
        raise
    except BaseException:
        await session.rollback()
        raise
    return event


async def reschedule(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
    notices: Notices,
) -> int:
    """Move the event, keep registrations, tell everyone with the new .ics; commits."""
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED:
        raise NotAllowedError("not published")
    if starts_at <= now:
        raise InvalidInputError("past")
    if not starts_at < ends_at <= starts_at + LONGEST_EVENT:
        raise InvalidInputError("before start")
    before = event.starts_at
    event.starts_at, event.ends_at = starts_at, ends_at
    if event.registration_closes_at is not None and event.registration_closes_at > starts_at:
        event.registration_closes_at = None
    event.updated_at = now
    await session.flush()
    await _skip_pending(session, f"ev-rem:{event.id}:", "event rescheduled")
    calendar = event_calendar(event, notices.zone)
    when = local_time(starts_at, notices.zone)
    text = _notice(
        notices,
        event,
        lambda _, language: _(
            "📅 This event has moved to {starts}. Your registration is kept; the new calendar "
            "file is attached."
        ).format(starts=when),
    )
    registrations = list(await session.scalars(_active_registrations(event.id)))
    await outbox.enqueue_many(
        session,
        (
            Outgoing(
                reader_id=registration.reader_id,
                kind="event-rescheduled",
                message=OutboxMessage(
                    text=text,
                    attachment=Attachment(
                        kind="document", content=calendar, filename=calendar_filename(event)
                    ),
                ),
                dedup_key=f"ev-moved:{event.id}:{registration.reader_id}:{int(starts_at.timestamp())}",
                priority=Priority.HIGH,
            )
            for registration in registrations
        ),
        now=now,
    )
    audit.record(
        session,
        actor,
        "event.reschedule",
        target_type="event",
        target_id=event.id,
        before=before.isoformat(),
        after=starts_at.isoformat(),
        notified=len(registrations),
    )
    await session.commit()
    return len(registrations)


async def cancel_event(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    *,
    now: datetime,
    notices: Notices,
) -> int:
    """Cancel the event and tell everyone registered or waiting; commits."""
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED:
        raise NotAllowedError("not published")
    event.status = EventStatus.CANCELLED
    await _skip_pending(session, f"ev-rem:{event.id}:", "event cancelled")
    text = _notice(
        notices,
        event,
        lambda _, language: _("❌ Sorry, this event has been cancelled by its organiser."),
    )
    registrations = list(await session.scalars(_active_registrations(event.id)))
    await outbox.enqueue_many(
        session,
        (
            Outgoing(
                reader_id=registration.reader_id,
                kind="event-cancelled",
                message=OutboxMessage(text=text),
                dedup_key=f"ev-cancelled:{event.id}:{registration.reader_id}",
                priority=Priority.HIGH,
            )
            for registration in registrations
        ),
        now=now,
    )
    audit.record(
        session,
        actor,
        "event.cancel",
        target_type="event",
        target_id=event.id,
        notified=len(registrations),
    )
    await session.commit()
    return len(registrations)


@dataclass(frozen=True)
class Attendee:
    """One line of the attendee list."""

    registration: Registration
    reader: Reader


async def attendees(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int
) -> tuple[Event, list[Attendee]]:
    """Everyone registered, waiting or cancelled: held places first, then the waitlist."""
    event = await managed_event(session, actor, roles, event_id)
    rows = await session.execute(
        select(Registration, Reader)
        .join(Reader, Reader.id == Registration.reader_id)
        .where(Registration.event_id == event.id)
        .order_by(Registration.position)
    )
    order = {
        RegistrationStatus.ATTENDED: 0,
        RegistrationStatus.CONFIRMED: 0,
        RegistrationStatus.OFFERED: 1,
        RegistrationStatus.WAITLISTED: 2,
        RegistrationStatus.CANCELLED: 3,
    }
    people = [Attendee(registration, reader) for registration, reader in rows]
    people.sort(key=lambda a: (order[a.registration.status], a.registration.position))
    return event, people


def attendee_csv(people: Sequence[Attendee], zone: tzinfo) -> bytes:
    """The attendee list as CSV (UTF-8 with a BOM, so spreadsheets read Chinese names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["position", "name", "username", "card_number", "status", "registered_at", "attended_at"]
    )
    for person in people:
        registration, reader = person.registration, person.reader
        writer.writerow(
            [
                registration.position,
                reader.first_name,
                f"@{reader.username}" if reader.username else "",
                reader.card_number,
                registration.status.value,
                local_time(registration.created_at, zone),
                local_time(registration.attended_at, zone) if registration.attended_at else "",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode()


async def mark_attendance(
    session: AsyncSession, actor: Reader, roles: RoleSet, registration_id: int, *, now: datetime
) -> Registration:
    """Toggle a confirmed registration to attended and back; audited; commits."""
    registration = await session.get(Registration, registration_id)
    if registration is None:
        raise NotFoundError("registration")
    await managed_event(session, actor, roles, registration.event_id)
    if registration.status is RegistrationStatus.CONFIRMED:
        registration.status = RegistrationStatus.ATTENDED
        registration.attended_at = now
    elif registration.status is RegistrationStatus.ATTENDED:
        registration.status = RegistrationStatus.CONFIRMED
        registration.attended_at = None
    else:
        raise InvalidInputError("not confirmed")
    audit.record(
        session,
        actor,
        "event.attendance",
        target_type="registration",
        target_id=registration.id,
        event_id=registration.event_id,
        status=registration.status.value,
    )
    await session.commit()
    return registration


async def message_attendees(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    html_text: str,
    plain_length: int,
    *,
    draft_key: str,
    now: datetime,
) -> int:
    """Queue the organiser's message to everyone holding or awaiting a place; commits."""
    event = await managed_event(session, actor, roles, event_id)
    check_text(html_text, plain_length)
    registrations = list(await session.scalars(_active_registrations(event.id)))
    message = OutboxMessage(text={"zh": html_text, "en": html_text})
    queued = await outbox.enqueue_many(
        session,
        (
            Outgoing(
                reader_id=registration.reader_id,
                kind="event-message",
                message=message,
                dedup_key=f"ev-msg:{event.id}:{draft_key}:{registration.reader_id}",
                priority=Priority.NORMAL,
            )
            for registration in registrations
        ),
        now=now,
    )
    audit.record(
        session,
        actor,
        "event.message",
        target_type="event",
        target_id=event.id,
        recipients=queued,
    )
    await session.commit()
    return queued
