"""Holds and the libraries' own systems: a hold's copy placed there too, and reconciliation.

A hold that takes a copy of a SIP2-connected library is placed in that library's system
on the reader's linked card, with the pickup location. A system that refuses (or a reader
without a linked card there) leaves the librarians' flow of today; a system that does not
answer leaves the relay pending, and the ILS job tries again. The same job reads the copies
that holds wait for: a copy charged at the desk lets its hold take another copy, and a copy
checked in at its library fills the next hold, as `/checkin` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.config import Settings
from bot.db import write
from bot.models import (
    Hold,
    HoldStatus,
    IlsConnection,
    IlsHoldRelay,
    IlsKind,
    IlsPatronLink,
    Item,
    ItemStatus,
    Library,
    RelayStatus,
)
from bot.services import audit
from bot.services.holds import notices
from bot.services.holds.queue import fill_next, not_suspended, target
from bot.services.ils.connectors import Connector, HoldAnswer
from bot.services.ils.live import LiveAvailability, LiveRequest
from bot.services.ils.sip2 import IlsError, IlsUnreachableError

MESSAGE_CHARS = 300
# Holds relayed and copies read per job run (the rest wait for the next run).
RECONCILE_BATCH = 200


@dataclass(frozen=True)
class RelayOutcome:
    """How a hold's copy fared in its library's system."""

    status: RelayStatus
    library: Library
    queue_position: str | None = None
    message: str = ""
    # False when the outcome was settled by an earlier try (nothing was sent now).
    new: bool = True


async def _connection(session: AsyncSession, library_id: int) -> IlsConnection | None:
    return await session.scalar(
        select(IlsConnection).where(
            IlsConnection.library_id == library_id, IlsConnection.kind == IlsKind.SIP2
        )
    )


async def _relay_row(session: AsyncSession, hold_id: int, item_id: int) -> IlsHoldRelay | None:
    return await session.scalar(
        select(IlsHoldRelay).where(IlsHoldRelay.hold_id == hold_id, IlsHoldRelay.item_id == item_id)
    )


async def _record(
    session: AsyncSession, hold_id: int, item_id: int, status: RelayStatus, message: str
) -> None:
    """Store the relay's outcome; a placed relay is never set back (another process, the
    handler and the job, may relay the same hold at once)."""
    for _attempt in range(2):
        try:
            async with write(session):
                row = await _relay_row(session, hold_id, item_id)
                if row is None:
                    row = IlsHoldRelay(hold_id=hold_id, item_id=item_id, attempts=0)
                    session.add(row)
                elif row.status is RelayStatus.PLACED:
                    return
                row.status = status
                row.attempts = (row.attempts or 0) + 1
                row.message = message[:MESSAGE_CHARS]
                await session.flush()  # a row inserted meanwhile fails here, inside the unit
            return
        except IntegrityError:
            continue  # the other one inserted first: update its row


async def relay_hold(
    session: AsyncSession, live: LiveAvailability, hold_id: int, *, within_s: float
) -> RelayOutcome | None:
    """Place the hold's copy in its library's system (None: not a SIP2 library's copy)."""
    hold = await session.scalar(
        select(Hold)
        .where(Hold.id == hold_id)
        .options(
            selectinload(Hold.item).selectinload(Item.library), selectinload(Hold.pickup_library)
        )
    )
    if (
        hold is None
        or hold.item is None
        or hold.status
        not in (
            HoldStatus.IN_TRANSIT,
            HoldStatus.READY,
        )
    ):
        return None
    item, library = hold.item, hold.item.library
    item_id = item.id
    connection = await _connection(session, library.id)
    if connection is None:
        return None
    done = await _relay_row(session, hold.id, item.id)
    if done is not None and done.status is not RelayStatus.PENDING:
        return RelayOutcome(done.status, library, message=done.message, new=False)
    card = await session.scalar(
        select(IlsPatronLink.card_number).where(
            IlsPatronLink.reader_id == hold.reader_id, IlsPatronLink.library_id == library.id
        )
    )
    if card is None:
        await _record(session, hold.id, item.id, RelayStatus.NO_CARD, "no linked card")
        return RelayOutcome(RelayStatus.NO_CARD, library)
    pickup = connection.location if hold.pickup_library_id == library.id else ""
    pickup = pickup or hold.pickup_library.code
    barcode = item.barcode

    async def place(connector: Connector) -> HoldAnswer:
        return await connector.place_hold(card, barcode, pickup)

    try:
        answer = await live.ask(library.code, connection, place, within_s=within_s)
    except IlsUnreachableError as exc:
        await _record(session, hold_id, item_id, RelayStatus.PENDING, str(exc))
        return RelayOutcome(RelayStatus.PENDING, library)
    except IlsError as exc:
        await _record(session, hold_id, item_id, RelayStatus.REFUSED, str(exc))
        return RelayOutcome(RelayStatus.REFUSED, library, message=str(exc))
    status = RelayStatus.PLACED if answer.ok else RelayStatus.REFUSED
    await _record(session, hold_id, item_id, status, answer.message)
    await session.refresh(library)  # a race's rollback expired it
    return RelayOutcome(status, library, answer.queue_position, answer.message)


@dataclass(frozen=True)
class ReconcileReport:
    """What one run of the ILS job did."""

    relayed: int
    retargeted: int
    checked_in: int
    withdrawn: int = 0


async def withdraw_ended(session: AsyncSession, live: LiveAvailability, *, within_s: float) -> int:
    """Withdraw holds placed in a system whose Bookbridge hold ended (cancelled, expired,
    passed on) or took another copy; a collected hold's is left to the loan."""
    ended = Hold.status.not_in((HoldStatus.IN_TRANSIT, HoldStatus.READY, HoldStatus.COLLECTED))
    rows = await session.execute(
        select(IlsHoldRelay.id, Hold.reader_id, Item, Library, IlsConnection)
        .join(Hold, Hold.id == IlsHoldRelay.hold_id)
        .join(Item, Item.id == IlsHoldRelay.item_id)
        .join(Library, Library.id == Item.library_id)
        .join(IlsConnection, IlsConnection.library_id == Library.id)
        .where(
            IlsHoldRelay.status == RelayStatus.PLACED,
            ended | Hold.item_id.is_(None) | (Hold.item_id != IlsHoldRelay.item_id),
        )
        .limit(RECONCILE_BATCH)
    )
    withdrawn = 0
    for relay_id, reader_id, item, library, connection in rows.all():
        card = await session.scalar(
            select(IlsPatronLink.card_number).where(
                IlsPatronLink.reader_id == reader_id, IlsPatronLink.library_id == library.id
            )
        )
        if card is not None:

            async def withdraw(
                connector: Connector, card: str = card, barcode: str = item.barcode
            ) -> HoldAnswer:
                return await connector.place_hold(card, barcode, "", cancel=True)

            try:
                await live.ask(library.code, connection, withdraw, within_s=within_s)
            except IlsUnreachableError:
                continue  # the next run tries again
            except IlsError:
                pass  # it cannot be withdrawn from here: the library's staff will see it
        async with write(session):
            relay = await session.get(IlsHoldRelay, relay_id, with_for_update=True)
            if relay is not None and relay.status is RelayStatus.PLACED:
                relay.status = RelayStatus.CANCELLED
                withdrawn += 1
    return withdrawn


async def _waiting_copies(session: AsyncSession) -> list[tuple[Hold, Item, Library]]:
    """Copies at SIP2 libraries that active holds wait for, still on the open shelf."""
    rows = await session.execute(
        select(Hold, Item, Library)
        .join(Item, Item.id == Hold.item_id)
        .join(Library, Library.id == Item.library_id)
        .join(IlsConnection, IlsConnection.library_id == Library.id)
        .where(
            Hold.status.in_((HoldStatus.IN_TRANSIT, HoldStatus.READY)),
            Hold.pulled_at.is_(None),
            IlsConnection.kind == IlsKind.SIP2,
        )
        .order_by(Hold.id)
        .limit(RECONCILE_BATCH)
    )
    return [(hold, item, library) for hold, item, library in rows]


async def _loaned_copies_wanted(session: AsyncSession, now: datetime) -> list[tuple[Item, Library]]:
    """Copies on loan at SIP2 libraries whose works have readers queueing."""
    queued = (
        select(Hold.work_id)
        .where(Hold.status == HoldStatus.QUEUED, not_suspended(now))
        .distinct()
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Item, Library)
        .join(Library, Library.id == Item.library_id)
        .join(IlsConnection, IlsConnection.library_id == Library.id)
        .where(
            Item.status == ItemStatus.ON_LOAN,
            Item.work_id.in_(queued),
            IlsConnection.kind == IlsKind.SIP2,
        )
        .order_by(Item.id)
        .limit(RECONCILE_BATCH)
    )
    return [(item, library) for item, library in rows]


async def _read_states(
    session: AsyncSession, live: LiveAvailability, copies: list[tuple[Item, Library]]
) -> dict[tuple[int, str], ItemStatus | None]:
    by_library: dict[int, list[str]] = {}
    codes: dict[int, str] = {}
    for item, library in copies:
        by_library.setdefault(library.id, []).append(item.barcode)
        codes[library.id] = library.code
    connections = {
        row.library_id: row
        for row in await session.scalars(
            select(IlsConnection).where(IlsConnection.library_id.in_(list(by_library)))
        )
    }
    requests = [
        LiveRequest(codes[library_id], connections[library_id], barcodes)
        for library_id, barcodes in by_library.items()
    ]
    answers = await live.copies(requests)
    return {key: copy.state.status for key, copy in answers.items() if copy.fresh}


async def _charged_at_the_desk(
    session: AsyncSession, hold_id: int, item_id: int, *, settings: Settings, now: datetime
) -> bool:
    """The copy a hold waited for was lent at the desk: the hold takes another or queues."""
    async with write(session):
        hold = await session.get(Hold, hold_id, with_for_update=True)
        item = await session.get(Item, item_id, with_for_update=True)
        if hold is None or item is None or hold.item_id != item.id or hold.pulled_at is not None:
            return False
        was_ready = hold.status is HoldStatus.READY
        item.status = ItemStatus.ON_LOAN
        hold.status = HoldStatus.QUEUED
        hold.item_id = None
        hold.ready_at = hold.ready_until = hold.in_transit_at = None
        await session.flush()
        if was_ready:
            await notices.settle_ready_notice(session, hold, settings=settings)
        await target(session, hold, settings=settings, now=now)
        audit.record(
            session, None, "ils.charged", target_type="item", target_id=item.id, hold_id=hold.id
        )
        return True


async def _checked_in_there(
    session: AsyncSession, item_id: int, *, settings: Settings, now: datetime
) -> bool:
    """A copy on loan came back at its library: it fills the next hold, as /checkin does."""
    async with write(session):
        item = await session.get(Item, item_id, with_for_update=True)
        if item is None or item.status is not ItemStatus.ON_LOAN:
            return False
        library = await session.get(Library, item.library_id)
        assert library is not None
        item.due_at = None
        hold = await fill_next(session, item, library, pulled=True, settings=settings, now=now)
        audit.record(
            session,
            None,
            "ils.checkin",
            target_type="item",
            target_id=item.id,
            hold_id=hold.id if hold else None,
        )
        return hold is not None


async def reconcile(
    session: AsyncSession, live: LiveAvailability, *, settings: Settings, now: datetime
) -> ReconcileReport:
    """Relay pending holds; re-target holds whose copy was lent at the desk; fill holds from
    copies checked in at their library."""
    relayed = retargeted = checked_in = 0
    waiting = await _waiting_copies(session)
    for hold, _item, _library in waiting:
        outcome = await relay_hold(session, live, hold.id, within_s=settings.ils_timeout_s)
        relayed += outcome is not None and outcome.new and outcome.status is RelayStatus.PLACED
    states = await _read_states(session, live, [(item, library) for _h, item, library in waiting])
    for hold, item, library in waiting:
        if states.get((library.id, item.barcode)) is ItemStatus.ON_LOAN:
            retargeted += await _charged_at_the_desk(
                session, hold.id, item.id, settings=settings, now=now
            )
    loaned = await _loaned_copies_wanted(session, now)
    states = await _read_states(session, live, loaned)
    for item, library in loaned:
        if states.get((library.id, item.barcode)) is ItemStatus.AVAILABLE:
            checked_in += await _checked_in_there(session, item.id, settings=settings, now=now)
    withdrawn = await withdraw_ended(session, live, within_s=settings.ils_timeout_s)
    return ReconcileReport(relayed, retargeted, checked_in, withdrawn)
