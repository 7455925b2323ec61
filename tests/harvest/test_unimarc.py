"""Harvest UNIMARC and CNMARC from pyoai's repository: pages, a change, a deletion, the
library's holdings mapping, bad records, and one work with copies from both formats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.marcxml import read_unimarc_xml
from bot.catalogue.records import BibRecord, RecordProblem
from bot.config import Settings
from bot.models import HarvestRecord, HarvestSource, Item, ItemStatus, Library, Work, WorkIsbn
from bot.services.catalogue_import.libraries import set_holdings_map
from bot.services.harvest.formats import record_reader
from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect
from bot.services.indexing import CatalogueIndexer
from tests.conftest import shared_data
from tests.factories import make_library
from tests.harvest.conftest import BATCH, RECORDS
from tests.harvest.repository import TestRepository
from tests.harvest.test_bad_input import BILLION_LAUGHS, EXTERNAL_ENTITY
from tests.harvest.unimarc import (
    LIBRARY,
    chinese_records,
    original_retitled,
    processing_data,
    unimarc_record,
)


@pytest.fixture(scope="session")
def chinese() -> list[bytes]:
    """The first Chinese LoC records with an ISBN, as MARCXML."""
    return chinese_records(shared_data("marc", "loc-books-chinese-8030.mrc"), RECORDS)


@pytest.fixture
def cn_repository(chinese: list[bytes]) -> Iterator[TestRepository]:
    """pyoai's server with the Chinese records, BATCH a page, on 127.0.0.1."""
    repo = TestRepository(batch_size=BATCH).start()
    repo.load(chinese)
    try:
        yield repo
    finally:
        repo.stop()


async def _connect(
    session: AsyncSession, repository: TestRepository, code: str, prefix: str
) -> Library:
    library = await make_library(session, code=code)
    await session.commit()
    await connect(session, code, repository.url, prefix=prefix)
    return library


async def _barcodes(session: AsyncSession, library: Library) -> set[str]:
    await session.commit()
    rows = await session.scalars(select(Item.barcode).where(Item.library_id == library.id))
    return set(rows)


async def test_unimarc_harvest_pages_then_fetches_only_the_change_and_the_deletion(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    cn_repository: TestRepository,
    indexer: CatalogueIndexer,
) -> None:
    cnlib = await _connect(session, cn_repository, LIBRARY, "unimarc")
    report = await harvest_library(sessionmaker, harvest_settings, LIBRARY, indexer=indexer)
    assert report.error is None and report.complete, report.summary()
    assert (report.records, report.deleted, report.skipped, report.pages) == (RECORDS, 0, 0, 3)
    asked = [r for r in cn_repository.requests if r.get("verb") == "ListRecords"]
    assert asked[0]["metadataPrefix"] == "unimarc"
    assert len([r for r in asked if "resumptionToken" in r]) == 2
    identifiers = sorted(cn_repository.catalogue.entries)
    # Every copy came from its record's 905: the barcode in $b, the class number as call number.
    controls = [identifier.rsplit(":", 1)[1] for identifier in identifiers]
    assert await _barcodes(session, cnlib) == {f"{LIBRARY}-{c}" for c in controls}
    finance = await session.scalar(select(Work).where(Work.title == "國際公司理財"))
    assert finance is not None and finance.clc_numbers == ["F"]
    assert "International finance" in finance.variant_titles
    copy = await session.scalar(select(Item).where(Item.work_id == finance.id))
    assert copy is not None and copy.call_number == "F"

    changed_id, deleted_id = identifiers[3], identifiers[7]
    old = cn_repository.catalogue.entries[changed_id].payload
    assert old is not None
    cn_repository.catalogue.change(changed_id, original_retitled(old, "明代政治制度新编"))
    cn_repository.catalogue.delete(deleted_id)
    cn_repository.requests.clear()
    await asyncio.sleep(1.1)  # datestamps have seconds

    report = await harvest_library(sessionmaker, harvest_settings, LIBRARY, indexer=indexer)
    assert report.error is None
    assert (report.records, report.deleted, report.pages) == (1, 1, 1)
    [listed] = [r for r in cn_repository.requests if r.get("verb") == "ListRecords"]
    assert listed.get("from") and listed["metadataPrefix"] == "unimarc"
    barcodes = await _barcodes(session, cnlib)
    assert len(barcodes) == RECORDS - 1
    assert f"{LIBRARY}-{deleted_id.rsplit(':', 1)[1]}" not in barcodes
    retitled = await session.scalar(select(Work).where(Work.title == "明代政治制度新编"))
    assert retitled is not None
    found = await indexer.index.search("明代政治制度新编", library_codes=[LIBRARY])
    assert retitled.id in [hit.work_id for hit in found.hits]


async def test_a_work_has_copies_from_a_marc21_and_a_cnmarc_library(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    cn_repository: TestRepository,
) -> None:
    east = await _connect(session, cn_repository, "EAST", "marc21")
    cnlib = await _connect(session, cn_repository, LIBRARY, "cnmarc")
    for code in ("EAST", LIBRARY):
        report = await harvest_library(sessionmaker, harvest_settings, code)
        assert report.error is None and report.records == RECORDS, report.summary()
    assert len(await _barcodes(session, east)) == RECORDS
    assert len(await _barcodes(session, cnlib)) == RECORDS
    # One work per book: the CNMARC copy joined the MARC 21 work by its ISBN.
    assert await session.scalar(select(func.count(Work.id))) == RECORDS
    per_work = await session.execute(
        select(Item.work_id, func.count(func.distinct(Item.library_id))).group_by(Item.work_id)
    )
    assert {libraries for _work, libraries in per_work} == {2}
    # The MARC 21 record's romanised title stays; the CNMARC one's class is added.
    work = await session.scalar(select(Work).join(WorkIsbn).where(WorkIsbn.isbn == "9789575316396"))
    assert work is not None and "F" in work.clc_numbers


def _bad_record(control: str, fields: list[tuple[str, list[tuple[str, str]]]]) -> bytes:
    return unimarc_record(control, [("100", [("a", processing_data("2001", "50  "))]), *fields])


async def test_bad_unimarc_records_are_reported_with_their_identifier_and_the_rest_lands(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    cn_repository: TestRepository,
) -> None:
    cnlib = await _connect(session, cn_repository, LIBRARY, "cnmarc")
    # UTF-8 read as Latin-1 on the way ("红楼梦" become "çº¢æ¥¼æ¢¦"); a record without 200.
    garbled = "红楼梦".encode().decode("latin-1")
    cn_repository.catalogue.add(
        "oai:test:00049913-bad", _bad_record("B1", [("200", [("a", garbled)])])
    )
    cn_repository.catalogue.add(
        "oai:test:00049915-bad",
        _bad_record("B2", [("010", [("a", "9787020002207")]), ("210", [("c", "中华书局")])]),
    )
    report = await harvest_library(sessionmaker, harvest_settings, LIBRARY)
    assert report.error is None and report.complete
    assert (report.records, report.skipped) == (RECORDS + 2, 2)
    reasons = [problem.reason for problem in report.imported.problems]
    assert "oai:test:00049913-bad: field 200: the text is garbled (mojibake)" in reasons
    assert "oai:test:00049915-bad: no title (200 $a)" in reasons
    assert len(await _barcodes(session, cnlib)) == RECORDS
    source = await session.scalar(select(HarvestSource))
    assert source is not None and source.records_skipped == 2
    # Nothing was remembered of them: fixed later, they land then.
    rows = await session.scalar(
        select(func.count(HarvestRecord.id)).where(HarvestRecord.identifier.endswith("-bad"))
    )
    assert rows == 0


async def test_the_library_s_holdings_mapping_reads_harvested_holdings(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    cn_repository: TestRepository,
) -> None:
    cnlib = await _connect(session, cn_repository, LIBRARY, "cnmarc")
    await set_holdings_map(session, LIBRARY, "906 barcode=f call=kd status=s")
    cn_repository.catalogue.entries.clear()
    holdings = [("a", LIBRARY), ("b", "not-this"), ("f", "T-0001"), ("k", "I247"), ("d", "5")]
    cn_repository.catalogue.add(
        "oai:test:mapped",
        _bad_record(
            "M1",
            [("200", [("a", "活着")]), ("906", [*holdings, ("s", "丢失")])],
        ),
    )
    report = await harvest_library(sessionmaker, harvest_settings, LIBRARY)
    assert report.error is None and report.records == 1 and report.skipped == 0
    assert await _barcodes(session, cnlib) == {"T-0001"}
    item = await session.scalar(select(Item).where(Item.barcode == "T-0001"))
    assert item is not None and item.call_number == "I247/5"
    assert item.status is ItemStatus.MISSING


def test_the_record_readers_refuse_a_dtd_before_expanding_anything() -> None:
    for prefix in ("unimarc", "cnmarc", "marc21"):
        read = record_reader(prefix)
        for body in (BILLION_LAUGHS, EXTERNAL_ENTITY):
            started = time.monotonic()
            result = read(body, 7)
            assert isinstance(result, RecordProblem) and result.record_number == 7
            assert "declares a DTD" in result.reason
            assert time.monotonic() - started < 1.0
    plain = unimarc_record("P1", [("200", [("a", "三体")])])
    assert isinstance(read_unimarc_xml(plain, 1), BibRecord)
