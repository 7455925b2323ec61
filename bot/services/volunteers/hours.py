"""Hours served: a reader's over a period, and per reader and per institution for exports."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.models import Event, Reader, VolunteerShift, VolunteerSignup
from bot.services.events.records import venue_name
from bot.services.roles import RoleSet
from bot.services.volunteers.attendance import served


@dataclass
class Service:
    """Shifts served (checked in and out) and the time counted."""

    shifts: int = 0
    time: timedelta = field(default_factory=timedelta)

    @property
    def hours(self) -> float:
        """The time in hours."""
        return self.time.total_seconds() / 3600


async def _served_signups(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    reader: Reader | None = None,
    roles: RoleSet | None = None,
    actor: Reader | None = None,
) -> list[VolunteerSignup]:
    query = (
        select(VolunteerSignup)
        .join(VolunteerShift, VolunteerSignup.shift_id == VolunteerShift.id)
        .join(Event, VolunteerShift.event_id == Event.id)
        .where(
            VolunteerSignup.checked_out_at.is_not(None),
            VolunteerShift.starts_at >= start,
            VolunteerShift.starts_at < end,
        )
        .options(
            selectinload(VolunteerSignup.reader),
            selectinload(VolunteerSignup.shift)
            .selectinload(VolunteerShift.event)
            .selectinload(Event.venue_library),
        )
        .order_by(VolunteerShift.starts_at)
    )
    if reader is not None:
        query = query.where(VolunteerSignup.reader_id == reader.id)
    if roles is not None and actor is not None and not roles.is_admin:
        query = query.where(Event.organiser_id == actor.id)
    return list(await session.scalars(query))


def _time(signup: VolunteerSignup) -> timedelta:
    assert signup.checked_in_at is not None and signup.checked_out_at is not None
    return served(signup.shift, signup.checked_in_at, signup.checked_out_at)


async def reader_service(
    session: AsyncSession, reader: Reader, start: datetime, end: datetime
) -> Service:
    """The reader's shifts served in [start, end) and the time counted."""
    total = Service()
    for signup in await _served_signups(session, start, end, reader=reader):
        total.shifts += 1
        total.time += _time(signup)
    return total


@dataclass(frozen=True)
class HoursExport:
    """The two CSV files: hours per reader and per institution (the event's venue)."""

    per_reader: bytes
    per_institution: bytes
    readers: int


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


async def export_hours(
    session: AsyncSession, actor: Reader, roles: RoleSet, start: datetime, end: datetime
) -> HoursExport:
    """Hours served in [start, end) on the actor's events (admins: every event)."""
    signups = await _served_signups(session, start, end, roles=roles, actor=actor)
    readers: dict[int, tuple[Reader, Service]] = {}
    places: dict[str, tuple[Service, set[int]]] = defaultdict(lambda: (Service(), set()))
    for signup in signups:
        time = _time(signup)
        _reader, service = readers.setdefault(signup.reader_id, (signup.reader, Service()))
        service.shifts += 1
        service.time += time
        institution = venue_name(signup.shift.event, "zh") or "—"
        place_service, volunteers = places[institution]
        place_service.shifts += 1
        place_service.time += time
        volunteers.add(signup.reader_id)
    per_reader = _csv(
        ["card_number", "name", "shifts", "hours"],
        [
            [reader.card_number, reader.first_name, service.shifts, f"{service.hours:.2f}"]
            for reader, service in sorted(readers.values(), key=lambda pair: -pair[1].time)
        ],
    )
    per_institution = _csv(
        ["institution", "volunteers", "shifts", "hours"],
        [
            [name, len(volunteers), service.shifts, f"{service.hours:.2f}"]
            for name, (service, volunteers) in sorted(places.items())
        ],
    )
    return HoursExport(per_reader=per_reader, per_institution=per_institution, readers=len(readers))
