"""A harvest: the pages of what changed since the last one, each stored in one unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.holdings_map import HoldingsMapError
from bot.catalogue.records import BibRecord, CatalogueFileError, RecordProblem
from bot.config import Settings
from bot.db import write
from bot.models import CatalogueChange, HarvestRecord, HarvestSource, Library, utcnow
from bot.services import audit
from bot.services.catalogue_import.libraries import holdings_map, member_codes
from bot.services.catalogue_import.matching import ImportState
from bot.services.catalogue_import.planning import PlannedRecord, plan_record
from bot.services.catalogue_import.report import ImportReport
from bot.services.catalogue_import.run import sync_index
from bot.services.catalogue_import.writing import lock_catalogue, write_batch
from bot.services.harvest.formats import RecordReader, UnsupportedFormatError, record_reader
from bot.services.harvest.protocol import HarvestError, OaiRecord, Page, Repository, from_stamp
from bot.services.harvest.sources import source_of
from bot.services.holds.withdrawal import withdraw_copies
from bot.services.indexing import CatalogueIndexer

__all__ = ["HarvestReport", "harvest_all", "harvest_library"]

logger = logging.getLogger(__name__)

_ERROR_CHARS = 1000
# A harvest holds its source this long past its last stored page (a crashed one lets go).
CLAIM_LEASE = timedelta(minutes=15)
# The index is brought up to date when this many works changed, and when a harvest ends.
INDEX_EVERY_WORKS = 5000


@dataclass
class HarvestReport:
    """What one harvest of one library did; ``error`` is set when it stopped part way."""

    library_code: str
    records: int = 0
    deleted: int = 0
    pages: int = 0
    complete: bool = False
    error: HarvestError | None = None
    imported: ImportReport = field(default_factory=lambda: ImportReport("", "oai-pmh"))
    changed_work_ids: set[int] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        """Records that could not be read (reported in ``imported.problems``)."""
        return self.imported.records_skipped

    def summary(self) -> str:
        """One English line for the command line and the log."""
        line = (
            f"{self.library_code}: {self.records} records harvested, {self.deleted} deleted, "
            f"{self.skipped} skipped in {self.pages} page(s); works "
            f"{self.imported.works_created} created, {self.imported.works_updated} updated, "
            f"{self.imported.works_unchanged} unchanged; {self.seconds:.1f} s"
        )
        if self.error is not None:
            return f"{line}; stopped: {self.error}"
        return line


@dataclass(frozen=True)
class _Fetched:
    """A page with its records read (None for a deleted record)."""

    page: Page
    items: list[BibRecord | RecordProblem | None]


@dataclass
class _Harvest:
    """One library's harvest while its pages are stored."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    library: Library
    source_id: int
    reader: RecordReader
    codes: dict[str, str]
    report: HarvestReport
    state: ImportState
    indexer: CatalogueIndexer | None
    progress: Callable[[int], None] | None
    pending_from: str | None = None
    number: int = 0
    unindexed: set[int] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    async def sync_index(self) -> None:
        """Index the works stored since the last sync (the whole index if there is none)."""
        if self.indexer is not None and self.unindexed:
            await sync_index(self.indexer, sorted(self.unindexed))
        self.unindexed.clear()

    async def withdraw_unseen(self) -> None:
        """After a complete full harvest: what the repository no longer lists is withdrawn
        (for repositories that keep no trace of deleted records)."""
        async with self.sessionmaker() as session, write(session):
            await lock_catalogue(session)
            rows = await session.execute(
                select(HarvestRecord.id, HarvestRecord.identifier, HarvestRecord.barcodes).where(
                    HarvestRecord.source_id == self.source_id, HarvestRecord.deleted.is_(False)
                )
            )
            missing = [
                (row_id, barcodes) for row_id, name, barcodes in rows if name not in self.seen
            ]
            if not missing:
                return
            await session.execute(
                update(HarvestRecord),
                [{"id": row_id, "deleted": True, "barcodes": []} for row_id, _codes in missing],
            )
            gone = {barcode for _row_id, barcodes in missing for barcode in barcodes or ()}
            withdrawn = await withdraw_copies(
                session, self.library.id, gone, settings=self.settings, now=utcnow()
            )
            if withdrawn:
                session.add(CatalogueChange(work_ids=sorted(withdrawn)))
        self.report.deleted += len(missing)
        self.report.changed_work_ids |= withdrawn
        self.unindexed |= withdrawn
        await self.sync_index()

    def read(self, pages: Iterator[Page]) -> _Fetched | None:
        """Fetch the next page and read its records (blocking: runs in a worker thread)."""
        page = next(pages, None)
        if page is None:
            return None
        items: list[BibRecord | RecordProblem | None] = []
        for record in page.records:
            item: BibRecord | RecordProblem | None = None
            if not record.deleted:
                self.number += 1
                if not record.identifier:
                    item = RecordProblem(self.number, "it has no identifier")
                elif record.metadata is None:
                    item = RecordProblem(self.number, "it has no metadata")
                else:
                    item = self._read_one(record.metadata)
            items.append(item)
        return _Fetched(page, items)

    def _read_one(self, metadata: bytes) -> BibRecord | RecordProblem:
        try:
            return self.reader(metadata, self.number)
        except CatalogueFileError as exc:  # past a read limit: this record only
            return RecordProblem(self.number, str(exc))

    def _plan(self, record: OaiRecord, item: BibRecord | RecordProblem) -> PlannedRecord | None:
        imported = self.report.imported
        imported.records_read += 1
        if isinstance(item, RecordProblem):
            name = record.identifier or "a record"
            imported.problems.append(RecordProblem(item.record_number, f"{name}: {item.reason}"))
            imported.records_skipped += 1
            return None
        return plan_record(item, self.library, self.codes, 1, imported.problems)

    async def store(self, fetched: _Fetched) -> None:
        """Write one page, its deletions and the harvest's position in one unit of work."""
        page = fetched.page
        planned: dict[str, PlannedRecord] = {}
        deleted: list[OaiRecord] = []
        for record, item in zip(page.records, fetched.items, strict=True):
            if item is None:
                deleted.append(record)
            elif (plan := self._plan(record, item)) is not None:
                planned[record.identifier] = plan
        async with self.sessionmaker() as session, write(session):
            await lock_catalogue(session)
            if planned:
                await write_batch(session, list(planned.values()), self.state)
            withdrawn = await self._remember(session, page.records, planned)
            if withdrawn:
                session.add(CatalogueChange(work_ids=sorted(withdrawn)))
            await session.execute(
                update(HarvestSource)
                .where(HarvestSource.id == self.source_id)
                .values(
                    resume_token=page.token,
                    pending_from=self.pending_from if page.token else None,
                    claimed_until=utcnow() + CLAIM_LEASE,
                )
            )
        self.report.pages += 1
        self.seen.update(record.identifier for record in page.records)
        self.report.records += len(page.records) - len(deleted)
        self.report.deleted += len(deleted)
        self.unindexed |= self.state.changed | withdrawn
        self.report.changed_work_ids |= self.unindexed
        self.state.changed.clear()
        if len(self.unindexed) >= INDEX_EVERY_WORKS:
            await self.sync_index()
        if self.progress is not None:
            self.progress(self.report.records + self.report.deleted)

    async def _remember(
        self,
        session: AsyncSession,
        records: list[OaiRecord],
        planned: dict[str, PlannedRecord],
    ) -> set[int]:
        """Record what each identifier brought; withdraw the copies it no longer brings."""
        identifiers = [record.identifier for record in records if record.identifier]
        rows = await session.execute(
            select(HarvestRecord.id, HarvestRecord.identifier, HarvestRecord.barcodes).where(
                HarvestRecord.source_id == self.source_id,
                HarvestRecord.identifier.in_(identifiers),
            )
        )
        known = {identifier: (row_id, barcodes) for row_id, identifier, barcodes in rows}
        inserts: dict[str, dict[str, object]] = {}
        updates: dict[str, dict[str, object]] = {}
        gone: set[str] = set()
        for record in records:
            plan = planned.get(record.identifier)
            if not record.identifier or (plan is None and not record.deleted):
                continue  # unreadable: what it brought before stays
            barcodes = [] if plan is None else [copy.barcode for copy in plan.copies]
            values = {
                "datestamp": record.datestamp[:32],
                "deleted": record.deleted,
                "barcodes": barcodes,
            }
            if record.identifier in known:
                row_id, before = known[record.identifier]
                gone.update(set(before or ()) - set(barcodes))
                updates[record.identifier] = {"id": row_id, **values}
            else:
                inserts[record.identifier] = {
                    "source_id": self.source_id,
                    "identifier": record.identifier,
                    **values,
                }
        if inserts:
            await session.execute(insert(HarvestRecord), list(inserts.values()))
        if updates:
            await session.execute(update(HarvestRecord), list(updates.values()))
        return await withdraw_copies(
            session, self.library.id, gone, settings=self.settings, now=utcnow()
        )


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession], source_id: int
) -> HarvestSource | None:
    """Claim the source for one harvest (a lease), and read it; None while another runs."""
    now = utcnow()
    async with sessionmaker() as session, write(session):
        result = await session.execute(
            update(HarvestSource)
            .where(
                HarvestSource.id == source_id,
                or_(HarvestSource.claimed_until.is_(None), HarvestSource.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM_LEASE, last_started_at=now)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await session.get(HarvestSource, source_id, populate_existing=True)


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    source_id: int,
    report: HarvestReport,
    *,
    next_from: str | None,
    granularity: str | None,
) -> None:
    """Store the outcome: where the next harvest starts, the counts, the error if any."""
    now = utcnow()
    async with sessionmaker() as session, write(session):
        source = await session.get(HarvestSource, source_id, with_for_update=True)
        assert source is not None
        source.claimed_until = None
        source.records_harvested = report.records
        source.records_deleted = report.deleted
        source.records_skipped = report.skipped
        if granularity is not None:
            source.granularity = granularity
        error = report.error
        if error is None:
            source.harvested_from = next_from
            source.resume_token = source.pending_from = None
            source.last_success_at = now
            source.last_error_kind = source.last_error = source.last_error_at = None
        else:
            source.last_error_kind = error.kind
            source.last_error = str(error)[:_ERROR_CHARS]
            source.last_error_at = now
            if error.kind == "bad_resumption_token":
                source.resume_token = source.pending_from = None
        audit.record(
            session,
            None,
            "catalogue.harvest",
            target_type="library",
            target_id=source.library_id,
            records=report.records,
            deleted=report.deleted,
            skipped=report.skipped,
            pages=report.pages,
            error=None if error is None else error.kind,
        )


@dataclass(frozen=True)
class _Start:
    """Where a harvest starts: a ``from`` or a resumption token, and the next ``from``."""

    from_: str | None
    token: str | None
    next_from: str


def _start(source: HarvestSource, stamp: str, *, full: bool) -> _Start:
    if full:
        return _Start(None, None, stamp)
    if source.resume_token:
        return _Start(None, source.resume_token, source.pending_from or source.harvested_from or "")
    return _Start(source.harvested_from, None, stamp)


def _pages(repository: Repository, source: HarvestSource, start: _Start) -> Iterator[Page]:
    return repository.pages(
        source.metadata_prefix, from_=start.from_, set_spec=source.set_spec, token=start.token
    )


async def _run(harvest: _Harvest, pages: Iterator[Page]) -> None:
    """Store page after page, the next one fetched and read while one is stored."""

    def fetch_next() -> asyncio.Future[_Fetched | None]:
        return asyncio.ensure_future(asyncio.to_thread(harvest.read, pages))

    pending: asyncio.Future[_Fetched | None] | None = fetch_next()
    try:
        while pending is not None and (fetched := await pending) is not None:
            pending = fetch_next()
            await harvest.store(fetched)
        pending = None
    finally:
        if pending is not None:
            with contextlib.suppress(Exception):
                await pending
        # The pages stored before a stop are searchable too.
        await harvest.sync_index()


async def harvest_library(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    library_code: str,
    *,
    full: bool = False,
    indexer: CatalogueIndexer | None = None,
    progress: Callable[[int], None] | None = None,
) -> HarvestReport:
    """Harvest what changed at a library's repository since its last complete harvest.

    ``full`` harvests everything, and then withdraws what the repository no longer lists.
    A stop part way (``report.error``) keeps the pages stored
    before it, and the next harvest resumes after them. Raises UnknownLibraryError and
    NotConnectedError; ``progress`` gets the number of records fetched so far.
    """
    started = asyncio.get_running_loop().time()
    async with sessionmaker() as session:
        library, source = await source_of(session, library_code)
        codes = await member_codes(session)
    report = HarvestReport(library.code, imported=ImportReport(library.code, source.url))
    claimed = await _claim(sessionmaker, source.id)
    if claimed is None:
        report.error = HarvestError("busy", f"another harvest of {library.code} is running")
        return report
    source = claimed
    next_from = granularity = None
    repository = Repository(source.url, timeout=settings.harvest_timeout_s)
    try:
        try:
            reader = record_reader(source.metadata_prefix, holdings_map(library))
        except (UnsupportedFormatError, HoldingsMapError) as exc:
            raise HarvestError("format", str(exc)) from exc
        identity = await asyncio.to_thread(repository.identify)
        granularity = identity.granularity
        start = _start(source, from_stamp(identity.response_date, granularity), full=full)
        state = ImportState(library.id, report.imported, settings=settings)
        harvest = _Harvest(
            sessionmaker,
            settings,
            library,
            source.id,
            reader,
            codes,
            report,
            state,
            indexer,
            progress,
            pending_from=start.next_from,
        )
        pages = _pages(repository, source, start)
        await _run(harvest, pages)
        if full:
            await harvest.withdraw_unseen()
        report.complete = True
        next_from = start.next_from or None
    except HarvestError as exc:
        report.error = exc
    finally:
        await asyncio.to_thread(repository.close)
    report.seconds = asyncio.get_running_loop().time() - started
    await _finish(sessionmaker, source.id, report, next_from=next_from, granularity=granularity)
    logger.info("harvest %s", report.summary())
    return report


async def harvest_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    indexer: CatalogueIndexer | None = None,
    started_before: datetime | None = None,
) -> list[HarvestReport]:
    """Harvest every connected library in turn; one library's failure stops only its own.

    With ``started_before``, only the libraries whose last harvest started before then.
    """
    query = (
        select(Library.code)
        .join(HarvestSource, HarvestSource.library_id == Library.id)
        .order_by(Library.code)
    )
    if started_before is not None:
        query = query.where(
            or_(
                HarvestSource.last_started_at.is_(None),
                HarvestSource.last_started_at < started_before,
            )
        )
    async with sessionmaker() as session:
        codes = list(await session.scalars(query))
    return [await harvest_library(sessionmaker, settings, code, indexer=indexer) for code in codes]
