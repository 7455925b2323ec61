"""The queue of a work and which copy goes to which hold: assignment, release, closing.

These run inside a caller's write block with the work locked (see ``access``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.config import Settings
from bot.geo import haversine_km
from bot.models import Hold, HoldStatus, Item, ItemStatus, Library
from bot.services.holds import notices
from bot.services.holds.access import load_relations
from bot.services.holds.rules import shelf_deadline, transit_days

# Why a hold was closed (``Hold.reason``), besides the reader's own cancel reasons.
PASSED_ON = "passed_on"
LAST_COPY_MISSING = "last_copy_missing"
NOT_COLLECTED = "not_collected"
UNFILLED = "unfilled"


def not_suspended(now: datetime) -> ColumnElement[bool]:
    """Holds that are not suspended at ``now``."""
    return or_(Hold.suspended_until.is_(None), Hold.suspended_until <= now)


def _placed_before(hold: Hold) -> ColumnElement[bool]:
    return or_(
        Hold.queued_at < hold.queued_at,
        and_(Hold.queued_at == hold.queued_at, Hold.id < hold.id),
    )


async def queue_position(session: AsyncSession, hold: Hold) -> int:
    """1 for the first in line: queued holds of the work placed earlier, plus one."""
    ahead = await session.scalar(
        select(func.count(Hold.id)).where(
            Hold.work_id == hold.work_id,
            Hold.status == HoldStatus.QUEUED,
            _placed_before(hold),
        )
    )
    return (ahead or 0) + 1


def transit(source: Library, pickup: Library, settings: Settings) -> int:
    """Days a copy takes from one library to another."""
    return transit_days(
        source.latitude,
        source.longitude,
        pickup.latitude,
        pickup.longitude,
        base_days=settings.hold_transit_base_days,
        km_per_day=settings.hold_transit_km_per_day,
    )


def make_ready(hold: Hold, item: Item, now: datetime, settings: Settings) -> None:
    """The copy waits on the pickup library's hold shelf for ``hold_shelf_days`` opening days."""
    hold.status = HoldStatus.READY
    hold.item_id = item.id
    hold.ready_at = now
    hold.ready_until = shelf_deadline(
        now, hold.pickup_library.opening_hours, settings.hold_shelf_days, settings.zone
    )
    hold.reminded_at = None
    item.status = ItemStatus.HELD


async def assign(
    session: AsyncSession,
    hold: Hold,
    item: Item,
    here: Library,
    *,
    pulled: bool,
    settings: Settings,
    now: datetime,
) -> int | None:
    """Give the copy (now at ``here``) to the hold: ready if here is the pickup library,
    else on its way (returns the days of transit)."""
    await load_relations(session, hold, ("work", "pickup_library"))
    hold.suspended_until = None
    hold.pulled_at = now if pulled else None
    if here.id == hold.pickup_library_id:
        make_ready(hold, item, now, settings)
        await session.flush()
        await notices.ready(session, hold, settings=settings, now=now)
        return None
    days = transit(here, hold.pickup_library, settings)
    hold.status = HoldStatus.IN_TRANSIT
    hold.item_id = item.id
    hold.in_transit_at = now
    item.status = ItemStatus.IN_TRANSIT
    await session.flush()
    await notices.in_transit(session, hold, days, now=now)
    return days


async def fill_next(
    session: AsyncSession,
    item: Item,
    here: Library,
    *,
    pulled: bool,
    settings: Settings,
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
            not_suspended(now),
        )
        .order_by(*order)
        .limit(1)
        .with_for_update()
    )
    if hold is None:
        item.status = ItemStatus.AVAILABLE
        await session.flush()
        return None
    await assign(session, hold, item, here, pulled=pulled, settings=settings, now=now)
    return hold


async def target(session: AsyncSession, hold: Hold, *, settings: Settings, now: datetime) -> bool:
    """Give a queued hold an available copy, the pickup library's first, else the nearest."""
    await load_relations(session, hold, ("work", "pickup_library"))
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
    await assign(session, hold, item, library, pulled=False, settings=settings, now=now)
    return True


async def target_if_first(
    session: AsyncSession, hold: Hold, *, settings: Settings, now: datetime
) -> bool:
    """Target the hold only if no active queued hold of the work was placed before it."""
    ahead = await session.scalar(
        select(func.count(Hold.id)).where(
            Hold.work_id == hold.work_id,
            Hold.status == HoldStatus.QUEUED,
            not_suspended(now),
            _placed_before(hold),
        )
    )
    if ahead:
        return False
    return await target(session, hold, settings=settings, now=now)


async def release(
    session: AsyncSession, hold: Hold, *, settings: Settings, now: datetime
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
    return await fill_next(session, item, here, pulled=pulled, settings=settings, now=now)


def close(hold: Hold, status: HoldStatus, now: datetime, reason: str | None) -> None:
    """End the hold's life; only a collected hold keeps its copy on record."""
    hold.status = status
    hold.closed_at = now
    hold.reason = reason
    if status is not HoldStatus.COLLECTED:
        hold.item_id = None
