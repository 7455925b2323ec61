"""Shifts: organisers open them on their events; readers sign up (while places last) or withdraw."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Event, EventStatus, Reader, VolunteerShift, VolunteerSignup
from bot.notices.intents import Names, Notice, NoticeData, notice_kind
from bot.services import audit, outbox
from bot.services.errors import DomainError, InvalidInputError, NotFoundError
from bot.services.events.records import managed_event, still_published
from bot.services.outbox import Priority
from bot.services.roles import RoleSet

ROLE_LIMIT = 60
MAX_PLACES = 500
REMIND_BEFORE = timedelta(hours=2)


class ShiftFullError(DomainError):
    """Every place on the shift is taken."""


class AlreadySignedUpError(DomainError):
    """The reader is on this shift already."""


class ShiftStartedError(DomainError):
    """The shift has started: signing up or withdrawing is over."""


class NotSignedUpError(NotFoundError):
    """The reader is not on this shift."""


class ShiftCancelledError(DomainError):
    """The shift's event was cancelled."""


class ShiftShown(BaseModel):
    """A shift as notices show it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shift_id: int
    role: str
    event: Names
    starts_at: datetime
    ends_at: datetime


@notice_kind("volunteer.reminder")
class ShiftReminder(NoticeData):
    """A volunteer's shift starts soon: check in with the QR code at the venue."""

    shift: ShiftShown


@notice_kind("volunteer.cancelled")
class ShiftCancelled(NoticeData):
    """The event was cancelled: the volunteer's shift on it is off."""

    shift: ShiftShown


async def add_shift(
    session: AsyncSession,
    actor: Reader,
    roles: RoleSet,
    event_id: int,
    *,
    role: str,
    places: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> VolunteerShift:
    """A shift on the actor's event (admins: any event); it may start before or end after."""
    event = await managed_event(session, actor, roles, event_id)
    if event.status is not EventStatus.PUBLISHED:
        raise InvalidInputError("event")
    if not 0 < len(role) <= ROLE_LIMIT:
        raise InvalidInputError("role")
    if not 1 <= places <= MAX_PLACES:
        raise InvalidInputError("places")
    if ends_at <= starts_at or starts_at <= now or ends_at - starts_at > timedelta(hours=12):
        raise InvalidInputError("times")
    async with write(session):
        shift = VolunteerShift(
            event_id=event.id,
            role=role,
            places=places,
            starts_at=starts_at,
            ends_at=ends_at,
            token=secrets.token_urlsafe(16),
        )
        session.add(shift)
        await session.flush()
        audit.record(
            session,
            actor,
            "volunteer.shift",
            target_type="event",
            target_id=event.id,
            shift_id=shift.id,
        )
    return shift


@dataclass(frozen=True)
class OpenShift:
    """A shift to come with its places taken, and whether the reader is on it."""

    shift: VolunteerShift
    taken: int
    mine: bool

    @property
    def left(self) -> int:
        """Places still free."""
        return max(0, self.shift.places - self.taken)


async def open_shifts(
    session: AsyncSession, reader: Reader, *, now: datetime, limit: int = 20
) -> list[OpenShift]:
    """Shifts not yet started on published events, soonest first."""
    shifts = list(
        await session.scalars(
            select(VolunteerShift)
            .join(Event, VolunteerShift.event_id == Event.id)
            .where(VolunteerShift.starts_at > now, Event.status == EventStatus.PUBLISHED)
            .options(selectinload(VolunteerShift.event))
            .order_by(VolunteerShift.starts_at, VolunteerShift.id)
            .limit(limit)
        )
    )
    ids = [shift.id for shift in shifts]
    counts = (
        dict(
            (
                await session.execute(
                    select(VolunteerSignup.shift_id, func.count())
                    .where(VolunteerSignup.shift_id.in_(ids))
                    .group_by(VolunteerSignup.shift_id)
                )
            ).all()
        )
        if ids
        else {}
    )
    mine = (
        set(
            await session.scalars(
                select(VolunteerSignup.shift_id).where(
                    VolunteerSignup.shift_id.in_(ids), VolunteerSignup.reader_id == reader.id
                )
            )
        )
        if ids
        else set()
    )
    return [
        OpenShift(shift=shift, taken=int(counts.get(shift.id, 0)), mine=shift.id in mine)
        for shift in shifts
    ]


async def _shift(session: AsyncSession, shift_id: int, *, lock: bool = False) -> VolunteerShift:
    query = (
        select(VolunteerShift)
        .where(VolunteerShift.id == shift_id)
        .options(selectinload(VolunteerShift.event))
        .execution_options(populate_existing=True)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=VolunteerShift)
    shift = await session.scalar(query)
    if shift is None:
        raise NotFoundError("shift")
    return shift


def _shown(shift: VolunteerShift) -> ShiftShown:
    return ShiftShown(
        shift_id=shift.id,
        role=shift.role,
        event=Names(name=shift.event.title, name_en=shift.event.title_en),
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
    )


def _key(shift_id: int, reader_id: int) -> str:
    return f"vol:{shift_id}:{reader_id}:"


async def sign_up(
    session: AsyncSession, reader: Reader, shift_id: int, *, now: datetime
) -> VolunteerShift:
    """Take a place on the shift while places last (the shift row is locked to count)."""
    shift = await _shift(session, shift_id)
    if shift.starts_at <= now:
        raise ShiftStartedError("started")
    known = await session.scalar(
        select(VolunteerSignup.id).where(
            VolunteerSignup.shift_id == shift.id, VolunteerSignup.reader_id == reader.id
        )
    )
    if known is not None:
        raise AlreadySignedUpError("signed up")
    refusal: DomainError | None = None
    try:
        async with write(session):
            shift = await _shift(session, shift_id, lock=True)
            if not await still_published(session, shift.event_id):
                raise ShiftCancelledError("cancelled")
            taken = await session.scalar(
                select(func.count()).where(VolunteerSignup.shift_id == shift.id)
            )
            if (taken or 0) >= shift.places:
                refusal = ShiftFullError("full")
            else:
                session.add(
                    VolunteerSignup(shift_id=shift.id, reader_id=reader.id, signed_up_at=now)
                )
                remind_at = shift.starts_at - REMIND_BEFORE
                if remind_at > now:
                    await outbox.enqueue_notices(
                        session,
                        [
                            Notice(
                                reader_id=reader.id,
                                data=ShiftReminder(shift=_shown(shift)),
                                dedup_key=f"{_key(shift.id, reader.id)}{int(now.timestamp())}",
                                not_before=remind_at,
                                expires_at=shift.starts_at,
                            )
                        ],
                        now=now,
                    )
                await session.flush()
    except IntegrityError as error:
        raise AlreadySignedUpError("signed up") from error
    if refusal is not None:
        raise refusal
    return shift


async def withdraw(session: AsyncSession, reader: Reader, shift_id: int, *, now: datetime) -> None:
    """Give the place back before the shift starts."""
    shift = await _shift(session, shift_id)
    if shift.starts_at <= now:
        raise ShiftStartedError("started")
    on_it = await session.scalar(
        select(VolunteerSignup.id).where(
            VolunteerSignup.shift_id == shift.id, VolunteerSignup.reader_id == reader.id
        )
    )
    if on_it is None:
        raise NotSignedUpError("not signed up")
    async with write(session):
        gone = await session.execute(
            delete(VolunteerSignup).where(
                VolunteerSignup.shift_id == shift.id, VolunteerSignup.reader_id == reader.id
            )
        )
        if not int(getattr(gone, "rowcount", 0) or 0):
            raise NotSignedUpError("not signed up")
        await outbox.skip_pending(session, _key(shift.id, reader.id), "withdrew")


async def cancel_for_event(session: AsyncSession, event: Event, *, now: datetime) -> list[Notice]:
    """Inside an event's cancellation: drop the sign-ups nobody checked in on (hours served
    stay), skip their reminders; the notices telling each volunteer."""
    signups = list(
        await session.scalars(
            select(VolunteerSignup)
            .join(VolunteerShift, VolunteerSignup.shift_id == VolunteerShift.id)
            .where(VolunteerShift.event_id == event.id, VolunteerSignup.checked_in_at.is_(None))
            .options(selectinload(VolunteerSignup.shift).selectinload(VolunteerShift.event))
        )
    )
    notices: list[Notice] = []
    for signup in signups:
        await outbox.skip_pending(
            session, _key(signup.shift_id, signup.reader_id), "event cancelled"
        )
        notices.append(
            Notice(
                reader_id=signup.reader_id,
                data=ShiftCancelled(shift=_shown(signup.shift)),
                dedup_key=f"vol-cancelled:{signup.shift_id}:{signup.reader_id}",
                priority=Priority.HIGH,
            )
        )
    if signups:
        await session.execute(
            delete(VolunteerSignup).where(
                VolunteerSignup.id.in_([signup.id for signup in signups]),
                VolunteerSignup.checked_in_at.is_(None),
            )
        )
    return notices
