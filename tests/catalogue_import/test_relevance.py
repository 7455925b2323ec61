"""Known-item search over real Library of Congress records imported through the service."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import isbnlib
import pytest
from opencc import OpenCC
from sqlalchemy import func, select

from bot.catalogue.reading import read_records
from bot.catalogue.records import BibRecord
from bot.db import create_engine, create_sessionmaker
from bot.models import Item, Work
from bot.services.catalogue_import.planning import copy_barcode
from bot.services.catalogue_import.report import ImportReport
from bot.services.catalogue_import.run import import_catalogue, sync_index
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.conftest import DatabaseFactory, shared_data
from tests.factories import make_library

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

LIBRARY = "LOC"
SEED = 20_261_122
SAMPLE_PER_LANGUAGE = 150
MIN_SUCCESS_AT_3 = 0.95
MIN_KIND_SUCCESS_AT_3 = 0.90
MIN_QUERIES = {
    "title words": 100,
    "surname + title word": 80,
    "ISBN-13": 80,
    "ISBN-10": 80,
    "original title": 100,
    "simplified for traditional": 30,
    "pinyin": 60,
}
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class LocCatalogue:
    """The imported catalogue: reports, index folder, records and where each one landed."""

    reports: list[ImportReport]
    index_dir: Path
    english: list[BibRecord]
    chinese: list[BibRecord]
    work_of_barcode: dict[str, int]
    works: int

    def work_of(self, record: BibRecord) -> int:
        return self.work_of_barcode[copy_barcode(LIBRARY, record, 1)]


def _good(path: Path) -> list[BibRecord]:
    return [item for item in read_records(path) if isinstance(item, BibRecord)]


async def _import(
    url: str, index_dir: Path, paths: list[Path]
) -> tuple[list[ImportReport], dict[str, int], int]:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    indexer = CatalogueIndexer(AsyncCatalogueIndex(CatalogueIndex(index_dir)), sessionmaker)
    try:
        async with sessionmaker() as session:
            await make_library(session, code=LIBRARY)
            await session.commit()
        reports = [await import_catalogue(sessionmaker, LIBRARY, path) for path in paths]
        for report in reports:
            await sync_index(indexer, report.changed_work_ids)
        async with sessionmaker() as session:
            rows = await session.execute(select(Item.barcode, Item.work_id))
            barcodes = {row.barcode: row.work_id for row in rows}
            works = await session.scalar(select(func.count(Work.id))) or 0
        return reports, barcodes, works
    finally:
        await indexer.close()
        await engine.dispose()


@pytest.fixture(scope="module")
def loc_catalogue(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocCatalogue]:
    english = shared_data("marc", "loc-books-first1000.marcxml")
    chinese = shared_data("marc", "loc-books-chinese-8030.mrc")
    url = database_factory.new()
    index_dir = tmp_path_factory.mktemp("loc") / "index"
    try:
        reports, barcodes, works = asyncio.run(_import(url, index_dir, [english, chinese]))
        yield LocCatalogue(reports, index_dir, _good(english), _good(chinese), barcodes, works)
    finally:
        database_factory.drop(url)


@dataclass(frozen=True)
class KnownItem:
    kind: str
    query: str
    work_id: int


def _main_title(title: str) -> str:
    return re.split(r"\s[:/=;]\s", title, maxsplit=1)[0]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def known_items(catalogue: LocCatalogue) -> list[KnownItem]:
    """What a reader after one particular record might type, for a fixed sample of records."""
    rng = random.Random(SEED)
    t2s = OpenCC("t2s")
    items: list[KnownItem] = []
    english = rng.sample(catalogue.english, SAMPLE_PER_LANGUAGE)
    chinese = rng.sample(catalogue.chinese, SAMPLE_PER_LANGUAGE)
    for record in english:
        work_id = catalogue.work_of(record)
        words = _words(_main_title(record.title))
        items.append(KnownItem("title words", " ".join(words[:6]), work_id))
        long_words = [word for word in words if len(word) >= 4]
        if record.authors and long_words:
            surname = record.authors[0].split(",")[0]
            query = f"{surname} {max(long_words, key=len)}"
            items.append(KnownItem("surname + title word", query, work_id))
    for record in english + chinese:
        isbn = next((i for i in record.isbns if i.startswith("978")), None)
        if isbn is not None:
            work_id = catalogue.work_of(record)
            items.append(KnownItem("ISBN-13", isbn, work_id))
            items.append(KnownItem("ISBN-10", isbnlib.mask(isbnlib.to_isbn10(isbn)), work_id))
    for record in chinese:
        if not record.original_title:
            continue
        work_id = catalogue.work_of(record)
        original = _main_title(record.original_title)
        items.append(KnownItem("original title", original, work_id))
        simplified = t2s.convert(original)
        if simplified != original:
            items.append(KnownItem("simplified for traditional", simplified, work_id))
        letters = [word for word in _words(_main_title(record.title)) if word.isalpha()]
        if 2 <= len(_HAN.findall(original)) <= 8 and letters:
            items.append(KnownItem("pinyin", "".join(letters).lower(), work_id))
    return items


def test_everything_imported_and_indexed(loc_catalogue: LocCatalogue) -> None:
    english, chinese = loc_catalogue.reports
    assert english.records_read == 1000 and english.records_skipped == 0
    assert chinese.records_read == 8030 and chinese.records_skipped == 0
    assert english.items_created + chinese.items_created == 9030
    index = CatalogueIndex(loc_catalogue.index_dir)
    try:
        assert index.doc_count() == loc_catalogue.works
    finally:
        index.close()
    with_original = [record for record in loc_catalogue.chinese if record.original_title]
    assert len(with_original) > 7000  # the 880 fields were read


def test_known_item_success_at_3(loc_catalogue: LocCatalogue) -> None:
    outcomes: dict[str, list[bool]] = {kind: [] for kind in MIN_QUERIES}
    misses: list[str] = []
    index = CatalogueIndex(loc_catalogue.index_dir)
    try:
        for item in known_items(loc_catalogue):
            top3 = [hit.work_id for hit in index.search(item.query, limit=3).hits]
            outcomes[item.kind].append(item.work_id in top3)
            if item.work_id not in top3:
                misses.append(f"{item.kind}: {item.query!r} -> {top3} (wanted {item.work_id})")
    finally:
        index.close()
    every = [hit for hits in outcomes.values() for hit in hits]
    rates = {kind: sum(hits) / len(hits) for kind, hits in outcomes.items() if hits}
    print(
        "\nsuccess@3:", ", ".join(f"{k} {v:.3f} (n={len(outcomes[k])})" for k, v in rates.items())
    )
    report = "\n".join(misses)
    assert sum(every) / len(every) >= MIN_SUCCESS_AT_3, report
    for kind, minimum in MIN_QUERIES.items():
        assert len(outcomes[kind]) >= minimum, f"too few {kind} queries: {len(outcomes[kind])}"
        assert rates[kind] >= MIN_KIND_SUCCESS_AT_3, f"{kind}: {rates[kind]:.3f}\n{report}"


# Conventional collective uniform titles ("Works. Selections", "Essays"): they name a kind
# of publication, not one work a reader would look for.
COLLECTIVE_TITLES = frozenset(
    {"works", "selections", "essays", "poems", "correspondence", "laws, etc", "short stories"}
    | {"novels", "speeches", "plays", "prose works", "letters", "stories", "selection"}
    | {"treaties, etc", "novels and tales"}
)
MIN_TRANSLATED_QUERIES = 100


def translated_titles(catalogue: LocCatalogue) -> list[KnownItem]:
    """The title of the work a record translates (its 240, 130, 765 or 500 note) as typed.

    Only records whose uniform title is not their own title and not a collective title.
    """
    items: list[KnownItem] = []
    for record in catalogue.english + catalogue.chinese:
        uniform = record.uniform_title
        if not uniform or uniform.split(".")[0].strip().lower() in COLLECTIVE_TITLES:
            continue
        if _words(uniform.lower()) == _words(_main_title(record.title).lower()):
            continue
        items.append(
            KnownItem("translated title", " ".join(_words(uniform)[:6]), catalogue.work_of(record))
        )
    return items


def test_translated_title_success_at_3(loc_catalogue: LocCatalogue) -> None:
    items = translated_titles(loc_catalogue)
    misses: list[str] = []
    index = CatalogueIndex(loc_catalogue.index_dir)
    try:
        for item in items:
            top3 = [hit.work_id for hit in index.search(item.query, limit=3).hits]
            if item.work_id not in top3:
                misses.append(f"{item.query!r} -> {top3} (wanted {item.work_id})")
    finally:
        index.close()
    rate = 1 - len(misses) / len(items)
    print(f"\ntranslated titles: success@3 {rate:.3f} (n={len(items)})")
    assert len(items) >= MIN_TRANSLATED_QUERIES, f"too few queries: {len(items)}"
    assert rate >= MIN_SUCCESS_AT_3, "\n".join(misses)
