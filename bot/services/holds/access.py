"""Finding and locking what holds act on; the lock order is always work, then copy, then holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Hold, Item, ItemStatus, Reader, Work
from bot.services.errors import NotFoundError
from bot.services.holds.refusals import NotYourHoldError

MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    """Whether an id (from callback data, which can be forged) can name a row at all."""
    return 0 < value <= MAX_ID


async def lock_work(session: AsyncSession, work_id: int) -> Work:
    """The work, its row locked: every change to its holds is serialised on it."""
    work = await session.scalar(select(Work).where(Work.id == work_id).with_for_update())
    if work is None:
        raise NotFoundError("work")
    return work


async def lock_reader(session: AsyncSession, reader_id: int) -> None:
    """Serialise one reader's placements (their hold limit is counted, then a hold added)."""
    # On SQLite the write block already holds the database's write lock.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(Reader.id).where(Reader.id == reader_id).with_for_update())


async def load_relations(
    session: AsyncSession, hold: Hold, names: Sequence[str] = ("work", "pickup_library", "item")
) -> None:
    """Load the hold's relationships that are not loaded yet (one query each)."""
    missing = [name for name in names if name in inspect(hold).unloaded]
    if missing:
        await session.refresh(hold, missing)


async def own_hold(session: AsyncSession, reader: Reader, hold_id: int, *, lock: bool) -> Hold:
    """The reader's own hold (NotYourHoldError otherwise), with its work locked if asked."""
    if not valid_id(hold_id):
        raise NotYourHoldError("hold")
    hold = await session.get(Hold, hold_id)
    if hold is None or hold.reader_id != reader.id:
        raise NotYourHoldError("hold")
    if lock:
        await lock_work(session, hold.work_id)
        await session.refresh(hold)
    await load_relations(session, hold)
    return hold


async def circulating_copies(session: AsyncSession, work_id: int) -> int:
    """Copies of the work that are not missing and may be lent."""
    return (
        await session.scalar(
            select(func.count(Item.id)).where(
                Item.work_id == work_id,
                Item.status.not_in((ItemStatus.MISSING, ItemStatus.NOT_FOR_LOAN)),
            )
        )
        or 0
    )
