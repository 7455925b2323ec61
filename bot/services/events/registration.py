"""Places at events: registering, the waitlist, timed offers, cancelling, a reader's own list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Event, EventStatus, Reader, Registration, RegistrationStatus
from bot.notices.intents import Notice
from bot.services import outbox
from bot.services.errors import NotFoundError
from bot.services.events.errors import (
    AlreadyRegisteredError,
    NotRegisteredError,
    OfferGoneError,
    RegistrationClosedError,
)
from bot.services.events.notices import PlaceConfirmed, PlaceOffered, shown
from bot.services.events.records import (
    ACTIVE,
    locked_event,
    taken,
    waitlist_rank,
    with_venue,
    write_unless_refused,
)
from bot.services.outbox import Priority


@dataclass(frozen=True)
class WaitlistRules:
    """When a freed place is offered rather than given, and for how long."""

    offer_within: timedelta = timedelta(hours=24)
    offer_for: timedelta = timedelta(hours=2)

    @classmethod
    def for_alliance(cls, settings: Settings) -> WaitlistRules:
        """The alliance's waitlist-offer settings."""
        return cls(
            offer_within=timedelta(hours=settings.waitlist_offer_within_hours),
            offer_for=timedelta(hours=settings.waitlist_offer_hours),
        )


@dataclass(frozen=True)
class Registered:
    """The outcome of registering: the registration and, when waitlisted, the rank."""

    event: Event
    registration: Registration
    waitlist_rank: int | None


def _check_open(event: Event, now: datetime) -> None:
    if event.status is EventStatus.CANCELLED:
        raise RegistrationClosedError(cancelled=True)
    if event.status is not EventStatus.PUBLISHED:
        raise RegistrationClosedError()
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        raise RegistrationClosedError(event.registration_opens_at)
    if now >= (event.registration_closes_at or event.starts_at) or now >= event.starts_at:
        raise RegistrationClosedError()


async def _register_locked(
    session: AsyncSession, reader: Reader, event: Event, now: datetime
) -> Registered:
    _check_open(event, now)
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
    room = await taken(session, event.id) < event.capacity and waiting == 0
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
    rank = None if room else await waitlist_rank(session, registration)
    return Registered(event, registration, rank)


async def register(
    session: AsyncSession, reader: Reader, event_id: int, *, now: datetime
) -> Registered:
    """Register the reader: confirmed while there is room, else waitlisted; commits."""

    async def work() -> Registered:
        event = await locked_event(session, event_id)
        return await _register_locked(session, reader, event, now)

    return await write_unless_refused(session, work)


async def register_series(
    session: AsyncSession, reader: Reader, event_id: int, *, now: datetime
) -> list[Registered]:
    """Register for this session and every later one of its series still open; commits."""

    async def work() -> list[Registered]:
        first = await locked_event(session, event_id)
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
            event = await locked_event(session, session_id)
            try:
                results.append(await _register_locked(session, reader, event, now))
            except (AlreadyRegisteredError, RegistrationClosedError):
                continue
        return results

    return await write_unless_refused(session, work)


async def fill_places(
    session: AsyncSession, event: Event, now: datetime, rules: WaitlistRules
) -> int:
    """Give free places to the waitlist in order (confirm, or offer near the start).

    Runs inside the caller's write unit, with the event locked.
    """
    if event.status is not EventStatus.PUBLISHED or now >= event.starts_at:
        return 0
    free = event.capacity - await taken(session, event.id)
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
        await outbox.enqueue_notices(session, [_move_up(waiting, event, now, rules)], now=now)
        await session.flush()
        free -= 1
        moved += 1
    return moved


def _move_up(waiting: Registration, event: Event, now: datetime, rules: WaitlistRules) -> Notice:
    """Offer the place (near the start) or confirm it; the notice that says which."""
    stamp = int(now.timestamp())
    if event.starts_at - now <= rules.offer_within:
        waiting.status = RegistrationStatus.OFFERED
        waiting.offer_expires_at = until = min(now + rules.offer_for, event.starts_at)
        return Notice(
            reader_id=waiting.reader_id,
            data=PlaceOffered(event=shown(event), registration_id=waiting.id, until=until),
            dedup_key=f"ev-offer:{waiting.id}:{stamp}",
            priority=Priority.HIGH,
            expires_at=until,
        )
    waiting.status = RegistrationStatus.CONFIRMED
    return Notice(
        reader_id=waiting.reader_id,
        data=PlaceConfirmed(event=shown(event)),
        dedup_key=f"ev-promoted:{waiting.id}:{stamp}",
        priority=Priority.HIGH,
    )


async def cancel_registration(
    session: AsyncSession,
    reader: Reader,
    event_id: int,
    *,
    now: datetime,
    rules: WaitlistRules,
) -> Registration:
    """Cancel the reader's registration (any time) and pass the place on; commits."""

    async def work() -> Registration:
        event = await locked_event(session, event_id)
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
        await outbox.skip_pending(
            session, f"ev-rem:{event.id}:{reader.id}:", "registration cancelled"
        )
        await fill_places(session, event, now, rules)
        return registration

    return await write_unless_refused(session, work)


async def answer_offer(
    session: AsyncSession,
    reader: Reader,
    registration_id: int,
    accept: bool,
    *,
    now: datetime,
    rules: WaitlistRules,
) -> Registration:
    """Accept (confirmed) or decline (the place moves on) a timed offer; commits."""

    async def work() -> Registration:
        registration = await session.get(Registration, registration_id)
        if registration is None or registration.reader_id != reader.id:
            raise OfferGoneError("not yours")
        event = await locked_event(session, registration.event_id)
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
            await fill_places(session, event, now, rules)
        return registration

    return await write_unless_refused(session, work)


@dataclass(frozen=True)
class MyEvent:
    """One of the reader's registrations, with the waitlist rank when waiting."""

    registration: Registration
    event: Event
    waitlist_rank: int | None


async def my_events(
    session: AsyncSession, reader: Reader, *, now: datetime, limit: int = 50, offset: int = 0
) -> tuple[list[MyEvent], bool]:
    """The reader's registrations for events that have not ended, soonest first; more?"""
    rows = list(
        await session.execute(
            with_venue(select(Event))
            .add_columns(Registration)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Registration.reader_id == reader.id,
                Registration.status.in_(ACTIVE),
                Event.ends_at > now,
                Event.status == EventStatus.PUBLISHED,
            )
            .order_by(Event.starts_at, Event.id)
            .offset(offset)
            .limit(limit + 1)
        )
    )
    result = []
    for event, registration in rows[:limit]:
        rank = None
        if registration.status is RegistrationStatus.WAITLISTED:
            rank = await waitlist_rank(session, registration)
        result.append(MyEvent(registration, event, rank))
    return result, len(rows) > limit
