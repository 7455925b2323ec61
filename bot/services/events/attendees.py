"""Who comes to an event: the list (paged), the CSV, marking attendance, messaging them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Event, Reader, Registration, RegistrationStatus
from bot.notices.intents import Notice
from bot.services import audit, outbox
from bot.services.broadcasts import check_text
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.events.notices import OrganiserMessage
from bot.services.events.records import active_registrations, managed_event
from bot.services.events.times import local_time
from bot.services.outbox import Priority
from bot.services.roles import RoleSet

# Held places first, then offers, the waitlist, and cancellations last.
_LIST_ORDER = case(
    (Registration.status.in_([RegistrationStatus.ATTENDED, RegistrationStatus.CONFIRMED]), 0),
    (Registration.status == RegistrationStatus.OFFERED, 1),
    (Registration.status == RegistrationStatus.WAITLISTED, 2),
    else_=3,
)


@dataclass(frozen=True)
class Attendee:
    """One line of the attendee list."""

    registration: Registration
    reader: Reader


async def attendees(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Event, list[Attendee]]:
    """Everyone registered, waiting or cancelled: held places first, then the waitlist.

    With ``limit``, one page of them (ask for one more to know whether another follows).
    """
    event = await managed_event(session, actor, roles, event_id)
    query = (
        select(Registration, Reader)
        .join(Reader, Reader.id == Registration.reader_id)
        .where(Registration.event_id == event.id)
        .order_by(_LIST_ORDER, Registration.position)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = await session.execute(query)
    return event, [Attendee(registration, reader) for registration, reader in rows]


async def status_counts(session: AsyncSession, event_id: int) -> dict[RegistrationStatus, int]:
    """How many registrations of the event are in each status."""
    counts = dict.fromkeys(RegistrationStatus, 0)
    rows = await session.execute(
        select(Registration.status, func.count())
        .where(Registration.event_id == event_id)
        .group_by(Registration.status)
    )
    for status, number in rows:
        counts[status] = number
    return counts


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
    if registration.status not in (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED):
        raise InvalidInputError("not confirmed")
    async with write(session):
        if registration.status is RegistrationStatus.CONFIRMED:
            registration.status = RegistrationStatus.ATTENDED
            registration.attended_at = now
        else:
            registration.status = RegistrationStatus.CONFIRMED
            registration.attended_at = None
        audit.record(
            session,
            actor,
            "event.attendance",
            target_type="registration",
            target_id=registration.id,
            event_id=registration.event_id,
            status=registration.status.value,
        )
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
    message = OrganiserMessage(event_id=event.id, html=html_text)
    async with write(session):
        registrations = list(await session.scalars(active_registrations(event.id)))
        queued = await outbox.enqueue_notices(
            session,
            [
                Notice(
                    reader_id=registration.reader_id,
                    data=message,
                    dedup_key=f"ev-msg:{event.id}:{draft_key}:{registration.reader_id}",
                    priority=Priority.NORMAL,
                )
                for registration in registrations
            ],
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
    return queued
