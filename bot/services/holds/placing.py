"""Placing a hold: the pickup choices for a work, then the hold and the copy it takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db import write
from bot.models import (
    ACTIVE_HOLD_STATUSES,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Library,
    Reader,
    Work,
    utcnow,
)
from bot.services.errors import NotFoundError
from bot.services.holds.access import circulating_copies, lock_reader, lock_work, valid_id
from bot.services.holds.queue import not_suspended, queue_position, target, transit
from bot.services.holds.refusals import (
    AlreadyHoldingError,
    HoldLimitError,
    NoCopiesError,
    NotPickupPointError,
)
from bot.services.holds.rules import queue_estimate_days
from bot.services.search import reader_origin


@dataclass(frozen=True)
class PickupOption:
    """A pickup point for a work: a copy on its shelf, or days of transit, or a queue."""

    library: Library
    distance_km: float | None
    on_shelf: bool
    transit_days: int | None


@dataclass(frozen=True)
class Placement:
    """A placed hold: its status, queue position and an estimate in days."""

    hold: Hold
    position: int | None
    estimate_days: int | None
    source: Library | None


async def held_work(session: AsyncSession, reader: Reader, work_id: int) -> int | None:
    """The reader's active hold on a work, if any (its id): one hold per work and reader."""
    if not valid_id(work_id):
        return None
    held: int | None = await session.scalar(
        select(Hold.id).where(
            Hold.reader_id == reader.id,
            Hold.work_id == work_id,
            Hold.status.in_(ACTIVE_HOLD_STATUSES),
        )
    )
    return held


async def pickup_options(
    session: AsyncSession, reader: Reader, work_id: int, *, settings: Settings
) -> tuple[Work, list[PickupOption]]:
    """Pickup points for a work, nearest to the reader first, each with shelf or transit."""
    work = await session.get(Work, work_id) if valid_id(work_id) else None
    if work is None:
        raise NotFoundError("work")
    available = list(
        await session.scalars(
            select(Library)
            .join(Item, Item.library_id == Library.id)
            .where(Item.work_id == work.id, Item.status == ItemStatus.AVAILABLE)
            .distinct()
        )
    )
    if not available and not await circulating_copies(session, work.id):
        raise NoCopiesError("no copies")
    origin = await reader_origin(session, reader)
    pickups = list(await session.scalars(select(Library).where(Library.is_pickup_point.is_(True))))
    shelf = {library.id for library in available}
    options = []
    for pickup in pickups:
        distance = origin.distance_km(pickup.latitude, pickup.longitude)
        days = min((transit(source, pickup, settings) for source in available), default=None)
        options.append(
            PickupOption(
                library=pickup,
                distance_km=distance,
                on_shelf=pickup.id in shelf,
                transit_days=None if pickup.id in shelf else days,
            )
        )
    options.sort(
        key=lambda o: (o.distance_km is None, o.distance_km or 0.0, o.library.name, o.library.id)
    )
    return work, options


async def _check_reader_may_hold(
    session: AsyncSession, reader: Reader, work_id: int, settings: Settings
) -> None:
    """One hold per work, at most ``max_active_holds`` in all (the reader is locked)."""
    active = (
        await session.execute(
            select(Hold.id, Hold.work_id).where(
                Hold.reader_id == reader.id, Hold.status.in_(ACTIVE_HOLD_STATUSES)
            )
        )
    ).all()
    for hold_id, held_work_id in active:
        if held_work_id == work_id:
            raise AlreadyHoldingError(hold_id)
    if len(active) >= settings.max_active_holds:
        raise HoldLimitError(settings.max_active_holds)


async def _placement(
    session: AsyncSession, hold: Hold, pickup: Library, copies: int, settings: Settings
) -> Placement:
    """Where the new hold stands: its place in the queue, or where its copy comes from."""
    if hold.status is HoldStatus.QUEUED:
        position = await queue_position(session, hold)
        return Placement(hold, position, queue_estimate_days(position, copies), None)
    if hold.status is HoldStatus.IN_TRANSIT:
        assert hold.item_id is not None
        item = await session.get(Item, hold.item_id)
        assert item is not None
        source = await session.get(Library, item.library_id)
        assert source is not None
        return Placement(hold, None, transit(source, pickup, settings), source)
    return Placement(hold, None, None, None)


async def place_hold(
    session: AsyncSession,
    reader: Reader,
    work_id: int,
    pickup_library_id: int,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> Placement:
    """Place a hold; see the package docstring for which copy it takes. Commits."""
    if not valid_id(work_id):
        raise NotFoundError("work")
    async with write(session):
        pickup = (
            await session.get(Library, pickup_library_id) if valid_id(pickup_library_id) else None
        )
        if pickup is None or not pickup.is_pickup_point:
            raise NotPickupPointError("pickup library")
        await lock_reader(session, reader.id)
        work = await lock_work(session, work_id)
        await _check_reader_may_hold(session, reader, work_id, settings)
        copies = await circulating_copies(session, work_id)
        if not copies:
            raise NoCopiesError("no copies")
        # Taken once the work is locked: the queue's order is the order of placing.
        now = now or utcnow()
        hold = Hold(
            reader_id=reader.id,
            work=work,
            pickup_library=pickup,
            status=HoldStatus.QUEUED,
            queued_at=now,
            expires_at=now + timedelta(days=settings.unfilled_hold_days),
        )
        session.add(hold)
        try:
            await session.flush()
        except IntegrityError:
            raise AlreadyHoldingError(0) from None
        waiting = await session.scalar(
            select(func.count(Hold.id)).where(
                Hold.work_id == work_id,
                Hold.status == HoldStatus.QUEUED,
                Hold.id != hold.id,
                not_suspended(now),
            )
        )
        # First come, first served: a copy on a shelf goes to this hold only if nobody waits.
        if not waiting:
            await target(session, hold, settings=settings, now=now)
        return await _placement(session, hold, pickup, copies, settings)
