"""The catalogue import service: bad files, re-imports, updates, merges across libraries."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.reading import read_records
from bot.catalogue.records import (
    BibRecord,
    CatalogueFileError,
    CatalogueTooLargeError,
    ReadLimits,
    RecordProblem,
)
from bot.models import AuditLog, CatalogueChange, Item, Library, Work, WorkIsbn
from bot.services.catalogue_import.libraries import UnknownLibraryError
from bot.services.catalogue_import.planning import copy_barcode
from bot.services.catalogue_import.report import ImportReport
from bot.services.catalogue_import.run import import_catalogue, sync_index
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.catalogue.builders import datafield, marc_record
from tests.conftest import shared_data
from tests.factories import make_library

FIXED_008 = b"200101s2019    " + b" " * 20 + b"eng" + b" d"


def marc_book(
    control: str,
    title: str,
    *,
    author: str = "Hunt, Andrew",
    isbn: str | None = None,
    summary: str | None = None,
    holdings: list[tuple[str, str | None]] | None = None,
) -> bytes:
    """A UTF-8 MARC 21 book record."""
    fields = [
        ("001", control.encode()),
        ("008", FIXED_008),
        ("100", datafield(b"1 ", ("a", author.encode()))),
        ("245", datafield(b"10", ("a", title.encode()))),
    ]
    if isbn:
        fields.append(("020", datafield(b"  ", ("a", isbn.encode()))))
    if summary:
        fields.append(("520", datafield(b"  ", ("a", summary.encode()))))
    for code, barcode in holdings or []:
        subfields = [("b", code.encode()), ("h", b"QA76.6")]
        if barcode:
            subfields.append(("p", barcode.encode()))
        fields.append(("852", datafield(b"  ", *subfields)))
    return marc_record(sorted(fields, key=lambda field: field[0]))


async def _counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        works = await session.scalar(select(func.count(Work.id)))
        items = await session.scalar(select(func.count(Item.id)))
        isbns = await session.scalar(select(func.count()).select_from(WorkIsbn))
    return works or 0, items or 0, isbns or 0


async def _fingerprints(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessionmaker() as session:
        rows = await session.execute(select(Work.id, Work.fingerprint))
        return {row.id: row.fingerprint for row in rows}


def _records(path: Path) -> tuple[list[BibRecord], list[RecordProblem]]:
    good: list[BibRecord] = []
    bad: list[RecordProblem] = []
    for item in read_records(path):
        if isinstance(item, BibRecord):
            good.append(item)
        else:
            bad.append(item)
    return good, bad


async def test_every_bad_marc_file_is_imported_or_refused_cleanly(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    folder = shared_data("bad-marc")
    await make_library(session, code="EAST")
    await session.commit()
    refused = imported = 0
    for path in sorted(folder.iterdir()):
        try:
            good, bad = _records(path)
        except CatalogueFileError:
            with pytest.raises(CatalogueFileError):
                await import_catalogue(sessionmaker, "EAST", path)
            refused += 1
            continue
        report = await import_catalogue(sessionmaker, "EAST", path)
        imported += 1
        assert report.records_read == len(good) + len(bad), path.name
        assert report.records_skipped == len(bad), path.name
        outcomes = report.works_created + report.works_updated + report.works_unchanged
        assert outcomes == len(good), path.name
        reported = {(p.record_number, p.reason) for p in report.problems}
        assert {(p.record_number, p.reason) for p in bad} <= reported, path.name
        # Every good record is findable through one of its copies.
        for record in good:
            barcode = copy_barcode("EAST", record, 1)
            work_id = await session.scalar(select(Item.work_id).where(Item.barcode == barcode))
            assert work_id is not None, (path.name, record.record_number)
        await session.commit()  # SQLite: a read transaction holds the write lock
    assert refused >= 3 and imported >= 20


async def test_reimport_changes_nothing(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = shared_data("marc", "loc-books-first1000.marcxml")
    await make_library(session, code="EAST")
    await session.commit()
    first = await import_catalogue(sessionmaker, "east", path)
    assert first.records_read == 1000 and first.records_skipped == 0
    assert first.works_created > 990
    assert first.items_created == 1000
    assert len(first.changed_work_ids) == first.works_created
    before = await _counts(sessionmaker)
    fingerprints = await _fingerprints(sessionmaker)
    assert all(":" in fingerprint for fingerprint in fingerprints.values())

    second = await import_catalogue(sessionmaker, "EAST", path)
    assert (second.works_created, second.works_updated, second.items_created) == (0, 0, 0)
    assert second.works_unchanged == 1000
    assert second.changed_work_ids == []
    assert await _counts(sessionmaker) == before
    assert await _fingerprints(sessionmaker) == fingerprints
    async with sessionmaker() as fresh:
        actions = list(await fresh.scalars(select(AuditLog.action)))
    assert actions == ["catalogue.import", "catalogue.import"]


async def test_an_updated_record_updates_its_work(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    path = tmp_path / "east.mrc"
    path.write_bytes(
        marc_book("rec-1", "The pragmatic programer", summary="First edition.")
        + marc_book("rec-2", "Refactoring", author="Fowler, Martin")
    )
    first = await import_catalogue(sessionmaker, "EAST", path, copies=2)
    assert (first.works_created, first.items_created) == (2, 4)
    work_id = await session.scalar(select(Work.id).where(Work.title == "The pragmatic programer"))
    await session.commit()

    # The library corrects the title (so the work key changes) and the summary.
    path.write_bytes(
        marc_book("rec-1", "The pragmatic programmer", summary="Revised edition.")
        + marc_book("rec-2", "Refactoring", author="Fowler, Martin")
    )
    second = await import_catalogue(sessionmaker, "EAST", path, copies=2)
    assert (second.works_created, second.works_updated, second.works_unchanged) == (0, 1, 1)
    assert second.items_created == 0
    assert second.changed_work_ids == [work_id]
    session.expire_all()
    work = await session.get(Work, work_id)
    await session.commit()
    assert work is not None
    assert (work.title, work.summary) == ("The pragmatic programmer", "Revised edition.")
    assert work.work_key == "pragmaticprogrammer|hunt"
    assert await _counts(sessionmaker) == (2, 4, 0)


async def test_isbn_merges_works_across_libraries(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await make_library(session, code="WEST")
    await session.commit()
    east_file = tmp_path / "east.mrc"
    east_file.write_bytes(
        marc_book("e1", "Hong lou meng", author="Cao, Xueqin", isbn="7-02-000220-X (pbk.)")
    )
    west_file = tmp_path / "west.csv"
    west_file.write_text(
        "title,original_title,authors,isbn,summary,barcode\n"
        "红楼梦,紅樓夢,曹雪芹,978-7-02-000220-7,A novel of the Qing dynasty.,W-0001\n",
        encoding="utf-8",
    )
    east = await import_catalogue(sessionmaker, "EAST", east_file)
    west = await import_catalogue(sessionmaker, "WEST", west_file)
    assert (east.works_created, west.works_created, west.works_updated) == (1, 0, 1)
    assert west.changed_work_ids == east.changed_work_ids
    [work] = list(await session.scalars(select(Work)))
    await session.commit()
    # East's record describes the work; West's fills what East left empty.
    assert (work.title, work.original_title) == ("Hong lou meng", "紅樓夢")
    assert work.summary == "A novel of the Qing dynasty."
    holders = await session.execute(
        select(Library.code, Item.barcode).join(Item.library).order_by(Library.code)
    )
    assert [tuple(row) for row in holders] == [
        ("EAST", copy_barcode("EAST", _records(east_file)[0][0], 1)),
        ("WEST", "W-0001"),
    ]
    assert list(await session.scalars(select(WorkIsbn.isbn))) == ["9787020002207"]
    await session.commit()

    # Neither library's re-import undoes the other's.
    for code, path in (("EAST", east_file), ("WEST", west_file), ("EAST", east_file)):
        again = await import_catalogue(sessionmaker, code, path)
        assert (again.works_updated, again.works_unchanged, again.items_created) == (0, 1, 0)
    indexer = CatalogueIndexer(
        AsyncCatalogueIndex(CatalogueIndex(tmp_path / "index")), sessionmaker
    )
    try:
        assert await sync_index(indexer, east.changed_work_ids) == 1
        for query in ("红楼梦", "hong lou meng", "7-02-000220-X", "9787020002207"):
            hits = (await indexer.index.search(query)).hits
            assert [hit.work_id for hit in hits] == [work.id], query
        result = await indexer.index.search("红楼梦", library_codes=["WEST"])
        assert [hit.work_id for hit in result.hits] == [work.id]
    finally:
        await indexer.close()


async def test_holdings_become_copies_of_the_importing_library(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    east = await make_library(session, code="EAST")
    await make_library(session, code="WEST")
    await session.commit()
    path = tmp_path / "east.mrc"
    path.write_bytes(
        marc_book(
            "h1",
            "Programming pearls",
            author="Bentley, Jon",
            holdings=[("Main stacks", "E-1"), ("Main stacks", None), ("west", "W-9")],
        )
    )
    report = await import_catalogue(sessionmaker, "EAST", path, copies=5)
    assert report.items_created == 2
    [warning] = report.problems
    assert warning.record_number == 1 and "WEST" in warning.reason
    assert report.records_skipped == 0
    rows = await session.execute(select(Item.barcode, Item.library_id, Item.call_number))
    assert sorted(tuple(row) for row in rows) == [
        ("E-1", east.id, "QA76.6"),
        ("EAST-h1-1", east.id, "QA76.6"),
    ]


async def test_unknown_library_and_refused_files(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await make_library(session, code="WEST")
    await session.commit()
    path = tmp_path / "east.mrc"
    path.write_bytes(marc_book("x1", "Anything"))
    with pytest.raises(UnknownLibraryError) as caught:
        await import_catalogue(sessionmaker, "NORTH", path)
    assert caught.value.known == ["EAST", "WEST"]
    assert "known codes: EAST, WEST" in str(caught.value)
    image = tmp_path / "cover.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(CatalogueFileError, match="PNG image"):
        await import_catalogue(sessionmaker, "EAST", image)
    assert await _counts(sessionmaker) == (0, 0, 0)


def test_report_counts_each_good_record_once() -> None:
    report = ImportReport(library_code="EAST", source="x.mrc", records_read=3, works_created=2)
    assert "3 records read" in report.summary()


async def test_missing_terminators_lose_no_record_and_are_reported(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    records = [marc_book(f"rec-{n}", f"Book number {n}") for n in range(1, 501)]
    broken = set(range(7, 500, 50))  # ten records lose their end-of-record byte
    path = tmp_path / "east.mrc"
    path.write_bytes(
        b"".join(record[:-1] if n in broken else record for n, record in enumerate(records))
    )
    report = await import_catalogue(sessionmaker, "EAST", path)
    assert (report.records_read, report.records_skipped) == (500, 0)
    assert (report.works_created, report.items_created) == (500, 500)
    assert [problem.record_number for problem in report.problems] == [n + 1 for n in sorted(broken)]
    assert all("has no end-of-record terminator" in p.reason for p in report.problems)
    assert "10 problem(s)" in report.summary()
    assert await _counts(sessionmaker) == (500, 500, 0)


def _marcxml(records: list[tuple[str, str]]) -> str:
    body = "".join(
        '<record><datafield tag="245" ind1="0" ind2="0">'
        f'<subfield code="a">{title}</subfield></datafield>'
        '<datafield tag="520" ind1=" " ind2=" ">'
        f'<subfield code="a">{summary}</subfield></datafield></record>'
        for title, summary in records
    )
    return f'<collection xmlns="http://www.loc.gov/MARC21/slim">{body}</collection>'


async def test_large_records_make_smaller_batches(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    # 60 records of 200,000 characters each: 12 million, more than one batch may hold.
    path = tmp_path / "long.xml"
    path.write_text(_marcxml([(f"Long {n}", "a" * 200_000) for n in range(60)]), "utf-8")
    report = await import_catalogue(sessionmaker, "EAST", path)
    assert (report.records_read, report.works_created) == (60, 60)
    async with sessionmaker() as fresh:
        changes = select(CatalogueChange.work_ids).order_by(CatalogueChange.id)
        batches = list(await fresh.scalars(changes))
    assert [len(work_ids) for work_ids in batches] == [42, 18]


async def test_a_compressed_bomb_is_refused_and_nothing_is_stored(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    path = tmp_path / "bomb.xml.gz"
    head = _marcxml([]).removesuffix("</collection>") + '<record><datafield tag="245">'
    with gzip.open(path, "wb", compresslevel=1) as packed:
        packed.write(head.encode() + b'<subfield code="a">')
        block = b"a" * (1024 * 1024)
        for _ in range(32):
            packed.write(block)
    with pytest.raises(CatalogueTooLargeError) as refused:
        await import_catalogue(sessionmaker, "EAST", path, read_limits=ReadLimits(field=4096))
    assert (refused.value.bound, refused.value.limit) == ("field", 4096)
    assert await _counts(sessionmaker) == (0, 0, 0)
    async with sessionmaker() as fresh:
        assert list(await fresh.scalars(select(AuditLog.action))) == []
