"""Records to works: load what a batch may match, then match and merge record by record.

See the package docstring for the rules. Nothing here writes: ``merge_batch`` returns the
works to create and the copies to add, and changes the loaded works in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue.records import RecordProblem
from bot.config import Settings
from bot.models import Item, ItemStatus, Work, WorkIsbn
from bot.services.catalogue_import.planning import (
    LIST_FIELDS,
    WORK_FIELDS,
    PlannedCopy,
    PlannedRecord,
)
from bot.services.catalogue_import.report import ImportReport

__all__ = ["BatchChanges", "ExistingItem", "ImportState", "Loaded", "WorkState", "load", "merge"]

# Rows per IN (...) list: well under SQLite's and asyncpg's bound-parameter limits.
_IN_CHUNK = 2000
_OWNED_FINGERPRINT = re.compile(r"(\d+):([0-9a-f]{40})")

Outcome = Literal["created", "updated", "unchanged"]
# Statuses the holds rules set and clear; an export never overrides them.
_HOLDS_STATUSES = frozenset({ItemStatus.HELD, ItemStatus.IN_TRANSIT})


@dataclass(eq=False)
class WorkState:
    """A work a batch touches: loaded from the database or created by the batch."""

    id: int | None
    values: dict[str, Any]
    work_key: str
    fingerprint: str
    isbn_count: int = 0
    new_isbns: list[str] = field(default_factory=list)
    fields_changed: bool = False
    copies_added: bool = False


@dataclass
class ExistingItem:
    """A copy already stored under a barcode the batch names."""

    item_id: int
    work_id: int
    library_id: int
    call_number: str | None
    status: ItemStatus = ItemStatus.AVAILABLE
    due_at: datetime | None = None


@dataclass
class ImportState:
    """What lives for the whole import (small: ids only)."""

    library_id: int
    report: ImportReport
    described: set[int] = field(default_factory=set)
    changed: set[int] = field(default_factory=set)
    # With settings, a copy the export puts back on the shelf fills the next queued hold.
    settings: Settings | None = None


@dataclass
class Loaded:
    """What the database holds for a batch: copies by barcode, ISBN and key owners, works."""

    items: dict[str, ExistingItem]
    isbn_owner: dict[str, int]
    key_owner: dict[str, int]
    works: dict[int, WorkState]


@dataclass
class BatchChanges:
    """What merging a batch asks to write besides the loaded works it changed."""

    created: list[WorkState] = field(default_factory=list)
    new_items: list[tuple[WorkState, PlannedCopy]] = field(default_factory=list)
    call_updates: list[dict[str, Any]] = field(default_factory=list)
    status_updates: list[dict[str, Any]] = field(default_factory=list)
    # Copies the export puts back on the shelf (on loan, missing, not for loan before).
    returned: list[int] = field(default_factory=list)


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_WORK_COLUMNS = (
    Work.id,
    Work.work_key,
    Work.fingerprint,
    *(getattr(Work, name) for name in WORK_FIELDS),
)


def _state_from_row(row: Any) -> WorkState:
    values = {name: getattr(row, name) for name in WORK_FIELDS}
    for name in LIST_FIELDS:
        values[name] = list(values[name] or [])
    return WorkState(id=row.id, values=values, work_key=row.work_key, fingerprint=row.fingerprint)


async def _items(session: AsyncSession, barcodes: list[str]) -> dict[str, ExistingItem]:
    items: dict[str, ExistingItem] = {}
    for chunk in _chunks(barcodes):
        found = await session.execute(
            select(
                Item.barcode,
                Item.id,
                Item.work_id,
                Item.library_id,
                Item.call_number,
                Item.status,
                Item.due_at,
            ).where(Item.barcode.in_(chunk))
        )
        for barcode, item_id, work_id, owner_id, call_number, status, due_at in found:
            items[barcode] = ExistingItem(item_id, work_id, owner_id, call_number, status, due_at)
    return items


async def _isbn_owners(session: AsyncSession, isbns: list[str]) -> dict[str, int]:
    owners: dict[str, int] = {}
    for chunk in _chunks(isbns):
        claimed = await session.execute(
            select(WorkIsbn.isbn, WorkIsbn.work_id).where(WorkIsbn.isbn.in_(chunk))
        )
        for isbn, work_id in claimed:
            owners[isbn] = work_id
    return owners


async def _works_by_key(
    session: AsyncSession, keys: list[str], works: dict[int, WorkState]
) -> dict[str, int]:
    """The first work of each key (lowest id), adding the works found to `works`."""
    key_owner: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(*_WORK_COLUMNS).where(Work.work_key.in_(chunk)).order_by(Work.id)
        )
        for row in rows:
            key_owner.setdefault(row.work_key, row.id)
            works.setdefault(row.id, _state_from_row(row))
    return key_owner


async def _works_by_id(
    session: AsyncSession, work_ids: list[int], works: dict[int, WorkState]
) -> None:
    for chunk in _chunks(work_ids):
        rows = await session.execute(select(*_WORK_COLUMNS).where(Work.id.in_(chunk)))
        for row in rows:
            works[row.id] = _state_from_row(row)


async def _count_isbns(session: AsyncSession, works: dict[int, WorkState]) -> None:
    for chunk in _chunks(sorted(works)):
        positions = await session.execute(
            select(WorkIsbn.work_id, func.max(WorkIsbn.position))
            .where(WorkIsbn.work_id.in_(chunk))
            .group_by(WorkIsbn.work_id)
        )
        for work_id, position in positions:
            works[work_id].isbn_count = (position or 0) + 1


async def load(session: AsyncSession, batch: list[PlannedRecord], library_id: int) -> Loaded:
    """Items by barcode, ISBN owners, first work per key, and the candidate works."""
    barcodes = list(dict.fromkeys(c.barcode for p in batch for c in p.copies))
    isbns = list(dict.fromkeys(i for p in batch for i in p.record.isbns))
    keys = list(dict.fromkeys(p.key for p in batch))
    items = await _items(session, barcodes)
    isbn_owner = await _isbn_owners(session, isbns)
    works: dict[int, WorkState] = {}
    key_owner = await _works_by_key(session, keys, works)
    wanted = {e.work_id for e in items.values() if e.library_id == library_id}
    wanted |= set(isbn_owner.values())
    await _works_by_id(session, sorted(wanted - works.keys()), works)
    await _count_isbns(session, works)
    return Loaded(items, isbn_owner, key_owner, works)


def _owner(fingerprint: str) -> tuple[int | None, str]:
    match = _OWNED_FINGERPRINT.fullmatch(fingerprint or "")
    if match is None:
        return None, ""
    return int(match.group(1)), match.group(2)


def _fill_gaps(work: WorkState, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if value not in (None, [], "") and work.values.get(name) in (None, [], ""):
            work.values[name] = value
            changed = True
    return changed


def _describe(work: WorkState, planned: PlannedRecord) -> bool:
    changed = False
    for name, value in planned.values.items():
        if value not in (None, [], "") and work.values.get(name) != value:
            work.values[name] = value
            changed = True
    if work.work_key != planned.key:
        work.work_key = planned.key
        changed = True
    work.fingerprint = planned.fingerprint
    return changed


class _Merger:
    """Matches a batch's records to works and merges them, in file order."""

    def __init__(self, loaded: Loaded, state: ImportState) -> None:
        works = loaded.works
        self.loaded = loaded
        self.state = state
        self.isbn_owner = {isbn: works[i] for isbn, i in loaded.isbn_owner.items()}
        self.key_owner = {key: works[i] for key, i in loaded.key_owner.items()}
        # This library's copies (known or added by this batch) and the work each belongs to.
        self.copy_owner = {
            barcode: works[e.work_id]
            for barcode, e in loaded.items.items()
            if e.library_id == state.library_id and e.work_id in works
        }
        self.described_here: set[int] = set()  # id() of the WorkStates described in this batch
        self.changes = BatchChanges()

    def find(self, planned: PlannedRecord) -> WorkState | None:
        """The work a record belongs to: by its copies, its ISBNs, then its work key."""
        for copy in planned.copies:
            if copy.barcode in self.copy_owner:
                return self.copy_owner[copy.barcode]
        for isbn in planned.record.isbns:
            if isbn in self.isbn_owner:
                return self.isbn_owner[isbn]
        return self.key_owner.get(planned.key)

    def create(self, planned: PlannedRecord) -> WorkState:
        """A new work described by the record."""
        work = WorkState(
            id=None,
            values=dict(planned.values),
            work_key=planned.key,
            fingerprint=planned.fingerprint,
        )
        self.changes.created.append(work)
        self.described_here.add(id(work))
        return work

    def update(self, work: WorkState, planned: PlannedRecord) -> Outcome:
        """Describe the work (its own library's changed record) or fill its gaps."""
        state = self.state
        owner, stored_hash = _owner(work.fingerprint)
        already = id(work) in self.described_here or (
            work.id is not None and work.id in state.described
        )
        if already or (owner is not None and owner != state.library_id):
            changed = _fill_gaps(work, planned.values)
        elif stored_hash != planned.fingerprint.split(":", 1)[1]:
            changed = _describe(work, planned)
            # Even without a visible change the stored fingerprint must follow.
            work.fields_changed = True
        else:
            changed = False
        if not already and owner in (None, state.library_id):
            self.described_here.add(id(work))
            if work.id is not None:
                state.described.add(work.id)
        work.fields_changed |= changed
        return "updated" if changed else "unchanged"

    def claim_isbns(self, work: WorkState, planned: PlannedRecord) -> bool:
        """Give the work the record's ISBNs no work has yet; whether there were any."""
        claimed = False
        for isbn in planned.record.isbns:
            if isbn not in self.isbn_owner:
                self.isbn_owner[isbn] = work
                work.new_isbns.append(isbn)
                claimed = True
        return claimed

    def place_copies(self, work: WorkState, planned: PlannedRecord) -> None:
        """Add the record's new copies to the work; update call numbers of known ones."""
        for copy in planned.copies:
            existing = self.loaded.items.get(copy.barcode)
            if existing is None and copy.barcode not in self.copy_owner:
                self.copy_owner[copy.barcode] = work
                self.changes.new_items.append((work, copy))
                work.copies_added = True
            elif existing is not None and existing.library_id != self.state.library_id:
                self.state.report.problems.append(
                    RecordProblem(
                        planned.record.record_number,
                        f"barcode {copy.barcode} belongs to another library's copy; skipped",
                    )
                )
            elif existing is not None:
                self._update_copy(existing, copy)

    def _update_copy(self, existing: ExistingItem, copy: PlannedCopy) -> None:
        """A known copy of this library: its call number, and the status its export gives.

        A copy the holds rules hold or move (HELD, IN_TRANSIT) keeps its status.
        """
        if copy.call_number is not None and existing.call_number != copy.call_number:
            existing.call_number = copy.call_number
            self.changes.call_updates.append(
                {"id": existing.item_id, "call_number": copy.call_number}
            )
        if (
            copy.status is not None
            and (existing.status, existing.due_at) != (copy.status, copy.due_at)
            and existing.status not in _HOLDS_STATUSES
        ):
            if copy.status is ItemStatus.AVAILABLE:
                self.changes.returned.append(existing.item_id)
            existing.status, existing.due_at = copy.status, copy.due_at
            self.changes.status_updates.append(
                {"id": existing.item_id, "status": copy.status, "due_at": copy.due_at}
            )

    def merge(self, planned: PlannedRecord) -> Outcome:
        """Match and merge one record; what happened to its work."""
        work = self.find(planned)
        outcome: Outcome
        if work is None:
            work = self.create(planned)
            outcome = "created"
        else:
            outcome = self.update(work, planned)
        if self.claim_isbns(work, planned) and outcome == "unchanged":
            outcome = "updated"
        self.key_owner.setdefault(planned.key, work)
        self.place_copies(work, planned)
        return outcome


def merge(batch: list[PlannedRecord], loaded: Loaded, state: ImportState) -> BatchChanges:
    """Match and merge a batch's records in order, counting the outcomes in the report."""
    merger = _Merger(loaded, state)
    report = state.report
    for planned in batch:
        outcome = merger.merge(planned)
        if outcome == "created":
            report.works_created += 1
        elif outcome == "updated":
            report.works_updated += 1
        else:
            report.works_unchanged += 1
    return merger.changes
