"""Running an import: records read in a worker thread while the batch before is written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.reading import FileFormat, read_records
from bot.catalogue.records import BibRecord, ReadLimits, RecordProblem
from bot.config import Settings
from bot.db import write
from bot.models import Library, Reader
from bot.services import audit
from bot.services.catalogue_import.libraries import find_library, holdings_map, member_codes
from bot.services.catalogue_import.matching import ImportState
from bot.services.catalogue_import.planning import PlannedRecord, plan_record
from bot.services.catalogue_import.report import ImportReport
from bot.services.catalogue_import.writing import write_batch
from bot.services.errors import InvalidInputError
from bot.services.indexing import CatalogueIndexer

__all__ = ["BATCH_SIZE", "DEFAULT_COPIES", "MAX_COPIES", "import_catalogue", "sync_index"]

BATCH_SIZE = 1000
# A batch also ends once its records hold this much text, so large records keep memory flat.
BATCH_TEXT_CHARS = 8 * 1024 * 1024
DEFAULT_COPIES = 1
MAX_COPIES = 100

ReadItem = BibRecord | RecordProblem


def _text_size(item: ReadItem) -> int:
    """About how many characters a record holds."""
    if isinstance(item, RecordProblem):
        return len(item.reason)
    texts = (item.title, item.original_title, item.publisher, item.summary)
    lists = (
        item.authors,
        item.original_authors,
        item.subjects,
        item.isbns,
        item.warnings,
        item.variant_titles,
    )
    holdings = (
        len(h.library_code or "") + len(h.barcode or "") + len(h.call_number or "")
        for h in item.holdings
    )
    return (
        sum(len(text or "") for text in texts)
        + sum(len(value) for values in lists for value in values)
        + sum(holdings)
    )


def _next_batch(
    records: Iterator[ReadItem], size: int, limit: int | None, read: int
) -> list[ReadItem]:
    wanted = size if limit is None else min(size, limit - read)
    batch: list[ReadItem] = []
    if wanted <= 0:
        return batch
    held = 0
    for item in records:
        batch.append(item)
        held += _text_size(item)
        if len(batch) >= wanted or held >= BATCH_TEXT_CHARS:
            break
    return batch


@dataclass
class _Import:
    """One import's settings and state while its batches are read and written."""

    sessionmaker: async_sessionmaker[AsyncSession]
    library: Library
    member_codes: dict[str, str]
    copies: int
    batch_size: int
    limit: int | None
    progress: Callable[[int], None] | None
    state: ImportState

    async def write(self, batch: list[ReadItem]) -> None:
        """Report the batch's unreadable records; write the good ones in one unit of work."""
        report = self.state.report
        planned: list[PlannedRecord] = []
        for item in batch:
            if isinstance(item, RecordProblem):
                report.problems.append(item)
                report.records_skipped += 1
            else:
                planned.append(
                    plan_record(item, self.library, self.member_codes, self.copies, report.problems)
                )
        if planned:
            async with self.sessionmaker() as session, write(session):
                await write_batch(session, planned, self.state)

    async def run(self, records: Iterator[ReadItem]) -> None:
        """Read batch after batch in a worker thread, writing each while the next is read."""
        read = 0

        def start_reading() -> asyncio.Future[list[ReadItem]]:
            return asyncio.ensure_future(
                asyncio.to_thread(_next_batch, records, self.batch_size, self.limit, read)
            )

        pending: asyncio.Future[list[ReadItem]] | None = start_reading()
        try:
            while pending is not None and (batch := await pending):
                read += len(batch)
                pending = start_reading()
                await self.write(batch)
                self.state.report.records_read = read
                if self.progress is not None:
                    self.progress(read)
            pending = None
        finally:
            if pending is not None:
                with contextlib.suppress(Exception):
                    await pending
            close = getattr(records, "close", None)
            if close is not None:
                await asyncio.to_thread(close)


async def _log(
    sessionmaker: async_sessionmaker[AsyncSession],
    actor: Reader | None,
    library: Library,
    path: Path,
    report: ImportReport,
) -> None:
    async with sessionmaker() as session, write(session):
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
    read_limits: ReadLimits | None = None,
    settings: Settings | None = None,
) -> ImportReport:
    """Import a catalogue file for a library, batch by batch; see the package docstring.

    Raises UnknownLibraryError, CatalogueFileError (the file is refused as a whole, also when
    it passes ``read_limits`` before its first record) and InvalidInputError (bad ``copies``
    or ``batch_size``). ``progress`` is called on the event loop with the number of records
    read so far; ``limit`` stops after that many. With ``settings``, a copy the file puts
    back on the shelf (on loan, missing or not for loan before) fills the next queued hold of
    its work, as ``/checkin`` does.
    """
    if not 0 <= copies <= MAX_COPIES:
        raise InvalidInputError(f"copies must be between 0 and {MAX_COPIES}")
    if batch_size < 1:
        raise InvalidInputError("batch_size must be at least 1")
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with sessionmaker() as session:
        library = await find_library(session, library_code)
        codes = await member_codes(session)
    report = ImportReport(library_code=library.code, source=path.name)
    state = ImportState(library.id, report, settings=settings)
    records = await asyncio.to_thread(
        read_records,
        path,
        format=file_format,
        limits=read_limits or ReadLimits(),
        holdings_map=holdings_map(library),
    )
    run = _Import(sessionmaker, library, codes, copies, batch_size, limit, progress, state)
    await run.run(records)
    report.problems.sort(key=lambda problem: problem.record_number)
    report.changed_work_ids = sorted(state.changed)
    report.seconds = loop.time() - started
    await _log(sessionmaker, actor, library, path, report)
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
