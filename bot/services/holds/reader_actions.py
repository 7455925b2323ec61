"""What readers see of their holds and do to them: cancel, pass on, move, suspend, extend."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.db import write
from bot.models import ACTIVE_HOLD_STATUSES, Hold, HoldStatus, Library, Reader, utcnow
from bot.services.errors import InvalidInputError
from bot.services.holds import notices
from bot.services.holds.access import own_hold, valid_id
from bot.services.holds.queue import PASSED_ON, close, queue_position, release, target_if_first
from bot.services.holds.refusals import (
    AlreadyExtendedError,
    HoldStateError,
    NotPickupPointError,
    OthersWaitingError,
)
from bot.services.holds.rules import shelf_deadline

MAX_SUSPEND_DAYS = 365


class CancelReason(enum.StrEnum):
    """Why a reader cancelled a hold (what Koha and Evergreen record)."""

    NOT_NEEDED = "not_needed"
    FOUND_ELSEWHERE = "found_elsewhere"
    TOO_LONG = "too_long"
    OTHER = "other"


@dataclass(frozen=True)
class HoldView:
    """A hold as the reader sees it, with their queue position when queued."""

    hold: Hold
    position: int | None


async def active_holds(session: AsyncSession, reader_id: int) -> list[HoldView]:
    """The reader's active holds, oldest first, with queue positions."""
    holds = list(
        await session.scalars(
            select(Hold)
            .where(Hold.reader_id == reader_id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
            .order_by(Hold.queued_at, Hold.id)
        )
    )
    views = []
    for hold in holds:
        position = None
        if hold.status is HoldStatus.QUEUED:
            position = await queue_position(session, hold)
        views.append(HoldView(hold=hold, position=position))
    return views


async def reader_hold(session: AsyncSession, reader: Reader, hold_id: int) -> HoldView:
    """One of the reader's holds, with its queue position (NotYourHoldError otherwise)."""
    hold = await own_hold(session, reader, hold_id, lock=False)
    position = await queue_position(session, hold) if hold.status is HoldStatus.QUEUED else None
    return HoldView(hold=hold, position=position)


async def cancel_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    reason: CancelReason | str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> Hold:
    """The reader cancels an active hold; its copy goes to the next reader. Commits."""
    now = now or utcnow()
    async with write(session):
        hold = await own_hold(session, reader, hold_id, lock=True)
        if hold.status not in ACTIVE_HOLD_STATUSES:
            raise HoldStateError(hold.status)
        was_ready = hold.status is HoldStatus.READY
        await release(session, hold, settings=settings, now=now)
        close(hold, HoldStatus.CANCELLED, now, str(reason))
        if was_ready:
            await notices.settle_ready_notice(session, hold, settings=settings)
    return hold


async def pass_on(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> Hold | None:
    """The reader lets the next reader have the copy; returns the hold that got it. Commits."""
    now = now or utcnow()
    async with write(session):
        hold = await own_hold(session, reader, hold_id, lock=True)
        if hold.status not in (HoldStatus.READY, HoldStatus.IN_TRANSIT):
            raise HoldStateError(hold.status)
        was_ready = hold.status is HoldStatus.READY
        next_hold = await release(session, hold, settings=settings, now=now)
        close(hold, HoldStatus.CANCELLED, now, PASSED_ON)
        if was_ready:
            await notices.settle_ready_notice(session, hold, settings=settings)
    return next_hold


async def change_pickup(
    session: AsyncSession, reader: Reader, hold_id: int, pickup_library_id: int
) -> Hold:
    """A queued hold goes to another pickup library (not once a copy is on its way). Commits."""
    async with write(session):
        hold = await own_hold(session, reader, hold_id, lock=True)
        if hold.status is not HoldStatus.QUEUED:
            raise HoldStateError(hold.status)
        pickup = (
            await session.get(Library, pickup_library_id) if valid_id(pickup_library_id) else None
        )
        if pickup is None or not pickup.is_pickup_point:
            raise NotPickupPointError("pickup library")
        hold.pickup_library_id = pickup.id
        await session.flush()
        await session.refresh(hold, ["pickup_library"])
    return hold


async def suspend_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    until: date,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> Hold:
    """Suspend a queued hold until a date: it keeps its place but is not filled. Commits."""
    now = now or utcnow()
    async with write(session):
        hold = await own_hold(session, reader, hold_id, lock=True)
        if hold.status is not HoldStatus.QUEUED:
            raise HoldStateError(hold.status)
        today = now.astimezone(settings.zone).date()
        if not today < until <= today + timedelta(days=MAX_SUSPEND_DAYS):
            raise InvalidInputError("suspension date")
        hold.suspended_until = datetime.combine(until, time(0, 0), tzinfo=settings.zone)
    return hold


async def resume_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> Hold:
    """End a suspension now; a copy on a shelf goes to the hold if it is first. Commits."""
    now = now or utcnow()
    async with write(session):
        hold = await own_hold(session, reader, hold_id, lock=True)
        if hold.status is not HoldStatus.QUEUED or hold.suspended_until is None:
            raise HoldStateError(hold.status)
        hold.suspended_until = None
        await session.flush()
        await target_if_first(session, hold, settings=settings, now=now)
    return hold


async def extend_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    *,
    settings: Settings,
) -> Hold:
    """+N days on a ready hold, once, when nobody else waits for the work. Commits."""
    async with write(session):
        hold = await own_hold(session, reader, hold_id, lock=True)
        if hold.status is not HoldStatus.READY or hold.ready_until is None:
            raise HoldStateError(hold.status)
        if hold.extended:
            raise AlreadyExtendedError("extended")
        waiting = await session.scalar(
            select(func.count(Hold.id)).where(
                Hold.work_id == hold.work_id, Hold.status == HoldStatus.QUEUED
            )
        )
        if waiting:
            raise OthersWaitingError("others waiting")
        hold.ready_until = shelf_deadline(
            hold.ready_until,
            hold.pickup_library.opening_hours,
            settings.hold_extension_days,
            settings.zone,
        )
        hold.extended = True
        hold.reminded_at = None
        # A ready notice still waiting for its digest delay shows the new date.
        await notices.settle_ready_notice(session, hold, settings=settings)
    return hold
