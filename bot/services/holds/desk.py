"""The librarian's desk: check in, arrived, collected, missing, and the pull list.

A librarian acts for the libraries in ``libraries`` (None for an admin: every library).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

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
    utcnow,
)
from bot.services import audit
from bot.services.holds import notices
from bot.services.holds.access import circulating_copies, load_relations, lock_work
from bot.services.holds.queue import LAST_COPY_MISSING, close, fill_next, make_ready, target
from bot.services.holds.refusals import (
    NothingToDoError,
    NothingWaitingError,
    UnknownBarcodeError,
    WrongLibraryError,
)

BARCODE_CHARS = 64


class DeskAction(enum.StrEnum):
    """What the desk did to a copy (and what the librarian is asked to do with it)."""

    AVAILABLE = "available"  # nobody waits: back on the shelf
    FOUND = "found"  # a missing copy is back on the shelf
    SET_ASIDE = "set_aside"  # on the hold shelf here
    SEND = "send"  # to another library for a hold
    READY = "ready"  # arrived at the pickup library
    COLLECTED = "collected"
    MISSING = "missing"  # marked missing; no hold used it
    RETARGETED = "retargeted"  # its hold took another copy
    REQUEUED = "requeued"  # its hold went back to the queue
    CANCELLED = "cancelled"  # it was the last copy: the work's holds were cancelled
    SEND_HOME = "send_home"  # returned at another member library: back to its own


@dataclass(frozen=True)
class StaffOutcome:
    """What a staff action did to a copy and to the hold it serves (with its reader), if any."""

    item: Item
    hold: Hold | None
    action: DeskAction
    destination: Library | None = None


@dataclass(frozen=True)
class PullEntry:
    """A copy to take off the shelf for a hold."""

    item: Item
    hold: Hold


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
    await lock_work(session, item.work_id)
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
        await load_relations(session, hold)
    return hold


async def _with_reader(session: AsyncSession, outcome: StaffOutcome) -> StaffOutcome:
    """The desk's reply names the hold's reader by card: load them with the outcome."""
    if outcome.hold is not None:
        await load_relations(session, outcome.hold, ("reader",))
    return outcome


def _to_hold(item: Item, hold: Hold) -> StaffOutcome:
    action = DeskAction.SET_ASIDE if hold.status is HoldStatus.READY else DeskAction.SEND
    return StaffOutcome(item, hold, action, hold.pickup_library)


async def _returned_elsewhere(
    session: AsyncSession, item: Item, libraries: frozenset[int] | None
) -> Library | None:
    """The librarian's library when a copy on loan comes back there, not to its own library
    (a reader may return a book to any member library)."""
    if item.status is not ItemStatus.ON_LOAN or not libraries or item.library_id in libraries:
        return None
    return await session.get(Library, min(libraries))


async def check_in(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    barcode: str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> StaffOutcome:
    """A copy in the owning library's hands: it fills the next hold or goes on the shelf."""
    now = now or utcnow()
    async with write(session):
        item = await _item_by_barcode(session, barcode)
        elsewhere = await _returned_elsewhere(session, item, libraries)
        if elsewhere is None:
            _check_library(item.library, libraries)
        hold = await _active_hold_on(session, item)
        if hold is not None:
            # The copy was assigned from the shelf (pull list): this is its capture.
            if hold.pulled_at is None:
                hold.pulled_at = now
            outcome = _to_hold(item, hold)
        else:
            found = item.status is ItemStatus.MISSING
            item.due_at = None
            next_hold = await fill_next(
                session, item, elsewhere or item.library, pulled=True, settings=settings, now=now
            )
            if next_hold is None and elsewhere is not None:
                item.status = ItemStatus.IN_TRANSIT  # home, where /checkin shelves it
                outcome = StaffOutcome(item, None, DeskAction.SEND_HOME, item.library)
            elif next_hold is None:
                action = DeskAction.FOUND if found else DeskAction.AVAILABLE
                outcome = StaffOutcome(item, None, action)
            else:
                outcome = _to_hold(item, next_hold)
        audit.record(
            session,
            librarian,
            "holds.checkin",
            target_type="item",
            target_id=item.id,
            barcode=item.barcode,
            outcome=outcome.action.value,
            hold_id=outcome.hold.id if outcome.hold else None,
        )
        return await _with_reader(session, outcome)


async def arrived(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    barcode: str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> StaffOutcome:
    """A copy in transit reached the pickup library: its hold is ready. Commits."""
    now = now or utcnow()
    async with write(session):
        item = await _item_by_barcode(session, barcode)
        hold = await _active_hold_on(session, item)
        if hold is None or hold.status is not HoldStatus.IN_TRANSIT:
            raise NothingToDoError(item)
        _check_library(hold.pickup_library, libraries)
        hold.pulled_at = hold.pulled_at or now
        make_ready(hold, item, now, settings)
        await session.flush()
        await notices.ready(session, hold, settings=settings, now=now)
        audit.record(
            session,
            librarian,
            "holds.arrived",
            target_type="hold",
            target_id=hold.id,
            barcode=item.barcode,
        )
        return await _with_reader(
            session, StaffOutcome(item, hold, DeskAction.READY, hold.pickup_library)
        )


async def _ready_holds_of_card(
    session: AsyncSession, holder: Reader, libraries: frozenset[int] | None, reference: str
) -> list[Hold]:
    """The card holder's ready holds at these libraries, their works locked."""
    holds = list(
        await session.scalars(
            select(Hold)
            .where(Hold.reader_id == holder.id, Hold.status == HoldStatus.READY)
            .order_by(Hold.id)
        )
    )
    for work_id in sorted({hold.work_id for hold in holds}):
        await lock_work(session, work_id)
    for hold in holds:
        await session.refresh(hold)
        await load_relations(session, hold)
    holds = [h for h in holds if h.status is HoldStatus.READY]
    if libraries is not None:
        mine = [h for h in holds if h.pickup_library_id in libraries]
        if holds and not mine:
            raise WrongLibraryError(holds[0].pickup_library)
        holds = mine
    if not holds:
        raise NothingWaitingError(reference)
    return holds


async def _ready_hold_of_copy(
    session: AsyncSession, libraries: frozenset[int] | None, barcode: str
) -> Hold:
    item = await _item_by_barcode(session, barcode)
    hold = await _active_hold_on(session, item)
    if hold is None or hold.status is not HoldStatus.READY:
        raise NothingToDoError(item)
    _check_library(hold.pickup_library, libraries)
    return hold


async def collected(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    card_or_barcode: str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> list[StaffOutcome]:
    """Ready holds handed to the reader: by the reader's card (all of them here) or a copy."""
    now = now or utcnow()
    reference = card_or_barcode.strip()
    if not reference or len(reference) > BARCODE_CHARS:
        raise UnknownBarcodeError(reference[:BARCODE_CHARS])
    async with write(session):
        holder = await session.scalar(
            select(Reader).where(func.upper(Reader.card_number) == reference.upper())
        )
        if holder is not None:
            holds = await _ready_holds_of_card(session, holder, libraries, reference)
        else:
            holds = [await _ready_hold_of_copy(session, libraries, reference)]
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
            outcome = StaffOutcome(copy, hold, DeskAction.COLLECTED, hold.pickup_library)
            outcomes.append(await _with_reader(session, outcome))
        for hold in holds:
            await notices.settle_ready_notice(session, hold, settings=settings)
    return outcomes


async def cancel_holds_of_lost_work(
    session: AsyncSession, work_id: int, *, settings: Settings, now: datetime
) -> bool:
    """The work's last copy went missing: the library cancels its holds, with a notice."""
    orphans = list(
        await session.scalars(
            select(Hold).where(Hold.work_id == work_id, Hold.status.in_(ACTIVE_HOLD_STATUSES))
        )
    )
    for orphan in orphans:
        await load_relations(session, orphan)
        close(orphan, HoldStatus.CANCELLED, now, LAST_COPY_MISSING)
        await notices.settle_ready_notice(session, orphan, settings=settings)
        await notices.cancelled_by_library(session, orphan, now=now)
    return bool(orphans)


async def mark_missing(
    session: AsyncSession,
    librarian: Reader,
    libraries: frozenset[int] | None,
    barcode: str,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> StaffOutcome:
    """A copy cannot be found: its hold looks for another copy or queues again. Commits.

    When no copy of the work is left, the library cancels the work's holds with a notice.
    """
    now = now or utcnow()
    async with write(session):
        item = await _item_by_barcode(session, barcode)
        _check_library(item.library, libraries)
        if item.status is ItemStatus.MISSING:
            raise NothingToDoError(item)
        hold = await _active_hold_on(session, item)
        item.status = ItemStatus.MISSING
        action = DeskAction.MISSING
        if hold is not None:
            was_ready = hold.status is HoldStatus.READY
            hold.status = HoldStatus.QUEUED
            hold.item_id = None
            hold.ready_at = hold.ready_until = hold.in_transit_at = hold.pulled_at = None
            await session.flush()
            if was_ready:
                await notices.settle_ready_notice(session, hold, settings=settings)
            if await target(session, hold, settings=settings, now=now):
                action = DeskAction.RETARGETED
            else:
                action = DeskAction.REQUEUED
        if not await circulating_copies(session, item.work_id) and (
            await cancel_holds_of_lost_work(session, item.work_id, settings=settings, now=now)
        ):
            action = DeskAction.CANCELLED
        audit.record(
            session,
            librarian,
            "holds.missing",
            target_type="item",
            target_id=item.id,
            barcode=item.barcode,
            outcome=action.value,
            hold_id=hold.id if hold else None,
        )
        outcome = StaffOutcome(item, hold, action, hold.pickup_library if hold else None)
        return await _with_reader(session, outcome)


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
