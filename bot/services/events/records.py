"""Loading events and counting their places: the queries every events module shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Event, EventStatus, Reader, Registration, RegistrationStatus
from bot.notices.intents import Names
from bot.services.errors import DomainError, NotAllowedError, NotFoundError
from bot.services.roles import RoleSet

_Row = TypeVar("_Row", bound=Any)
_Result = TypeVar("_Result")

# Registrations that hold a place, and those that hold or wait for one.
HOLDING = (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED, RegistrationStatus.OFFERED)
ACTIVE = (*HOLDING, RegistrationStatus.WAITLISTED)


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


def with_venue(query: Select[_Row]) -> Select[_Row]:
    """The query with the venue, organiser and series loaded (cards show them)."""
    return query.options(
        selectinload(Event.venue_library), selectinload(Event.organiser), selectinload(Event.series)
    )


def event_point(event: Event) -> tuple[float, float] | None:
    """Where the event is: its own place, else its venue library."""
    if event.latitude is not None and event.longitude is not None:
        return event.latitude, event.longitude
    if event.venue_library is not None:
        return event.venue_library.latitude, event.venue_library.longitude
    return None


def venue_names(event: Event) -> Names | None:
    """Where the event is, both ways: its venue library's names, or the named place's."""
    library = event.venue_library
    if library is not None:
        return Names(name=library.name, name_en=library.name_en)
    if event.place_name:
        return Names(name=event.place_name, name_en=event.place_name_en)
    return None


def venue_name(event: Event, language: str) -> str:
    """The venue library's name in the language, or the named place's ("" if neither)."""
    names = venue_names(event)
    return names.in_language(language) if names is not None else ""


def venue_addresses(event: Event) -> Names | None:
    """The venue library's address, both ways (None for a named place or no address)."""
    library = event.venue_library
    if library is None or not library.address:
        return None
    return Names(name=library.address, name_en=library.address_en)


def venue_address(event: Event, language: str) -> str:
    """The venue library's address in the language ("" for a named place or none)."""
    library = event.venue_library
    return library.display_address(language) if library is not None else ""


async def load_event(session: AsyncSession, event_id: int) -> Event:
    """The event with its venue, organiser and series (NotFoundError if unknown)."""
    event = await session.scalar(with_venue(select(Event).where(Event.id == event_id)))
    if event is None:
        raise NotFoundError("event")
    return event


async def locked_event(session: AsyncSession, event_id: int) -> Event:
    """The event, re-read and row-locked for a change to its places (inside a write unit)."""
    query = with_venue(select(Event).where(Event.id == event_id)).execution_options(
        populate_existing=True
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Event)
    event = await session.scalar(query)
    if event is None:
        raise NotFoundError("event")
    return event


async def still_published(session: AsyncSession, event_id: int) -> bool:
    """Whether the event is still published, share-locked against a cancel (inside a write).

    A booking of something on the event checks this inside its unit of work, so it either
    commits before a cancellation reads what to cancel, or sees the event cancelled.
    """
    query = select(Event.status).where(Event.id == event_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return await session.scalar(query) is EventStatus.PUBLISHED


async def managed_event(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int
) -> Event:
    """The event if the actor organises it or is an admin (callback data can be forged)."""
    event = await load_event(session, event_id)
    if not roles.is_admin and event.organiser_id != actor.id:
        raise NotAllowedError("not the organiser")
    return event


async def taken(session: AsyncSession, event_id: int) -> int:
    """Places held (confirmed, attended or offered)."""
    return (
        await session.scalar(
            select(func.count()).where(
                Registration.event_id == event_id, Registration.status.in_(HOLDING)
            )
        )
        or 0
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


async def waitlist_rank(session: AsyncSession, registration: Registration) -> int:
    """The registration's place on the waitlist, from 1."""
    ahead = await session.scalar(
        select(func.count()).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.position < registration.position,
        )
    )
    return (ahead or 0) + 1


def active_registrations(event_id: int) -> Select[Registration]:
    """Everyone holding or awaiting a place, in registration order."""
    return (
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status.in_(ACTIVE))
        .order_by(Registration.position)
    )


async def write_unless_refused(
    session: AsyncSession, work: Callable[[], Awaitable[_Result]]
) -> _Result:
    """Run ``work`` as a write unit; a refusal (a DomainError raised before any change)
    ends the unit without a rollback, so what the caller loaded stays usable, then is raised.

    Refusals here need the event's lock to be decided (is there room, is the offer open).
    """
    refusal: DomainError | None = None
    async with write(session):
        try:
            return await work()
        except DomainError as error:
            refusal = error
    assert refusal is not None
    raise refusal
