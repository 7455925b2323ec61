"""Check-in and check-out by the shift's QR codes: in first, then out, once each."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import Reader, VolunteerShift, VolunteerSignup
from bot.services.errors import DomainError, NotFoundError

# Volunteers may check in this long before their shift, and out this long after it.
EARLY = timedelta(minutes=30)
LATE = timedelta(hours=2)

IN_LINK = "vin"
OUT_LINK = "vout"


class AttendanceError(DomainError):
    """Refused: ``reason`` is not_signed_up, too_early, over, already_in, not_in, already_out."""

    def __init__(self, reason: str, shift: VolunteerShift) -> None:
        super().__init__(reason)
        self.reason = reason
        self.shift = shift


async def _signup(
    session: AsyncSession, reader: Reader, token: str
) -> tuple[VolunteerShift, VolunteerSignup]:
    shift = await session.scalar(
        select(VolunteerShift)
        .where(VolunteerShift.token == token)
        .options(selectinload(VolunteerShift.event))
    )
    if shift is None:
        raise NotFoundError("shift")
    signup = await session.scalar(
        select(VolunteerSignup)
        .where(VolunteerSignup.shift_id == shift.id, VolunteerSignup.reader_id == reader.id)
        .execution_options(populate_existing=True)
    )
    if signup is None:
        raise AttendanceError("not_signed_up", shift)
    return shift, signup


async def check_in(
    session: AsyncSession, reader: Reader, token: str, *, now: datetime
) -> VolunteerShift:
    """Start the volunteer's hours (from 30 minutes before the shift to its end)."""
    shift, signup = await _signup(session, reader, token)
    if now < shift.starts_at - EARLY:
        raise AttendanceError("too_early", shift)
    if now > shift.ends_at:
        raise AttendanceError("over", shift)
    if signup.checked_in_at is not None:
        raise AttendanceError("already_in", shift)
    async with write(session):
        moved = await session.execute(
            update(VolunteerSignup)
            .where(VolunteerSignup.id == signup.id, VolunteerSignup.checked_in_at.is_(None))
            .values(checked_in_at=now)
            .execution_options(synchronize_session=False)
        )
        if not int(getattr(moved, "rowcount", 0) or 0):
            raise AttendanceError("already_in", shift)
    return shift


async def check_out(
    session: AsyncSession, reader: Reader, token: str, *, now: datetime
) -> tuple[VolunteerShift, timedelta]:
    """End the volunteer's hours; refused without a check-in. Returns the time counted."""
    shift, signup = await _signup(session, reader, token)
    if signup.checked_in_at is None:
        raise AttendanceError("not_in", shift)
    if signup.checked_out_at is not None:
        raise AttendanceError("already_out", shift)
    if now > shift.ends_at + LATE:
        raise AttendanceError("over", shift)
    async with write(session):
        moved = await session.execute(
            update(VolunteerSignup)
            .where(
                VolunteerSignup.id == signup.id,
                VolunteerSignup.checked_in_at.is_not(None),
                VolunteerSignup.checked_out_at.is_(None),
            )
            .values(checked_out_at=now)
            .execution_options(synchronize_session=False)
        )
        if not int(getattr(moved, "rowcount", 0) or 0):
            raise AttendanceError("already_out", shift)
    return shift, served(shift, signup.checked_in_at, now)


def served(shift: VolunteerShift, checked_in: datetime, checked_out: datetime) -> timedelta:
    """Time counted: from check-in to check-out, within the shift's span (early or late
    arrival counts no extra)."""
    start = max(checked_in, shift.starts_at)
    end = min(checked_out, shift.ends_at)
    return max(timedelta(0), end - start)
