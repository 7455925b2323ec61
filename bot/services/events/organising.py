"""Organisers run events: publish a draft, list their events, edit, resize, move, cancel."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.geo import haversine_km
from bot.models import (
    District,
    Event,
    EventAudience,
    EventCategory,
    EventSeries,
    EventStatus,
    Library,
    Reader,
)
from bot.notices.intents import Notice
from bot.services import audit, outbox
from bot.services.errors import InvalidInputError, NotAllowedError
from bot.services.events.calendar import calendar_entry
from bot.services.events.drafts import (
    CAPACITY_MAX,
    EventDraft,
    check_description,
    check_draft,
    check_partners,
    check_place_name,
    check_title,
)
from bot.services.events.notices import EventCancelled, EventMoved, shown
from bot.services.events.records import (
    Listing,
    active_registrations,
    locked_event,
    managed_event,
    place_counts,
    taken,
    with_venue,
    write_unless_refused,
)
from bot.services.events.registration import WaitlistRules, fill_places
from bot.services.events.times import LONGEST_EVENT, parse_any, session_starts
from bot.services.humanlibrary import booking
from bot.services.outbox import Priority
from bot.services.roles import RoleSet
from bot.services.volunteers import shifts

# How long an organiser's ended events stay on their list.
RECENT = timedelta(days=30)


async def _nearest_district(session: AsyncSession, latitude: float, longitude: float) -> int | None:
    districts = list(await session.scalars(select(District)))
    if not districts:
        return None
    return min(
        districts, key=lambda d: haversine_km(latitude, longitude, d.latitude, d.longitude)
    ).id


async def _district_of(session: AsyncSession, draft: EventDraft) -> int | None:
    venue = draft.venue
    if venue.library_id is not None:
        library = await session.get(Library, venue.library_id)
        if library is None:
            raise InvalidInputError("venue")
        return library.district_id
    assert venue.latitude is not None and venue.longitude is not None
    return await _nearest_district(session, venue.latitude, venue.longitude)


def _session_event(
    draft: EventDraft, starts_at: datetime, organiser: Reader, district_id: int | None
) -> Event:
    shift = starts_at - draft.starts_at
    venue = draft.venue
    named_place = venue.library_id is None
    return Event(
        title=draft.title,
        title_en=draft.title_en,
        description=draft.description,
        category=draft.category,
        audience=draft.audience,
        starts_at=starts_at,
        ends_at=starts_at + (draft.ends_at - draft.starts_at),
        venue_library_id=venue.library_id,
        place_name=venue.place_name if named_place else None,
        latitude=venue.latitude if named_place else None,
        longitude=venue.longitude if named_place else None,
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
    )


async def publish(
    session: AsyncSession, organiser: Reader, draft: EventDraft, *, now: datetime, zone: tzinfo
) -> list[Event]:
    """Store the event (every session of a series) and audit it; commits."""
    check_draft(draft, now)
    district_id = await _district_of(session, draft)
    starts = session_starts(draft.starts_at, draft.recurrence, draft.sessions, zone)
    async with write(session):
        series = None
        if draft.recurrence is not None:
            series = EventSeries(
                title=draft.title, recurrence=draft.recurrence, organiser_id=organiser.id
            )
            session.add(series)
            await session.flush()
        events = [_session_event(draft, moment, organiser, district_id) for moment in starts]
        for event in events:
            event.series_id = series.id if series else None
            session.add(event)
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
    return events


async def organised_events(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    *,
    now: datetime,
    limit: int = 10,
    offset: int = 0,
) -> tuple[list[Listing], bool]:
    """Upcoming and recent (30 days) events the actor runs, admins every event; more?"""
    query = select(Event).where(Event.ends_at > now - RECENT)
    if not roles.is_admin:
        query = query.where(Event.organiser_id == actor.id)
    events = list(
        await session.scalars(
            with_venue(query.order_by(Event.starts_at, Event.id).offset(offset).limit(limit + 1))
        )
    )
    more = len(events) > limit
    events = events[:limit]
    counts = await place_counts(session, [event.id for event in events])
    return [Listing(event, *counts[event.id]) for event in events], more


class EditField(enum.StrEnum):
    """Fields an organiser edits by typing."""

    TITLE = "title"
    TITLE_EN = "title_en"
    DESCRIPTION = "description"
    PARTNERS = "partners"
    PLACE = "place"
    PLACE_EN = "place_en"
    OPENS = "opens"
    CLOSES = "closes"


NONE_TYPED = "-"


def _window(event: Event, edit: EditField, text: str, zone: tzinfo) -> dict[str, Any]:
    moment = None if text.strip() == NONE_TYPED else parse_any(text, zone)
    if moment is not None and moment > event.starts_at:
        raise InvalidInputError("after start")
    opens = moment if edit is EditField.OPENS else event.registration_opens_at
    closes = moment if edit is EditField.CLOSES else event.registration_closes_at
    if opens is not None and closes is not None and opens >= closes:
        raise InvalidInputError("window")
    return {"registration_opens_at": opens, "registration_closes_at": closes}


def _edited(event: Event, edit: EditField, text: str, zone: tzinfo) -> dict[str, Any]:
    """The columns the edit changes, after checking what was typed (nothing changes yet)."""
    cleared = text.strip() == NONE_TYPED
    if edit is EditField.TITLE:
        return {"title": check_title(text)}
    if edit is EditField.TITLE_EN:
        return {"title_en": None if cleared else check_title(text)}
    if edit is EditField.DESCRIPTION:
        return {"description": check_description(text)}
    if edit is EditField.PARTNERS:
        return {"partners": [] if cleared else list(check_partners(text))}
    if edit in (EditField.PLACE, EditField.PLACE_EN):
        if event.venue_library_id is not None:
            raise InvalidInputError("library venue")
        if edit is EditField.PLACE:
            return {"place_name": check_place_name(text)}
        return {"place_name_en": None if cleared else check_place_name(text)}
    return _window(event, edit, text, zone)


def _audited(edit: EditField, changes: dict[str, Any]) -> Any:
    """What the audit log keeps of an edit (the length of a description, instants as text)."""
    if edit is EditField.DESCRIPTION:
        return len(changes["description"])
    if edit in (EditField.OPENS, EditField.CLOSES):
        moment = changes[
            "registration_opens_at" if edit is EditField.OPENS else "registration_closes_at"
        ]
        return moment.isoformat() if moment else None
    [value] = changes.values()
    return value


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
    changes = _edited(event, edit, text, zone)
    async with write(session):
        for column, value in changes.items():
            setattr(event, column, value)
        audit.record(
            session,
            actor,
            f"event.edit.{edit.value}",
            target_type="event",
            target_id=event.id,
            value=_audited(edit, changes),
        )
    return event


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
    async with write(session):
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
    return event


async def set_capacity(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    capacity: int,
    *,
    now: datetime,
    rules: WaitlistRules,
) -> Event:
    """Change the capacity (not below the places held); more room promotes; commits."""
    await managed_event(session, actor, roles, event_id)

    async def work() -> Event:
        event = await locked_event(session, event_id)
        if event.status is not EventStatus.PUBLISHED:
            raise NotAllowedError("not published")
        held = await taken(session, event.id)
        if capacity < max(1, held) or capacity > CAPACITY_MAX:
            raise InvalidInputError("capacity below held")
        before = event.capacity
        event.capacity = capacity
        await session.flush()
        promoted = await fill_places(session, event, now, rules)
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
        return event

    return await write_unless_refused(session, work)


async def reschedule(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
) -> int:
    """Move the event, keep registrations, tell everyone with the new .ics; commits."""
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED:
        raise NotAllowedError("not published")
    if starts_at <= now:
        raise InvalidInputError("past")
    if not starts_at < ends_at <= starts_at + LONGEST_EVENT:
        raise InvalidInputError("before start")
    async with write(session):
        before = event.starts_at
        event.starts_at, event.ends_at = starts_at, ends_at
        if event.registration_closes_at is not None and event.registration_closes_at > starts_at:
            event.registration_closes_at = None
        event.updated_at = now
        await session.flush()
        await outbox.skip_pending(session, f"ev-rem:{event.id}:", "event rescheduled")
        moved = EventMoved(event=shown(event), calendar=calendar_entry(event))
        registrations = list(await session.scalars(active_registrations(event.id)))
        stamp = int(starts_at.timestamp())
        await outbox.enqueue_notices(
            session,
            [
                Notice(
                    reader_id=registration.reader_id,
                    data=moved,
                    dedup_key=f"ev-moved:{event.id}:{registration.reader_id}:{stamp}",
                    priority=Priority.HIGH,
                )
                for registration in registrations
            ],
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
    return len(registrations)


async def cancel_event(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int, *, now: datetime
) -> int:
    """Cancel the event, its living-book conversations and volunteer shifts; tell everyone
    registered, booked, waiting or signed up (how many readers); commits."""
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED:
        raise NotAllowedError("not published")
    async with write(session):
        event.status = EventStatus.CANCELLED
        # The row lock first: bookings on the event commit before, or see it cancelled.
        await session.flush()
        await outbox.skip_pending(session, f"ev-rem:{event.id}:", "event cancelled")
        cancelled = EventCancelled(event=shown(event))
        registrations = list(await session.scalars(active_registrations(event.id)))
        notices = [
            *(
                Notice(
                    reader_id=registration.reader_id,
                    data=cancelled,
                    dedup_key=f"ev-cancelled:{event.id}:{registration.reader_id}",
                    priority=Priority.HIGH,
                )
                for registration in registrations
            ),
            *await booking.cancel_for_event(session, event, now=now),
            *await shifts.cancel_for_event(session, event, now=now),
        ]
        await outbox.enqueue_notices(session, notices, now=now)
        told = {notice.reader_id for notice in notices}
        audit.record(
            session,
            actor,
            "event.cancel",
            target_type="event",
            target_id=event.id,
            notified=len(told),
        )
    return len(told)
