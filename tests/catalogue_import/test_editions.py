"""Editions and translations linked by what their records say, and found across languages."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Work
from bot.services.catalogue_import.run import import_catalogue, sync_index
from bot.services.editions import family_of
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.catalogue.builders import datafield, marc_record
from tests.factories import make_library

ENGLISH_008 = b"200101s1997    " + b" " * 20 + b"eng" + b" d"
CHINESE_008 = b"200101s2000    " + b" " * 20 + b"chi" + b" d"


def _record(control: str, fields: list[tuple[str, bytes]], fixed: bytes) -> bytes:
    return marc_record(sorted([("001", control.encode()), ("008", fixed), *fields]))


def _english_original() -> bytes:
    return _record(
        "en-1",
        [
            ("100", datafield(b"1 ", ("a", b"Rowling, J. K."))),
            (
                "245",
                datafield(
                    b"10",
                    ("a", b"Harry Potter and the philosopher's stone /"),
                    ("c", b"J.K. Rowling."),
                ),
            ),
        ],
        ENGLISH_008,
    )


def _chinese_translation() -> bytes:
    return _record(
        "zh-1",
        [
            ("041", datafield(b"1 ", ("a", b"chi"), ("h", b"eng"))),
            ("100", datafield(b"1 ", ("a", b"Rowling, J. K."))),
            (
                "240",
                datafield(
                    b"10", ("a", b"Harry Potter and the philosopher's stone."), ("l", b"Chinese")
                ),
            ),
            ("245", datafield(b"10", ("6", b"880-01"), ("a", b"Hali Bote yu mo fa shi"))),
            ("880", datafield(b"10", ("6", b"245-01"), ("a", "哈利波特与魔法石".encode()))),
        ],
        CHINESE_008,
    )


async def _import(
    sessionmaker: async_sessionmaker[AsyncSession],
    indexer: CatalogueIndexer,
    tmp_path: Path,
    library: str,
    record: bytes,
) -> None:
    path = tmp_path / f"{library}.mrc"
    path.write_bytes(record)
    report = await import_catalogue(sessionmaker, library, path)
    await sync_index(indexer, report.changed_work_ids)


async def test_a_translation_imported_later_is_found_by_its_title_at_the_original(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await make_library(session, code="WEST")
    await session.commit()
    index = CatalogueIndex(tmp_path / "index", refresh_interval=0.0)
    indexer = CatalogueIndexer(AsyncCatalogueIndex(index), sessionmaker)
    try:
        await _import(sessionmaker, indexer, tmp_path, "EAST", _english_original())
        # Before the translation is known, the Chinese title finds nothing at East.
        assert index.search("哈利波特", library_codes=["EAST"]).hits == []
        await _import(sessionmaker, indexer, tmp_path, "WEST", _chinese_translation())
        async with sessionmaker() as fresh:
            works = {w.language: w for w in await fresh.scalars(select(Work))}
            english, chinese = works["eng"], works["chi"]
            assert (
                english.family_key
                == chinese.family_key
                == "harrypotterandthephilosophersstone|rowling"
            )
            assert chinese.other_titles == ["Harry Potter and the philosopher's stone"]
            assert [w.id for w in await family_of(fresh, english)] == [chinese.id]
        # The English edition's document was rewritten with its translation's title, so the
        # Chinese title (and its pinyin) finds the English copy at East.
        for query in ("哈利波特", "哈利波特与魔法石", "halibote"):
            hits = index.search(query, library_codes=["EAST"]).hits
            assert [hit.work_id for hit in hits] == [english.id], query
        # Unscoped, the translation itself comes first for its own title.
        hits = index.search("哈利波特与魔法石").hits
        assert [hit.work_id for hit in hits] == [chinese.id, english.id]
        # And the English title finds the translation, after the original.
        hits = index.search("harry potter philosopher's stone").hits
        assert [hit.work_id for hit in hits] == [english.id, chinese.id]
    finally:
        await indexer.close()


async def test_a_rebuild_links_the_family_too(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    path = tmp_path / "both.mrc"
    path.write_bytes(_english_original() + _chinese_translation())
    await import_catalogue(sessionmaker, "EAST", path)
    index = CatalogueIndex(tmp_path / "index")
    indexer = CatalogueIndexer(AsyncCatalogueIndex(index), sessionmaker)
    try:
        assert await indexer.rebuild() == 2
        async with sessionmaker() as fresh:
            english = await fresh.scalar(select(Work).where(Work.language == "eng"))
        assert english is not None
        assert [hit.work_id for hit in index.search("哈利波特").hits][-1] == english.id
    finally:
        await indexer.close()
