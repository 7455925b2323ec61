"""One batch written: new works, changed works, their ISBNs, new copies, call numbers, the log.

``write_batch`` runs in the caller's unit of work (``async with write(session)``), so a batch
is written whole or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import CatalogueChange, Item, ItemStatus, Work, WorkIsbn, utcnow
from bot.services.catalogue_import.matching import (
    BatchChanges,
    ImportState,
    WorkState,
    load,
    merge,
)
from bot.services.catalogue_import.planning import PlannedCopy, PlannedRecord
from bot.services.holds.returned import offer_returned_copies
from bot.services.holds.watching import mark_watches_arrived

__all__ = ["lock_catalogue", "write_batch"]

# Serialises catalogue batches across processes on PostgreSQL (SQLite's write lock already
# does); any constant unlikely to collide with other advisory locks.
_PG_LOCK_KEY = 0x626F6F6B_696D7074


async def lock_catalogue(session: AsyncSession) -> None:
    """PostgreSQL: serialise catalogue batches across processes, plan for the current sizes."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
        # plan made while the tables were small (sequential scans), which a growing import
        # then pays for on every batch.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def _insert_works(
    session: AsyncSession, created: list[WorkState], state: ImportState, now: datetime
) -> None:
    if not created:
        return
    rows = [
        {
            **work.values,
            "work_key": work.work_key,
            "fingerprint": work.fingerprint,
            "created_at": now,
            "updated_at": now,
        }
        for work in created
    ]
    # New works of one batch never share a work key (the second would have merged into
    # the first), so the key tells which id is whose. Asking for the rows in parameter
    # order instead would make SQLite insert them one statement at a time.
    table = Work.metadata.tables[Work.__tablename__]
    result = await session.execute(insert(table).returning(table.c.id, table.c.work_key), rows)
    new_ids = {row.work_key: row.id for row in result}
    for work in created:
        work.id = new_ids[work.work_key]
        state.described.add(work.id)


async def _update_works(session: AsyncSession, works: list[WorkState], now: datetime) -> None:
    updated = [work for work in works if work.fields_changed]
    if not updated:
        return
    await session.execute(
        update(Work),
        [
            {
                "id": work.id,
                **work.values,
                "work_key": work.work_key,
                "fingerprint": work.fingerprint,
                "updated_at": now,
            }
            for work in updated
        ],
    )


async def _insert_isbns(session: AsyncSession, works: list[WorkState]) -> None:
    rows = [
        {"isbn": isbn, "work_id": work.id, "position": work.isbn_count + offset}
        for work in works
        for offset, isbn in enumerate(work.new_isbns)
    ]
    if rows:
        await session.execute(insert(WorkIsbn), rows)


async def _insert_items(
    session: AsyncSession,
    new_items: list[tuple[WorkState, PlannedCopy]],
    state: ImportState,
    now: datetime,
) -> None:
    if not new_items:
        return
    await session.execute(
        insert(Item),
        [
            {
                "work_id": work.id,
                "library_id": state.library_id,
                "barcode": copy.barcode,
                "call_number": copy.call_number,
                "status": copy.status or ItemStatus.AVAILABLE,
                "due_at": copy.due_at,
                "created_at": now,
                "updated_at": now,
            }
            for work, copy in new_items
        ],
    )
    state.report.items_created += len(new_items)
    # Readers who asked to hear when a copy arrives are told by the holds job.
    await mark_watches_arrived(
        session, {work.id for work, _copy in new_items if work.id is not None}, now
    )


async def _update_call_numbers(
    session: AsyncSession, changes: BatchChanges, state: ImportState, now: datetime
) -> None:
    if changes.call_updates:
        await session.execute(
            update(Item), [{**row, "updated_at": now} for row in changes.call_updates]
        )
        state.report.items_updated += len(changes.call_updates)
    if changes.status_updates:
        await session.execute(
            update(Item), [{**row, "updated_at": now} for row in changes.status_updates]
        )
        state.report.items_updated += len(changes.status_updates)


def _record_changes(
    session: AsyncSession, created: list[WorkState], loaded: list[WorkState], state: ImportState
) -> None:
    touched = {work.id for work in created if work.id is not None}
    touched.update(
        work.id
        for work in loaded
        if work.id is not None and (work.fields_changed or work.new_isbns or work.copies_added)
    )
    if touched:
        state.changed.update(touched)
        # In the batch's own transaction: every instance's index catches up from these rows.
        session.add(CatalogueChange(work_ids=sorted(touched)))


async def write_batch(
    session: AsyncSession, batch: list[PlannedRecord], state: ImportState
) -> None:
    """Match, merge and write one batch in the caller's unit of work."""
    await lock_catalogue(session)
    loaded = await load(session, batch, state.library_id)
    changes = merge(batch, loaded, state)
    works = list(loaded.works.values())
    now = utcnow()
    await _insert_works(session, changes.created, state, now)
    await _update_works(session, works, now)
    await _insert_isbns(session, [*changes.created, *works])
    await _insert_items(session, changes.new_items, state, now)
    await _update_call_numbers(session, changes, state, now)
    if changes.returned and state.settings is not None:
        await offer_returned_copies(session, changes.returned, settings=state.settings, now=now)
    _record_changes(session, changes.created, works, state)
