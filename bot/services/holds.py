"""Holds: a reader's requests for works, their place in the queue, and what staff do to copies.

The rules follow Evergreen and Koha: title-level holds; at most ``max_active_holds`` active
holds per reader and one per work; a new hold takes an available copy at the pickup library
first, else the nearest available copy elsewhere (the hold goes ``in_transit``), else it
queues first come, first served. A copy checked in, released or expired goes to the oldest
queued hold that is not suspended (preferring readers whose pickup library is where the copy
is, when ``hold_prefer_local_pickup`` says so). Ready holds wait ``hold_shelf_days`` opening
days of the pickup library.

Concurrency: every change to the holds of a work first locks that work's row (``FOR UPDATE``
on PostgreSQL; SQLite transactions begin with ``BEGIN IMMEDIATE`` and serialise anyway), so
two readers racing for the last copy are served one after the other; the partial unique
indexes on ``holds`` are the last line: no copy is ever assigned to two active holds.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.geo import haversine_km
from bot.i18n import Translator
from bot.models import (
    ACTIVE_HOLD_STATUSES,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Library,
    Reader,
    Work,
    WorkWatch,
    utcnow,
)
from bot.services import audit, hold_notices
from bot.services.errors import DomainError, InvalidInputError, NotAllowedError, NotFoundError
from bot.services.hold_rules import queue_estimate_days, shelf_deadline, transit_days
from bot.services.search import reader_origin

MAX_ID = 2**31 - 1
MAX_SUSPEND_DAYS = 365
BARCODE_CHARS = 64


# --- refusals -----------------------------------------------------------------------------


class HoldLimitError(DomainError):
    """The reader already has as many active holds as allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} active holds")
        self.limit = limit


class AlreadyHoldingError(DomainError):
    """The reader already has an active hold on this work."""

    def __init__(self, hold_id: int) -> None:
        super().__init__("already holding this work")
        self.hold_id = hold_id


class NoCopiesError(DomainError):
    """No library in the alliance has a copy of the work (that is not missing)."""


class NotPickupPointError(InvalidInputError):
    """That library does not hand out holds."""


class NotYourHoldError(NotFoundError):
    """No such hold among the reader's (another reader's id, or a made-up one)."""


class HoldStateError(DomainError):
    """The hold is not in a state that allows this (already cancelled, not ready...)."""

    def __init__(self, status: HoldStatus) -> None:
        super().__init__(f"hold is {status.value}")
        self.status = status


class AlreadyExtendedError(DomainError):
    """A ready hold is extended once at most."""


class OthersWaitingError(DomainError):
    """Somebody else waits for the work, so the hold cannot be extended."""


class UnknownBarcodeError(NotFoundError):
    """No copy (or no reader's card) has that barcode."""

    def __init__(self, barcode: str) -> None:
        super().__init__(barcode)
        self.barcode = barcode


class WrongLibraryError(NotAllowedError):
    """The librarian is not a librarian of the library this copy or hold belongs to."""

    def __init__(self, library: Library) -> None:
        super().__init__(library.code)
        self.library = library


class NothingToDoError(DomainError):
    """The copy is in no state that this staff action applies to."""

    def __init__(self, item: Item) -> None:
        super().__init__(item.status.value)
        self.item = item


class NothingWaitingError(DomainError):
    """No ready hold of that reader waits at the librarian's library."""


class CancelReason(enum.StrEnum):
    """Why a reader cancelled a hold (what Koha and Evergreen record)."""

    NOT_NEEDED = "not_needed"
    FOUND_ELSEWHERE = "found_elsewhere"
    TOO_LONG = "too_long"
    OTHER = "other"


PASSED_ON = "passed_on"
LAST_COPY_MISSING = "last_copy_missing"


# --- views ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldView:
    """A hold as the reader sees it, with their queue position when queued."""

    hold: Hold
    position: int | None


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


@dataclass(frozen=True)
class StaffOutcome:
    """What a staff action did to a copy and to the hold it serves (if any)."""

    item: Item
    hold: Hold | None
    action: str
    destination: Library | None = None


@dataclass(frozen=True)
class PullEntry:
    """A copy to take off the shelf for a hold."""

    item: Item
    hold: Hold


# --- helpers --------------------------------------------------------------------------------


def _valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


async def _lock_work(session: AsyncSession, work_id: int) -> Work:
    work = await session.scalar(select(Work).where(Work.id == work_id).with_for_update())
    if work is None:
        raise NotFoundError("work")
    return work


async def _lock_reader(session: AsyncSession, reader_id: int) -> None:
    # SQLite transactions already hold the database's write lock (BEGIN IMMEDIATE).
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(Reader.id).where(Reader.id == reader_id).with_for_update())


def _not_suspended(now: datetime) -> object:
    return or_(Hold.suspended_until.is_(None), Hold.suspended_until <= now)


async def queue_position(session: AsyncSession, hold: Hold) -> int:
    """1 for the first in line: queued holds of the work placed earlier, plus one."""
    ahead = await session.scalar(
        select(func.count(Hold.id)).where(
            Hold.work_id == hold.work_id,
            Hold.status == HoldStatus.QUEUED,
            or_(
                Hold.queued_at < hold.queued_at,
                and_(Hold.queued_at == hold.queued_at, Hold.id < hold.id),
            ),
        )
    )
    return (ahead or 0) + 1


async def _circulating_copies(session: AsyncSession, work_id: int) -> int:
    return (
        await session.scalar(
            select(func.count(Item.id)).where(
                Item.work_id == work_id, Item.status != ItemStatus.MISSING
            )
        )
        or 0
    )


def _transit(source: Library, pickup: Library, settings: Settings) -> int:
    return transit_days(
        source.latitude,
        source.longitude,
        pickup.latitude,
        pickup.longitude,
        base_days=settings.hold_transit_base_days,
        km_per_day=settings.hold_transit_km_per_day,
    )


async def _reader_hold(
    session: AsyncSession, reader: Reader, hold_id: int, *, lock: bool = True
) -> Hold:
    """The reader's own hold, with its work locked (NotYourHoldError otherwise)."""
    if not _valid_id(hold_id):
        raise NotYourHoldError("hold")
    hold = await session.get(Hold, hold_id)
    if hold is None or hold.reader_id != reader.id:
        raise NotYourHoldError("hold")
    if lock:
        await _lock_work(session, hold.work_id)
        await session.refresh(hold)
    await _load_relations(session, hold)
    return hold


async def _load_relations(
    session: AsyncSession, hold: Hold, names: Sequence[str] = ("work", "pickup_library", "item")
) -> None:
    """Load the hold's relationships that are not loaded yet (one query each)."""
    missing = [name for name in names if name in inspect(hold).unloaded]
    if missing:
        await session.refresh(hold, missing)


def _ready(hold: Hold, item: Item, now: datetime, settings: Settings) -> None:
    hold.status = HoldStatus.READY
    hold.item_id = item.id
    hold.ready_at = now
    hold.ready_until = shelf_deadline(
        now, hold.pickup_library.opening_hours, settings.hold_shelf_days, settings.zone
    )
    hold.reminded_at = None
    item.status = ItemStatus.HELD


async def _assign(
    session: AsyncSession,
    hold: Hold,
    item: Item,
    here: Library,
    *,
    pulled: bool,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> int | None:
    """Give the copy (now at ``here``) to the hold: ready if here is the pickup library."""
    await _load_relations(session, hold, ("work", "pickup_library"))
    hold.suspended_until = None
    hold.pulled_at = now if pulled else None
    if here.id == hold.pickup_library_id:
        _ready(hold, item, now, settings)
        await session.flush()
        await hold_notices.ready(session, hold, settings=settings, translator=translator, now=now)
        return None
    days = _transit(here, hold.pickup_library, settings)
    hold.status = HoldStatus.IN_TRANSIT
    hold.item_id = item.id
    hold.in_transit_at = now
    item.status = ItemStatus.IN_TRANSIT
    await session.flush()
    await hold_notices.in_transit(
        session, hold, days, settings=settings, translator=translator, now=now
    )
    return days


async def _fill_next(
    session: AsyncSession,
    item: Item,
    here: Library,
    *,
    pulled: bool,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> Hold | None:
    """Give a free copy to the next queued hold of its work, else make it available."""
    order = [Hold.queued_at, Hold.id]
    if settings.hold_prefer_local_pickup:
        # Readers whose pickup library is where the copy is come first (false sorts first).
        order.insert(0, Hold.pickup_library_id != here.id)  # type: ignore[arg-type]
    hold: Hold | None = await session.scalar(
        select(Hold)
        .where(
            Hold.work_id == item.work_id,
            Hold.status == HoldStatus.QUEUED,
            _not_suspended(now),  # type: ignore[arg-type]
        )
        .order_by(*order)
        .limit(1)
        .with_for_update()
    )
    if hold is None:
        item.status = ItemStatus.AVAILABLE
        await session.flush()
        return None
    await _assign(
        session, hold, item, here, pulled=pulled, settings=settings, translator=translator, now=now
    )
    return hold


async def _target(
    session: AsyncSession,
    hold: Hold,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> bool:
    """Give a queued hold an available copy, the pickup library's first, else the nearest."""
    await _load_relations(session, hold, ("work", "pickup_library"))
    rows = (
        await session.execute(
            select(Item, Library)
            .join(Library, Library.id == Item.library_id)
            .where(Item.work_id == hold.work_id, Item.status == ItemStatus.AVAILABLE)
            .order_by(Item.id)
            .with_for_update(of=Item)
        )
    ).all()
    if not rows:
        return False
    pickup = hold.pickup_library

    def rank(row: tuple[Item, Library]) -> tuple[int, float, int]:
        item, library = row
        local = 0 if library.id == pickup.id else 1
        distance = haversine_km(
            library.latitude, library.longitude, pickup.latitude, pickup.longitude
        )
        return (local, distance, item.id)

    item, library = min(((row[0], row[1]) for row in rows), key=rank)
    await _assign(
        session,
        hold,
        item,
        library,
        pulled=False,
        settings=settings,
        translator=translator,
        now=now,
    )
    return True


async def _release(
    session: AsyncSession,
    hold: Hold,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> Hold | None:
    """The hold lets go of its copy: the copy goes to the next hold, or back on the shelf."""
    if hold.item_id is None or hold.status not in (HoldStatus.IN_TRANSIT, HoldStatus.READY):
        return None
    item = await session.get(Item, hold.item_id, with_for_update=True)
    if item is None:
        return None
    # A ready copy sits at the pickup library; one in transit is treated as still at home.
    here_id = hold.pickup_library_id if hold.status is HoldStatus.READY else item.library_id
    here = await session.get(Library, here_id)
    assert here is not None
    pulled = hold.status is HoldStatus.READY or hold.pulled_at is not None
    hold.item_id = None
    await session.flush()
    return await _fill_next(
        session, item, here, pulled=pulled, settings=settings, translator=translator, now=now
    )


def _close(hold: Hold, status: HoldStatus, now: datetime, reason: str | None) -> None:
    hold.status = status
    hold.closed_at = now
    hold.reason = reason
    if status is not HoldStatus.COLLECTED:
        hold.item_id = None


# --- reader side ----------------------------------------------------------------------------


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


async def held_work(session: AsyncSession, reader: Reader, work_id: int) -> int | None:
    """The reader's active hold on a work, if any (its id): one hold per work and reader."""
    if not _valid_id(work_id):
        return None
    held: int | None = await session.scalar(
        select(Hold.id).where(
            Hold.reader_id == reader.id,
            Hold.work_id == work_id,
            Hold.status.in_(ACTIVE_HOLD_STATUSES),
        )
    )
    return held


async def reader_hold(session: AsyncSession, reader: Reader, hold_id: int) -> HoldView:
    """One of the reader's holds, with its queue position (NotYourHoldError otherwise)."""
    hold = await _reader_hold(session, reader, hold_id, lock=False)
    position = await queue_position(session, hold) if hold.status is HoldStatus.QUEUED else None
    return HoldView(hold=hold, position=position)


async def pickup_options(
    session: AsyncSession, reader: Reader, work_id: int, *, settings: Settings
) -> tuple[Work, list[PickupOption]]:
    """Pickup points for a work, nearest to the reader first, each with shelf or transit."""
    work = await session.get(Work, work_id) if _valid_id(work_id) else None
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
    if not available and not await _circulating_copies(session, work.id):
        raise NoCopiesError("no copies")
    origin = await reader_origin(session, reader)
    pickups = list(await session.scalars(select(Library).where(Library.is_pickup_point.is_(True))))
    shelf = {library.id for library in available}
    options = []
    for pickup in pickups:
        distance = origin.distance_km(pickup.latitude, pickup.longitude)
        days = min((_transit(source, pickup, settings) for source in available), default=None)
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


async def place_hold(
    session: AsyncSession,
    reader: Reader,
    work_id: int,
    pickup_library_id: int,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> Placement:
    """Place a hold; see the module docstring for which copy it takes. Commits."""
    if not _valid_id(work_id):
        raise NotFoundError("work")
    pickup = await session.get(Library, pickup_library_id) if _valid_id(pickup_library_id) else None
    if pickup is None or not pickup.is_pickup_point:
        raise NotPickupPointError("pickup library")
    await _lock_reader(session, reader.id)
    work = await _lock_work(session, work_id)
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
    copies = await _circulating_copies(session, work_id)
    if not copies:
        raise NoCopiesError("no copies")
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
        await session.rollback()
        raise AlreadyHoldingError(0) from None
    waiting = await session.scalar(
        select(func.count(Hold.id)).where(
            Hold.work_id == work_id,
            Hold.status == HoldStatus.QUEUED,
            Hold.id != hold.id,
            _not_suspended(now),  # type: ignore[arg-type]
        )
    )
    # First come, first served: a copy on a shelf goes to this hold only if nobody waits.
    if not waiting:
        await _target(session, hold, settings=settings, translator=translator, now=now)
    position = estimate = None
    source = None
    if hold.status is HoldStatus.QUEUED:
        position = await queue_position(session, hold)
        estimate = queue_estimate_days(position, copies)
    elif hold.status is HoldStatus.IN_TRANSIT:
        assert hold.item_id is not None
        item = await session.get(Item, hold.item_id)
        assert item is not None
        source = await session.get(Library, item.library_id)
        assert source is not None
        estimate = _transit(source, pickup, settings)
    await session.commit()
    return Placement(hold=hold, position=position, estimate_days=estimate, source=source)


async def cancel_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    reason: CancelReason | str,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> Hold:
    """The reader cancels an active hold; its copy goes to the next reader. Commits."""
    now = now or utcnow()
    hold = await _reader_hold(session, reader, hold_id)
    if hold.status not in ACTIVE_HOLD_STATUSES:
        raise HoldStateError(hold.status)
    was_ready = hold.status is HoldStatus.READY
    await _release(session, hold, settings=settings, translator=translator, now=now)
    _close(hold, HoldStatus.CANCELLED, now, str(reason))
    if was_ready:
        await hold_notices.settle_ready_notice(
            session, hold, settings=settings, translator=translator
        )
    await session.commit()
    return hold


async def pass_on(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> Hold | None:
    """The reader lets the next reader have the copy; returns the hold that got it. Commits."""
    now = now or utcnow()
    hold = await _reader_hold(session, reader, hold_id)
    if hold.status not in (HoldStatus.READY, HoldStatus.IN_TRANSIT):
        raise HoldStateError(hold.status)
    was_ready = hold.status is HoldStatus.READY
    next_hold = await _release(session, hold, settings=settings, translator=translator, now=now)
    _close(hold, HoldStatus.CANCELLED, now, PASSED_ON)
    if was_ready:
        await hold_notices.settle_ready_notice(
            session, hold, settings=settings, translator=translator
        )
    await session.commit()
    return next_hold


async def change_pickup(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    pickup_library_id: int,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> Hold:
    """A queued hold goes to another pickup library (not once a copy is on its way). Commits."""
    now = now or utcnow()
    hold = await _reader_hold(session, reader, hold_id)
    if hold.status is not HoldStatus.QUEUED:
        raise HoldStateError(hold.status)
    pickup = await session.get(Library, pickup_library_id) if _valid_id(pickup_library_id) else None
    if pickup is None or not pickup.is_pickup_point:
        raise NotPickupPointError("pickup library")
    hold.pickup_library_id = pickup.id
    await session.flush()
    await session.refresh(hold, ["pickup_library"])
    await session.commit()
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
    hold = await _reader_hold(session, reader, hold_id)
    if hold.status is not HoldStatus.QUEUED:
        raise HoldStateError(hold.status)
    today = now.astimezone(settings.zone).date()
    if not today < until <= today + timedelta(days=MAX_SUSPEND_DAYS):
        raise InvalidInputError("suspension date")
    hold.suspended_until = datetime.combine(until, time(0, 0), tzinfo=settings.zone)
    await session.commit()
    return hold


async def resume_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> Hold:
    """End a suspension now; a copy on a shelf goes to the hold if it is first. Commits."""
    now = now or utcnow()
    hold = await _reader_hold(session, reader, hold_id)
    if hold.status is not HoldStatus.QUEUED or hold.suspended_until is None:
        raise HoldStateError(hold.status)
    hold.suspended_until = None
    await session.flush()
    await _target_if_first(session, hold, settings=settings, translator=translator, now=now)
    await session.commit()
    return hold


async def _target_if_first(
    session: AsyncSession,
    hold: Hold,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime,
) -> bool:
    ahead = await session.scalar(
        select(func.count(Hold.id)).where(
            Hold.work_id == hold.work_id,
            Hold.status == HoldStatus.QUEUED,
            _not_suspended(now),  # type: ignore[arg-type]
            or_(
                Hold.queued_at < hold.queued_at,
                and_(Hold.queued_at == hold.queued_at, Hold.id < hold.id),
            ),
        )
    )
    if ahead:
        return False
    return await _target(session, hold, settings=settings, translator=translator, now=now)


async def extend_hold(
    session: AsyncSession,
    reader: Reader,
    hold_id: int,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> Hold:
    """+N days on a ready hold, once, when nobody else waits for the work. Commits."""
    now = now or utcnow()
    hold = await _reader_hold(session, reader, hold_id)
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
    await hold_notices.settle_ready_notice(session, hold, settings=settings, translator=translator)
    await session.commit()
    return hold


async def watch_work(session: AsyncSession, reader: Reader, work_id: int) -> bool:
    """Tell the reader when a copy of the work arrives; False if already watching. Commits."""
    work = await session.get(Work, work_id) if _valid_id(work_id) else None
    if work is None:
        raise NotFoundError("work")
    existing = await session.scalar(
        select(WorkWatch).where(WorkWatch.reader_id == reader.id, WorkWatch.work_id == work.id)
    )
    if existing is not None:
        if existing.notified_at is None:
            return False
        existing.created_at, existing.arrived_at, existing.notified_at = utcnow(), None, None
        await session.commit()
        return True
    try:
        async with session.begin_nested():
            session.add(WorkWatch(reader_id=reader.id, work_id=work.id))
    except IntegrityError:
        return False
    await session.commit()
    return True


async def work_without_copies(session: AsyncSession, work_id: int) -> Work | None:
    """The work with its ISBNs if no copy circulates (NotFoundError if unknown), else None."""
    work = (
        await session.scalar(
            select(Work).where(Work.id == work_id).options(selectinload(Work.isbns))
        )
        if _valid_id(work_id)
        else None
    )
    if work is None:
        raise NotFoundError("work")
    if await _circulating_copies(session, work.id):
        return None
    return work


async def mark_watches_arrived(
    session: AsyncSession, work_ids: Collection[int], now: datetime
) -> None:
    """Catalogue import hook: copies of these works arrived (caller's transaction)."""
    if not work_ids:
        return

    ids = sorted(work_ids)
    for start in range(0, len(ids), 500):
        await session.execute(
            update(WorkWatch)
            .where(
                WorkWatch.work_id.in_(ids[start : start + 500]),
                WorkWatch.arrived_at.is_(None),
                WorkWatch.notified_at.is_(None),
            )
            .values(arrived_at=now)
        )


# --- librarian side -------------------------------------------------------------------------


def _check_library(library: Library, libraries: frozenset[int] | None) -> None:
    if libraries is not None and library.id not in libraries:
        raise WrongLibraryError(library)


async def _item_by_barcode(session: AsyncSession, barcode: str) -> Item:
    cleaned = barcode.strip()
    if not cleaned or len(cleaned) > BARCODE_CHARS:
        raise UnknownBarcodeError(cleaned[:BARCODE_CHARS])
    item = await session.scalar(select(Item).where(func.lower(Item.barcode) == cleaned.lower()))
    if item is None:
        raise UnknownBarcodeError(cleaned)
    # Lock order everywhere: work, then copy, then holds.
    await _lock_work(session, item.work_id)
    await session.refresh(item, with_for_update=True)
    await session.refresh(item, ["work", "library"])
    return item


async def _active_hold_on(session: AsyncSession, item: Item) -> Hold | None:
    hold = await session.scalar(
        select(Hold)
        .where(
            Hold.item_id == item.id,
            Hold.status.in_((HoldStatus.IN_TRANSIT, HoldStatus.READY)),
        )
        .with_for_update()
    )
    if hold is not None:
        await _load_relations(session, hold)
    return hold


async def check_in(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    barcode: str,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> StaffOutcome:
    """A copy in the owning library's hands: it fills the next hold or goes on the shelf."""
    now = now or utcnow()
    item = await _item_by_barcode(session, barcode)
    _check_library(item.library, libraries)
    hold = await _active_hold_on(session, item)
    if hold is not None:
        # The copy was assigned from the shelf (pull list): this is its capture.
        if hold.pulled_at is None:
            hold.pulled_at = now
        action = "set_aside" if hold.status is HoldStatus.READY else "send"
        outcome = StaffOutcome(item, hold, action, hold.pickup_library)
    else:
        found = item.status is ItemStatus.MISSING
        item.due_at = None
        next_hold = await _fill_next(
            session,
            item,
            item.library,
            pulled=True,
            settings=settings,
            translator=translator,
            now=now,
        )
        if next_hold is None:
            outcome = StaffOutcome(item, None, "found" if found else "available")
        else:
            action = "set_aside" if next_hold.status is HoldStatus.READY else "send"
            outcome = StaffOutcome(item, next_hold, action, next_hold.pickup_library)
    audit.record(
        session,
        librarian,
        "holds.checkin",
        target_type="item",
        target_id=item.id,
        barcode=item.barcode,
        outcome=outcome.action,
        hold_id=outcome.hold.id if outcome.hold else None,
    )
    await session.commit()
    return outcome


async def arrived(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    barcode: str,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> StaffOutcome:
    """A copy in transit reached the pickup library: its hold is ready. Commits."""
    now = now or utcnow()
    item = await _item_by_barcode(session, barcode)
    hold = await _active_hold_on(session, item)
    if hold is None or hold.status is not HoldStatus.IN_TRANSIT:
        raise NothingToDoError(item)
    _check_library(hold.pickup_library, libraries)
    hold.pulled_at = hold.pulled_at or now
    _ready(hold, item, now, settings)
    await session.flush()
    await hold_notices.ready(session, hold, settings=settings, translator=translator, now=now)
    audit.record(
        session,
        librarian,
        "holds.arrived",
        target_type="hold",
        target_id=hold.id,
        barcode=item.barcode,
    )
    await session.commit()
    return StaffOutcome(item, hold, "ready", hold.pickup_library)


async def collected(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    card_or_barcode: str,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> list[StaffOutcome]:
    """Ready holds handed to the reader: by the reader's card (all of them here) or a copy."""
    now = now or utcnow()
    reference = card_or_barcode.strip()
    if not reference or len(reference) > BARCODE_CHARS:
        raise UnknownBarcodeError(reference[:BARCODE_CHARS])
    holder = await session.scalar(
        select(Reader).where(func.upper(Reader.card_number) == reference.upper())
    )
    holds: list[Hold]
    if holder is not None:
        holds = list(
            await session.scalars(
                select(Hold)
                .where(Hold.reader_id == holder.id, Hold.status == HoldStatus.READY)
                .order_by(Hold.id)
            )
        )
        for work_id in sorted({hold.work_id for hold in holds}):
            await _lock_work(session, work_id)
        for hold in holds:
            await session.refresh(hold)
            await _load_relations(session, hold)
        holds = [h for h in holds if h.status is HoldStatus.READY]
        if libraries is not None:
            mine = [h for h in holds if h.pickup_library_id in libraries]
            if holds and not mine:
                raise WrongLibraryError(holds[0].pickup_library)
            holds = mine
        if not holds:
            raise NothingWaitingError(reference)
    else:
        item = await _item_by_barcode(session, reference)
        hold_on = await _active_hold_on(session, item)
        if hold_on is None or hold_on.status is not HoldStatus.READY:
            raise NothingToDoError(item)
        _check_library(hold_on.pickup_library, libraries)
        holds = [hold_on]
    outcomes = []
    for hold in holds:
        copy = hold.item
        assert copy is not None
        hold.status = HoldStatus.COLLECTED
        hold.collected_at = now
        hold.closed_at = now
        copy.status = ItemStatus.ON_LOAN
        audit.record(
            session,
            librarian,
            "holds.collected",
            target_type="hold",
            target_id=hold.id,
            barcode=copy.barcode,
        )
        outcomes.append(StaffOutcome(copy, hold, "collected", hold.pickup_library))
    for hold in holds:
        await hold_notices.settle_ready_notice(
            session, hold, settings=settings, translator=translator
        )
    await session.commit()
    return outcomes


async def mark_missing(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    barcode: str,
    *,
    settings: Settings,
    translator: Translator,
    now: datetime | None = None,
) -> StaffOutcome:
    """A copy cannot be found: its hold looks for another copy or queues again. Commits.

    When no copy of the work is left, the library cancels the work's holds with a notice.
    """
    now = now or utcnow()
    item = await _item_by_barcode(session, barcode)
    _check_library(item.library, libraries)
    if item.status is ItemStatus.MISSING:
        raise NothingToDoError(item)
    hold = await _active_hold_on(session, item)
    item.status = ItemStatus.MISSING
    action = "missing"
    if hold is not None:
        was_ready = hold.status is HoldStatus.READY
        hold.status = HoldStatus.QUEUED
        hold.item_id = None
        hold.ready_at = hold.ready_until = hold.in_transit_at = hold.pulled_at = None
        await session.flush()
        if was_ready:
            await hold_notices.settle_ready_notice(
                session, hold, settings=settings, translator=translator
            )
        if await _target(session, hold, settings=settings, translator=translator, now=now):
            action = "retargeted"
        else:
            action = "requeued"
    if not await _circulating_copies(session, item.work_id):
        orphans = list(
            await session.scalars(
                select(Hold).where(
                    Hold.work_id == item.work_id, Hold.status.in_(ACTIVE_HOLD_STATUSES)
                )
            )
        )
        for orphan in orphans:
            await _load_relations(session, orphan)
            _close(orphan, HoldStatus.CANCELLED, now, LAST_COPY_MISSING)
            await hold_notices.settle_ready_notice(
                session, orphan, settings=settings, translator=translator
            )
            await hold_notices.cancelled_by_library(
                session, orphan, settings=settings, translator=translator, now=now
            )
        if orphans:
            action = "cancelled"
    audit.record(
        session,
        librarian,
        "holds.missing",
        target_type="item",
        target_id=item.id,
        barcode=item.barcode,
        outcome=action,
        hold_id=hold.id if hold else None,
    )
    await session.commit()
    return StaffOutcome(item, hold, action, hold.pickup_library if hold else None)


async def pull_list(session: AsyncSession, library_ids: Collection[int]) -> list[PullEntry]:
    """Copies of these libraries assigned to holds and still on the open shelf."""
    rows = (
        await session.execute(
            select(Item, Hold)
            .join(Hold, Hold.item_id == Item.id)
            .where(
                Item.library_id.in_(list(library_ids)),
                Hold.status.in_((HoldStatus.IN_TRANSIT, HoldStatus.READY)),
                Hold.pulled_at.is_(None),
            )
            .options(
                selectinload(Item.work),
                selectinload(Item.library),
                selectinload(Hold.pickup_library),
            )
            .order_by(Item.call_number, Item.barcode)
        )
    ).all()
    return [PullEntry(item=item, hold=hold) for item, hold in rows]


# --- jobs -----------------------------------------------------------------------------------


async def _due_ids(session: AsyncSession, statement: Select[Any]) -> list[int]:
    return list(await session.scalars(statement))


async def expire_ready_holds(
    session: AsyncSession, *, settings: Settings, translator: Translator, now: datetime
) -> int:
    """Ready holds past ready-until expire, with a notice; their copies go on. Commits each."""
    ids = await _due_ids(
        session,
        select(Hold.id).where(Hold.status == HoldStatus.READY, Hold.ready_until < now),
    )
    await session.commit()
    done = 0
    for hold_id in ids:
        hold = await session.get(Hold, hold_id)
        if hold is None:
            continue
        await _lock_work(session, hold.work_id)
        await session.refresh(hold)
        if (
            hold.status is not HoldStatus.READY
            or hold.ready_until is None
            or hold.ready_until >= now
        ):
            await session.commit()
            continue
        await _load_relations(session, hold)
        await hold_notices.expired_on_shelf(
            session, hold, settings=settings, translator=translator, now=now
        )
        await _release(session, hold, settings=settings, translator=translator, now=now)
        _close(hold, HoldStatus.EXPIRED, now, "not_collected")
        await session.commit()
        done += 1
    return done


async def remind_ready_holds(
    session: AsyncSession, *, settings: Settings, translator: Translator, now: datetime
) -> int:
    """Remind readers ``hold_reminder_days`` before ready-until (once per deadline). Commits."""
    if not settings.hold_reminder_days:
        return 0
    soon = now + timedelta(days=settings.hold_reminder_days)
    holds = list(
        await session.scalars(
            select(Hold)
            .where(
                Hold.status == HoldStatus.READY,
                Hold.reminded_at.is_(None),
                Hold.ready_until <= soon,
                Hold.ready_until > now,
                # A hold that was ready for less than a day needs no reminder yet.
                Hold.ready_at < now - timedelta(days=1),
            )
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
        )
    )
    for hold in holds:
        hold.reminded_at = now
        await hold_notices.reminder(
            session, hold, settings=settings, translator=translator, now=now
        )
    await session.commit()
    return len(holds)


async def expire_unfilled_holds(
    session: AsyncSession, *, settings: Settings, translator: Translator, now: datetime
) -> tuple[int, int]:
    """Warn a week before, then expire queued holds past ``unfilled_hold_days``. Commits."""
    warn_from = now + timedelta(days=settings.hold_unfilled_warning_days)
    warned = list(
        await session.scalars(
            select(Hold)
            .where(
                Hold.status == HoldStatus.QUEUED,
                Hold.warned_at.is_(None),
                Hold.expires_at <= warn_from,
                Hold.expires_at > now,
            )
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
        )
    )
    for hold in warned:
        hold.warned_at = now
        await hold_notices.unfilled_warning(
            session, hold, settings=settings, translator=translator, now=now
        )
    expired = list(
        await session.scalars(
            select(Hold)
            .where(Hold.status == HoldStatus.QUEUED, Hold.expires_at <= now)
            .options(selectinload(Hold.work), selectinload(Hold.pickup_library))
        )
    )
    for hold in expired:
        _close(hold, HoldStatus.EXPIRED, now, "unfilled")
        await hold_notices.expired_unfilled(
            session, hold, settings=settings, translator=translator, now=now
        )
    await session.commit()
    return len(warned), len(expired)


async def reactivate_suspended_holds(
    session: AsyncSession, *, settings: Settings, translator: Translator, now: datetime
) -> int:
    """Suspensions that ended: the hold is active again and may take a copy on a shelf."""
    ids = await _due_ids(
        session,
        select(Hold.id).where(
            Hold.status == HoldStatus.QUEUED,
            Hold.suspended_until.is_not(None),
            Hold.suspended_until <= now,
        ),
    )
    await session.commit()
    for hold_id in ids:
        hold = await session.get(Hold, hold_id)
        if hold is None:
            continue
        await _lock_work(session, hold.work_id)
        await session.refresh(hold)
        if hold.status is HoldStatus.QUEUED and hold.suspended_until is not None:
            hold.suspended_until = None
            await session.flush()
            await _target_if_first(session, hold, settings=settings, translator=translator, now=now)
        await session.commit()
    return len(ids)


async def notify_watchers(
    session: AsyncSession, *, translator: Translator, now: datetime, limit: int = 500
) -> int:
    """Tell readers who watched a work that copies arrived (marked by the catalogue import)."""
    watches = list(
        await session.scalars(
            select(WorkWatch)
            .where(WorkWatch.arrived_at.is_not(None), WorkWatch.notified_at.is_(None))
            .order_by(WorkWatch.id)
            .limit(limit)
        )
    )
    for watch in watches:
        work = await session.get(Work, watch.work_id)
        watch.notified_at = now
        if work is not None:
            await hold_notices.copy_arrived(
                session,
                watch_id=watch.id,
                reader_id=watch.reader_id,
                work=work,
                translator=translator,
                now=now,
            )
    await session.commit()
    return len(watches)


def hold_ids(holds: Sequence[Hold]) -> list[int]:
    """Ids of holds, in order."""
    return [hold.id for hold in holds]
