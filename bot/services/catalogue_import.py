"""Catalogue import: stream a library's MARC 21, MARCXML or CSV file into works and copies.

Records are read by ``bot.bibrecords`` in a worker thread, ``BATCH_SIZE`` at a time, and each
batch is written in one transaction with a handful of bulk queries (no per-record round
trips), so memory stays flat however long the file is. A record that cannot be read is
skipped and reported with its number; the good records around it are kept.

Matching a record to a work, first rule that applies:

1. a copy of the record (an item barcode, given or generated) already belongs to the
   importing library: that copy's work (so a corrected title still updates its work);
2. one of its normalised ISBNs is a ``WorkIsbn`` (the merge key across libraries);
3. its ``work_key`` (folded title and first author) is an existing work's;
4. otherwise a new work.

Who describes a work: ``Work.fingerprint`` is ``"<library id>:<hash>"``, the hash of the
bibliographic fields of the record that wrote the work and the library it came from. A
record from that library (or for a work without such a fingerprint) is the work's
description: when its hash differs, its non-empty fields replace the work's (an update
never blanks a field) and the fingerprint follows. A record from another library, or a
second record of the same work in one import, only fills the fields the work leaves
empty. So re-importing a file changes nothing, and two libraries holding one book never
overwrite each other back and forth. ISBNs not yet claimed by another work are added to
the matched work; ISBNs are never taken from another work or removed.

Copies: each holding of the record (852, 949/952) becomes an item of the importing
library; a holding with a barcode keeps it, one without gets generated barcodes. A holding
whose library code names a *different* member library is skipped with a warning (a file
imported for one library never changes another library's holdings); other codes are read
as the importing library's own branches or locations. A record without holdings gets
``copies`` generated copies (``copies=0``: bibliographic data only). Generated barcodes are
``<library code>-<record key>-<n>``, the record key being its control number (else its
first ISBN, else a hash of its work key), so re-imports find the same copies. A barcode
that belongs to another library's copy is reported and skipped. Copies missing from a
later file are not deleted: an import adds and updates, it never withdraws.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.bibrecords import (
    BibRecord,
    CatalogueFileError,
    RecordProblem,
    read_records,
)
from bot.models import CatalogueChange, Item, Library, Reader, Work, WorkIsbn, utcnow
from bot.services import audit
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.holds.watching import mark_watches_arrived
from bot.services.indexing import CatalogueIndexer

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_COPIES",
    "MAX_COPIES",
    "CatalogueFileError",
    "FileFormat",
    "ImportReport",
    "UnknownLibraryError",
    "copy_barcode",
    "file_error_kind",
    "find_library",
    "import_catalogue",
    "record_fingerprint",
    "record_key",
    "report_text",
    "sync_index",
]

FileFormat = Literal["auto", "marc", "marcxml", "csv"]

BATCH_SIZE = 1000
DEFAULT_COPIES = 1
MAX_COPIES = 100
# Rows per IN (...) list: well under SQLite's and asyncpg's bound-parameter limits.
_IN_CHUNK = 2000
# Serialises catalogue batches across processes on PostgreSQL (SQLite's BEGIN IMMEDIATE
# already does); any constant unlikely to collide with other advisory locks.
_PG_LOCK_KEY = 0x626F6F6B_696D7074

_TITLE_MAX = 1000
_PUBLISHER_MAX = 300
_LANGUAGE_MAX = 8
_KEY_MAX = 255
_BARCODE_MAX = 64
_CALL_NUMBER_MAX = 100
_SAFE_KEY = re.compile(r"[A-Za-z0-9._-]{1,24}")
_OWNED_FINGERPRINT = re.compile(r"(\d+):([0-9a-f]{40})")

_WORK_FIELDS = (
    "title",
    "original_title",
    "authors",
    "original_authors",
    "subjects",
    "language",
    "year",
    "publisher",
    "summary",
)


class UnknownLibraryError(NotFoundError):
    """No member library has the code; ``known`` lists the codes that exist."""

    def __init__(self, code: str, known: Sequence[str]) -> None:
        self.code = code
        self.known = list(known)
        listed = ", ".join(self.known) or "none yet (import libraries first)"
        super().__init__(f"no library has the code {code!r}; known codes: {listed}")


@dataclass
class ImportReport:
    """What an import did. Each good record counts once: created, updated or unchanged."""

    library_code: str
    source: str
    records_read: int = 0
    records_skipped: int = 0
    works_created: int = 0
    works_updated: int = 0
    works_unchanged: int = 0
    items_created: int = 0
    items_updated: int = 0
    problems: list[RecordProblem] = field(default_factory=list)
    changed_work_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        """Import speed, records read per second of wall time."""
        return self.records_read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One English line for the command line."""
        return (
            f"{self.source} -> {self.library_code}: {self.records_read} records read, "
            f"{self.records_skipped} skipped; works {self.works_created} created, "
            f"{self.works_updated} updated, {self.works_unchanged} unchanged; "
            f"copies {self.items_created} added, {self.items_updated} updated; "
            f"{len(self.problems)} problem(s); {self.seconds:.1f} s"
        )


def report_text(report: ImportReport, *, started_at: datetime | None = None) -> str:
    """The plain-text report of an import: summary, then one line per problem."""
    lines = [f"Catalogue import report ({(started_at or utcnow()).isoformat(timespec='seconds')})"]
    lines.append(report.summary())
    lines.append("")
    if report.problems:
        lines.append(f"Problems ({len(report.problems)}):")
        lines += [f"record {p.record_number}: {p.reason}" for p in report.problems]
    else:
        lines.append("No problems.")
    return "\n".join(lines) + "\n"


def file_error_kind(error: CatalogueFileError) -> str:
    """Classify a refused file for translation.

    One of: empty, image, archive, document (PDF, Office), json, encoding (a CSV not in
    UTF-8), unknown (not a catalogue at all, such as random bytes) and other (say why).
    """
    message = str(error)
    kinds = (
        ("the file is empty", "empty"),
        ("image", "image"),
        ("archive", "archive"),
        ("PDF", "document"),
        ("Office", "document"),
        ("JSON", "json"),
        ("the CSV file is not UTF-8", "encoding"),
        ("the file is not a catalogue file", "unknown"),
    )
    return next((kind for clue, kind in kinds if clue in message), "other")


# --- records ---------------------------------------------------------------------------


def _clean(text: str | None, limit: int | None = None) -> str | None:
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    if limit is not None:
        text = text[:limit].rstrip()
    return text or None


def _clean_list(values: Iterable[str]) -> list[str]:
    return [value for value in (_clean(v) for v in values) if value]


def record_fingerprint(record: BibRecord) -> str:
    """A hash of a record's bibliographic fields (not its holdings)."""
    payload = json.dumps(
        [
            record.title,
            record.original_title,
            list(record.authors),
            list(record.original_authors),
            list(record.subjects),
            record.language,
            record.year,
            record.publisher,
            record.summary,
            list(record.isbns),
            record.work_key,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def record_key(record: BibRecord) -> str:
    """What names a record in a library's file: control number, else first ISBN, else a hash."""
    control = (record.control_number or "").strip()
    if control and _SAFE_KEY.fullmatch(control):
        return control
    if not control and record.isbns:
        return record.isbns[0]
    basis = control or record.work_key
    return hashlib.blake2b(basis.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def copy_barcode(library_code: str, record: BibRecord, number: int) -> str:
    """The generated barcode of a record's ``number``-th copy (1-based) at a library."""
    return f"{library_code}-{record_key(record)}-{number}"[:_BARCODE_MAX]


def _work_values(record: BibRecord) -> dict[str, Any]:
    return {
        "title": _clean(record.title, _TITLE_MAX) or "?",
        "original_title": _clean(record.original_title, _TITLE_MAX),
        "authors": _clean_list(record.authors),
        "original_authors": _clean_list(record.original_authors),
        "subjects": _clean_list(record.subjects),
        "language": _clean(record.language, _LANGUAGE_MAX),
        "year": record.year if record.year is not None and 0 <= record.year <= 2999 else None,
        "publisher": _clean(record.publisher, _PUBLISHER_MAX),
        "summary": _clean(record.summary),
    }


def _owner(fingerprint: str) -> tuple[int | None, str]:
    match = _OWNED_FINGERPRINT.fullmatch(fingerprint or "")
    if match is None:
        return None, ""
    return int(match.group(1)), match.group(2)


@dataclass
class _Copy:
    barcode: str
    call_number: str | None


@dataclass
class _Planned:
    """A good record with what the batch writer needs."""

    record: BibRecord
    values: dict[str, Any]
    key: str
    fingerprint: str
    copies: list[_Copy]


def _plan(
    record: BibRecord,
    library: Library,
    member_codes: dict[str, str],
    copies: int,
    problems: list[RecordProblem],
) -> _Planned:
    number = record.record_number
    planned: list[_Copy] = []
    generated = 0
    own = library.code.casefold()
    for holding in record.holdings:
        code = (holding.library_code or "").strip()
        other = member_codes.get(code.casefold())
        if other is not None and code.casefold() != own:
            problems.append(
                RecordProblem(
                    number,
                    f"a holding for library {other} was skipped: import that library's "
                    f"own file with its code",
                )
            )
            continue
        call_number = _clean(holding.call_number, _CALL_NUMBER_MAX)
        barcode = _clean(holding.barcode)
        if barcode is not None:
            if len(barcode) > _BARCODE_MAX:
                problems.append(
                    RecordProblem(number, f"barcode {barcode[:20]}… is longer than 64 characters")
                )
                continue
            planned.append(_Copy(barcode, call_number))
            continue
        for _ in range(max(1, holding.copies)):
            generated += 1
            planned.append(_Copy(copy_barcode(library.code, record, generated), call_number))
    if not record.holdings:
        planned = [_Copy(copy_barcode(library.code, record, n), None) for n in range(1, copies + 1)]
    values = _work_values(record)
    if record.year is not None and values["year"] is None:
        problems.append(RecordProblem(number, f"year {record.year} is out of range; left out"))
    return _Planned(
        record=record,
        values=values,
        key=record.work_key[:_KEY_MAX],
        fingerprint=f"{library.id}:{record_fingerprint(record)}",
        copies=planned,
    )


# --- the batch writer ------------------------------------------------------------------


@dataclass(eq=False)
class _WorkState:
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
class _Existing:
    item_id: int
    work_id: int
    library_id: int
    call_number: str | None


@dataclass
class _ImportState:
    """What lives for the whole import (small: ids only)."""

    library: Library
    member_codes: dict[str, str]
    copies: int
    report: ImportReport
    described: set[int] = field(default_factory=set)
    changed: set[int] = field(default_factory=set)


def _chunks(values: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_WORK_COLUMNS = (
    Work.id,
    Work.work_key,
    Work.fingerprint,
    *(getattr(Work, f) for f in _WORK_FIELDS),
)


def _state_from_row(row: Any) -> _WorkState:
    values = {name: getattr(row, name) for name in _WORK_FIELDS}
    for name in ("authors", "original_authors", "subjects"):
        values[name] = list(values[name] or [])
    return _WorkState(id=row.id, values=values, work_key=row.work_key, fingerprint=row.fingerprint)


async def _prefetch(
    session: AsyncSession, batch: list[_Planned], library_id: int
) -> tuple[dict[str, _Existing], dict[str, int], dict[str, int], dict[int, _WorkState]]:
    """Items by barcode, ISBN owners, first work per key, and the candidate works."""
    barcodes = list(dict.fromkeys(c.barcode for p in batch for c in p.copies))
    isbns = list(dict.fromkeys(i for p in batch for i in p.record.isbns))
    keys = list(dict.fromkeys(p.key for p in batch))
    items: dict[str, _Existing] = {}
    for chunk in _chunks(barcodes):
        found = await session.execute(
            select(Item.barcode, Item.id, Item.work_id, Item.library_id, Item.call_number).where(
                Item.barcode.in_(chunk)
            )
        )
        for barcode, item_id, work_id, owner_id, call_number in found:
            items[barcode] = _Existing(item_id, work_id, owner_id, call_number)
    isbn_owner: dict[str, int] = {}
    for chunk in _chunks(isbns):
        claimed = await session.execute(
            select(WorkIsbn.isbn, WorkIsbn.work_id).where(WorkIsbn.isbn.in_(chunk))
        )
        for isbn, work_id in claimed:
            isbn_owner[isbn] = work_id
    works: dict[int, _WorkState] = {}
    key_owner: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(*_WORK_COLUMNS).where(Work.work_key.in_(chunk)).order_by(Work.id)
        )
        for row in rows:
            key_owner.setdefault(row.work_key, row.id)
            works.setdefault(row.id, _state_from_row(row))
    wanted = {e.work_id for e in items.values() if e.library_id == library_id}
    wanted |= set(isbn_owner.values())
    missing = sorted(wanted - works.keys())
    for chunk in _chunks(missing):
        rows = await session.execute(select(*_WORK_COLUMNS).where(Work.id.in_(chunk)))
        for row in rows:
            works[row.id] = _state_from_row(row)
    for chunk in _chunks(sorted(works)):
        positions = await session.execute(
            select(WorkIsbn.work_id, func.max(WorkIsbn.position))
            .where(WorkIsbn.work_id.in_(chunk))
            .group_by(WorkIsbn.work_id)
        )
        for work_id, position in positions:
            works[work_id].isbn_count = (position or 0) + 1
    return items, isbn_owner, key_owner, works


def _fill_gaps(work: _WorkState, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if value not in (None, [], "") and work.values.get(name) in (None, [], ""):
            work.values[name] = value
            changed = True
    return changed


def _describe(work: _WorkState, planned: _Planned) -> bool:
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


async def _write_batch(session: AsyncSession, batch: list[_Planned], state: _ImportState) -> None:
    """Match, merge and write one batch in the caller's transaction."""
    library = state.library
    report = state.report
    items, isbn_ids, key_ids, works = await _prefetch(session, batch, library.id)
    isbn_owner: dict[str, _WorkState] = {isbn: works[i] for isbn, i in isbn_ids.items()}
    key_owner: dict[str, _WorkState] = {key: works[i] for key, i in key_ids.items()}
    # This library's copies (known or added by this batch) and the work each belongs to.
    copy_owner: dict[str, _WorkState] = {
        barcode: works[e.work_id]
        for barcode, e in items.items()
        if e.library_id == library.id and e.work_id in works
    }
    created: list[_WorkState] = []
    described_here: set[int] = set()  # id() of the _WorkState objects described in this batch
    new_items: list[tuple[_WorkState, _Copy]] = []
    call_updates: list[dict[str, Any]] = []

    for planned in batch:
        record = planned.record
        work = next(
            (copy_owner[c.barcode] for c in planned.copies if c.barcode in copy_owner), None
        )
        if work is None:
            work = next((isbn_owner[i] for i in record.isbns if i in isbn_owner), None)
        if work is None:
            work = key_owner.get(planned.key)
        outcome: Literal["created", "updated", "unchanged"]
        if work is None:
            work = _WorkState(
                id=None,
                values=dict(planned.values),
                work_key=planned.key,
                fingerprint=planned.fingerprint,
            )
            created.append(work)
            described_here.add(id(work))
            outcome = "created"
        else:
            owner, stored_hash = _owner(work.fingerprint)
            already = id(work) in described_here or (
                work.id is not None and work.id in state.described
            )
            if already or (owner is not None and owner != library.id):
                changed = _fill_gaps(work, planned.values)
            elif stored_hash != planned.fingerprint.split(":", 1)[1]:
                changed = _describe(work, planned)
                # Even without a visible change the stored fingerprint must follow.
                work.fields_changed = True
            else:
                changed = False
            if not already and owner in (None, library.id):
                described_here.add(id(work))
                if work.id is not None:
                    state.described.add(work.id)
            work.fields_changed |= changed
            outcome = "updated" if changed else "unchanged"
        for isbn in record.isbns:
            if isbn not in isbn_owner:
                isbn_owner[isbn] = work
                work.new_isbns.append(isbn)
                if outcome == "unchanged":
                    outcome = "updated"
        key_owner.setdefault(planned.key, work)
        for copy in planned.copies:
            existing = items.get(copy.barcode)
            if existing is None and copy.barcode not in copy_owner:
                copy_owner[copy.barcode] = work
                new_items.append((work, copy))
                work.copies_added = True
            elif existing is not None and existing.library_id != library.id:
                report.problems.append(
                    RecordProblem(
                        record.record_number,
                        f"barcode {copy.barcode} belongs to another library's copy; skipped",
                    )
                )
            elif (
                existing is not None
                and copy.call_number is not None
                and existing.call_number != copy.call_number
            ):
                existing.call_number = copy.call_number
                call_updates.append({"id": existing.item_id, "call_number": copy.call_number})
        if outcome == "created":
            report.works_created += 1
        elif outcome == "updated":
            report.works_updated += 1
        else:
            report.works_unchanged += 1

    now = utcnow()
    if created:
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
    updated = [w for w in works.values() if w.fields_changed]
    if updated:
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
    isbn_rows = []
    for work in [*created, *works.values()]:
        for offset, isbn in enumerate(work.new_isbns):
            isbn_rows.append(
                {"isbn": isbn, "work_id": work.id, "position": work.isbn_count + offset}
            )
    if isbn_rows:
        await session.execute(insert(WorkIsbn), isbn_rows)
    if new_items:
        await session.execute(
            insert(Item),
            [
                {
                    "work_id": work.id,
                    "library_id": library.id,
                    "barcode": copy.barcode,
                    "call_number": copy.call_number,
                    "created_at": now,
                    "updated_at": now,
                }
                for work, copy in new_items
            ],
        )
        report.items_created += len(new_items)
        # Readers who asked to hear when a copy arrives are told by the holds job.
        await mark_watches_arrived(
            session, {work.id for work, _copy in new_items if work.id is not None}, now
        )
    if call_updates:
        await session.execute(update(Item), [{**row, "updated_at": now} for row in call_updates])
        report.items_updated += len(call_updates)
    touched = {work.id for work in created if work.id is not None}
    touched.update(
        work.id
        for work in works.values()
        if work.id is not None and (work.fields_changed or work.new_isbns or work.copies_added)
    )
    if touched:
        state.changed.update(touched)
        # In the batch's own transaction: every instance's index catches up from these rows.
        session.add(CatalogueChange(work_ids=sorted(touched)))


async def _begin_batch(session: AsyncSession) -> None:
    """PostgreSQL: serialise catalogue batches across processes, plan for the current sizes."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
        # plan made while the tables were small (sequential scans), which a growing import
        # then pays for on every batch.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# --- the public API ----------------------------------------------------------------------


async def find_library(session: AsyncSession, code: str) -> Library:
    """A member library by code (case-insensitive), else UnknownLibraryError with the codes."""
    wanted = code.strip()
    library = await session.scalar(
        select(Library).where(func.lower(Library.code) == wanted.lower())
    )
    if library is None:
        known = list(await session.scalars(select(Library.code).order_by(Library.code)))
        raise UnknownLibraryError(wanted, known)
    return library


def _open_records(path: Path, file_format: FileFormat) -> Iterator[BibRecord | RecordProblem]:
    return read_records(path, format=file_format)


def _next_batch(
    records: Iterator[BibRecord | RecordProblem], size: int, limit: int | None, read: int
) -> list[BibRecord | RecordProblem]:
    wanted = size if limit is None else min(size, limit - read)
    batch: list[BibRecord | RecordProblem] = []
    if wanted <= 0:
        return batch
    for item in records:
        batch.append(item)
        if len(batch) >= wanted:
            break
    return batch


async def import_catalogue(
    sessionmaker: async_sessionmaker[AsyncSession],
    library_code: str,
    path: Path,
    *,
    file_format: FileFormat = "auto",
    copies: int = DEFAULT_COPIES,
    batch_size: int = BATCH_SIZE,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
    actor: Reader | None = None,
) -> ImportReport:
    """Import a catalogue file for a library, batch by batch; see the module docstring.

    Raises UnknownLibraryError, CatalogueFileError (the file is refused as a whole) and
    InvalidInputError (bad ``copies`` or ``batch_size``). ``progress`` is called on the
    event loop with the number of records read so far; ``limit`` stops after that many.
    """
    if not 0 <= copies <= MAX_COPIES:
        raise InvalidInputError(f"copies must be between 0 and {MAX_COPIES}")
    if batch_size < 1:
        raise InvalidInputError("batch_size must be at least 1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with sessionmaker() as session:
        library = await find_library(session, library_code)
        codes = await session.scalars(select(Library.code))
        member_codes = {code.casefold(): code for code in codes}
        await session.commit()
    report = ImportReport(library_code=library.code, source=path.name)
    state = _ImportState(library, member_codes, copies, report)
    records = await asyncio.to_thread(_open_records, path, file_format)
    pending: asyncio.Task[list[BibRecord | RecordProblem]] | None = None
    try:
        read = 0

        def start_reading() -> asyncio.Task[list[BibRecord | RecordProblem]]:
            return asyncio.ensure_future(
                asyncio.to_thread(_next_batch, records, batch_size, limit, read)
            )

        pending = start_reading()
        while True:
            batch = await pending
            pending = None
            if not batch:
                break
            read += len(batch)
            # Read the next batch in the worker thread while this one is written.
            pending = start_reading()
            planned: list[_Planned] = []
            for item in batch:
                if isinstance(item, RecordProblem):
                    report.problems.append(item)
                    report.records_skipped += 1
                else:
                    planned.append(_plan(item, library, member_codes, copies, report.problems))
            if planned:
                async with sessionmaker() as session:
                    await _begin_batch(session)
                    await _write_batch(session, planned, state)
                    await session.commit()
            report.records_read = read
            if progress is not None:
                progress(read)
    finally:
        if pending is not None:
            with contextlib.suppress(Exception):
                await pending
        close = getattr(records, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
    report.problems.sort(key=lambda problem: problem.record_number)
    report.changed_work_ids = sorted(state.changed)
    report.seconds = loop.time() - started
    async with sessionmaker() as session:
        audit.record(
            session,
            actor,
            "catalogue.import",
            target_type="library",
            target_id=library.id,
            source=path.name[:200],
            records=report.records_read,
            skipped=report.records_skipped,
            created=report.works_created,
            updated=report.works_updated,
            unchanged=report.works_unchanged,
            items=report.items_created,
        )
        await session.commit()
    return report


async def sync_index(
    indexer: CatalogueIndexer,
    work_ids: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-index the given works in chunks (an import's changed works); return how many changed.

    Without an index yet (a first import) the whole index is built from the database in
    one pass instead, which is faster than growing it chunk by chunk.
    """
    if not work_ids:
        return 0
    if not await indexer.index.exists():
        total = len(work_ids)
        return await indexer.rebuild(
            progress=None if progress is None else lambda done: progress(min(done, total))
        )
    return await indexer.sync_chunked(work_ids, progress)
