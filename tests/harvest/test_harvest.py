"""Harvest from pyoai's repository over HTTP: pages, changes, deletions, withdrawn copies."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import (
    HarvestRecord,
    HarvestSource,
    Hold,
    HoldStatus,
    Item,
    Notification,
    Work,
    utcnow,
)
from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect, list_sources
from bot.services.holds.placing import place_hold
from bot.services.indexing import CatalogueIndexer
from tests.factories import make_library, make_reader
from tests.harvest.conftest import BATCH, RECORDS
from tests.harvest.repository import TestRepository, retitled


async def _items(session: AsyncSession) -> int:
    await session.commit()
    return await session.scalar(select(func.count(Item.id))) or 0


async def _source(session: AsyncSession) -> HarvestSource:
    await session.commit()
    source = await session.scalar(select(HarvestSource))
    assert source is not None
    await session.refresh(source)
    return source


async def _connected(session: AsyncSession, repository: TestRepository, **kw: str) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    await connect(session, "EAST", repository.url, **kw)


async def test_first_harvest_follows_resumption_tokens_into_the_catalogue_and_index(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
    loc_records: list[bytes],
    indexer: CatalogueIndexer,
) -> None:
    await _connected(session, repository)
    seen: list[int] = []
    report = await harvest_library(
        sessionmaker, harvest_settings, "east", indexer=indexer, progress=seen.append
    )
    assert report.error is None and report.complete
    assert report.records == RECORDS and report.deleted == 0
    assert report.pages == 3  # 10 + 10 + 5
    assert seen == [BATCH, 2 * BATCH, RECORDS]
    tokens = [r for r in repository.requests if "resumptionToken" in r]
    assert len(tokens) == 2
    assert await _items(session) == RECORDS
    assert await session.scalar(select(func.count(HarvestRecord.id))) == RECORDS
    source = await _source(session)
    assert source.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert source.harvested_from is not None and source.harvested_from.endswith("Z")
    assert source.resume_token is None and source.last_error is None
    assert source.records_harvested == RECORDS
    # The index was updated page by page: a harvested title is found, held at EAST.
    work = await session.scalar(select(Work).order_by(Work.id).limit(1))
    assert work is not None
    found = await indexer.index.search(work.title, library_codes=["EAST"])
    assert work.id in [hit.work_id for hit in found.hits]
    # The console's view.
    [view] = await list_sources(session)
    assert (view.library_code, view.records_harvested, view.error) == ("EAST", RECORDS, None)


async def test_second_harvest_fetches_only_the_change_and_the_deletion(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
    loc_records: list[bytes],
    indexer: CatalogueIndexer,
) -> None:
    await _connected(session, repository)
    identifiers = sorted(repository.catalogue.entries)
    await harvest_library(sessionmaker, harvest_settings, "EAST", indexer=indexer)
    changed_id, deleted_id = identifiers[3], identifiers[7]
    old = repository.catalogue.entries[changed_id].payload
    assert old is not None
    row = await session.scalar(select(HarvestRecord).where(HarvestRecord.identifier == deleted_id))
    assert row is not None and len(row.barcodes) == 1
    deleted_work = await session.scalar(select(Item.work_id).where(Item.barcode == row.barcodes[0]))
    assert deleted_work is not None
    repository.catalogue.change(changed_id, retitled(old, "A harvested new title"))
    repository.catalogue.delete(deleted_id)
    repository.requests.clear()
    # Datestamps have seconds: the next harvest's own `from` is then later than both.
    await asyncio.sleep(1.1)

    report = await harvest_library(sessionmaker, harvest_settings, "EAST", indexer=indexer)
    assert report.error is None
    assert (report.records, report.deleted, report.pages) == (1, 1, 1)
    assert repository.requests[-1].get("from")  # an incremental ListRecords
    assert await _items(session) == RECORDS - 1
    retitled_work = await session.scalar(
        select(Work).where(Work.title.startswith("A harvested new title"))
    )
    assert retitled_work is not None
    found = await indexer.index.search("harvested new title", library_codes=["EAST"])
    assert retitled_work.id in [hit.work_id for hit in found.hits]
    # The deleted record's copy left the catalogue and the index (its work stays, held nowhere).
    deleted = await session.get(Work, deleted_work)
    assert deleted is not None
    found = await indexer.index.search(deleted.title, library_codes=["EAST"])
    assert deleted_work not in [hit.work_id for hit in found.hits]

    # A third harvest with nothing new: noRecordsMatch is simply nothing to do.
    repository.requests.clear()
    report = await harvest_library(sessionmaker, harvest_settings, "EAST", indexer=indexer)
    assert report.error is None and report.complete
    assert (report.records, report.deleted, report.pages) == (0, 0, 0)
    assert "noRecordsMatch" in repository.answer(repository.requests[-1]).decode()
    assert await _items(session) == RECORDS - 1


async def test_a_hold_on_a_withdrawn_copy_follows_the_holds_rules(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _connected(session, repository)
    await harvest_library(sessionmaker, harvest_settings, "EAST")
    identifier = sorted(repository.catalogue.entries)[0]
    row = await session.scalar(select(HarvestRecord).where(HarvestRecord.identifier == identifier))
    assert row is not None
    item = await session.scalar(select(Item).where(Item.barcode == row.barcodes[0]))
    assert item is not None
    reader = await make_reader(session)
    await session.commit()
    placement = await place_hold(
        session, reader, item.work_id, item.library_id, settings=harvest_settings
    )
    hold_id = placement.hold.id
    await session.commit()

    repository.catalogue.delete(identifier)
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.deleted == 1 and report.error is None
    await session.commit()
    hold = await session.get(Hold, hold_id, populate_existing=True)
    assert hold is not None
    # It was the work's only copy: the library cancels the hold and the reader is told.
    assert hold.status is HoldStatus.CANCELLED and hold.item_id is None
    kinds = list(
        await session.scalars(select(Notification.kind).where(Notification.reader_id == reader.id))
    )
    assert "hold.cancelled" in kinds


async def test_a_later_record_brings_a_withdrawn_copy_back(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _connected(session, repository)
    await harvest_library(sessionmaker, harvest_settings, "EAST")
    identifier = sorted(repository.catalogue.entries)[2]
    payload = repository.catalogue.entries[identifier].payload
    assert payload is not None
    repository.catalogue.delete(identifier)
    await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert await _items(session) == RECORDS - 1
    repository.catalogue.change(identifier, payload)
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.records == 1
    assert await _items(session) == RECORDS


async def test_two_harvests_of_one_library_at_once_run_one_after_the_other(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _connected(session, repository)
    first, second = await asyncio.gather(
        harvest_library(sessionmaker, harvest_settings, "EAST"),
        harvest_library(sessionmaker, harvest_settings, "EAST"),
    )
    # Either the second found the first running, or (SQLite may let the first writer keep the
    # lock) it came after the first had finished: then it had nothing left to fetch.
    outcomes = sorted((r.error.kind if r.error else "", r.records) for r in (first, second))
    assert outcomes in ([("", 0), ("", RECORDS)], [("", RECORDS), ("busy", 0)])
    assert await _items(session) == RECORDS
    source = await _source(session)
    assert source.claimed_until is None and source.last_error is None
    # Once it is done, the library can be harvested again.
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is None


async def test_a_ready_hold_on_a_withdrawn_copy_takes_another_library_s_copy(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _connected(session, repository)
    await harvest_library(sessionmaker, harvest_settings, "EAST")
    identifier = sorted(repository.catalogue.entries)[1]
    row = await session.scalar(select(HarvestRecord).where(HarvestRecord.identifier == identifier))
    assert row is not None
    east_copy = await session.scalar(select(Item).where(Item.barcode == row.barcodes[0]))
    assert east_copy is not None
    west = await make_library(session, code="WEST")
    session.add(Item(work_id=east_copy.work_id, library_id=west.id, barcode="WEST-1"))
    reader = await make_reader(session)
    await session.commit()
    placement = await place_hold(
        session, reader, east_copy.work_id, east_copy.library_id, settings=harvest_settings
    )
    hold_id = placement.hold.id
    assert placement.hold.status is HoldStatus.READY  # the copy on EAST's shelf
    await session.commit()

    repository.catalogue.delete(identifier)
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.deleted == 1
    await session.commit()
    hold = await session.get(Hold, hold_id, populate_existing=True)
    assert hold is not None and hold.status is HoldStatus.IN_TRANSIT
    west_copy = await session.scalar(select(Item).where(Item.barcode == "WEST-1"))
    assert west_copy is not None and hold.item_id == west_copy.id
    assert await session.get(Item, east_copy.id, populate_existing=True) is None


async def test_a_full_harvest_withdraws_what_the_repository_no_longer_lists(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _connected(session, repository)
    await harvest_library(sessionmaker, harvest_settings, "EAST")
    # A repository that keeps no trace of deletions: the record is simply gone.
    del repository.catalogue.entries[sorted(repository.catalogue.entries)[4]]
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.deleted == 0 and await _items(session) == RECORDS  # incremental: unseen
    report = await harvest_library(sessionmaker, harvest_settings, "EAST", full=True)
    assert report.error is None
    assert (report.records, report.deleted) == (RECORDS - 1, 1)
    assert await _items(session) == RECORDS - 1
    report = await harvest_library(sessionmaker, harvest_settings, "EAST", full=True)
    assert report.deleted == 0 and await _items(session) == RECORDS - 1


async def test_a_running_harvest_s_lease_keeps_others_out_until_it_expires(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    repository: TestRepository,
) -> None:
    await _connected(session, repository)
    source = await _source(session)
    source.claimed_until = utcnow() + timedelta(minutes=5)
    await session.commit()
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is not None and report.error.kind == "busy"
    assert "another harvest of EAST is running" in str(report.error)
    assert repository.requests == [] and await _items(session) == 0
    source = await _source(session)
    assert source.last_error is None  # not the repository's fault
    source.claimed_until = utcnow() - timedelta(seconds=1)  # its process died long ago
    await session.commit()
    report = await harvest_library(sessionmaker, harvest_settings, "EAST")
    assert report.error is None and await _items(session) == RECORDS
