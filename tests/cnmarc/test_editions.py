"""CNMARC translations join the work they translate: 500 uniform title and 454 "translation
of" (embedded fields or standard subfields), and the original author's name in Latin script."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.fields import DataField, Fields
from bot.catalogue.records import BibRecord
from bot.catalogue.unimarc_fields import unimarc_record
from bot.models import Work
from bot.services.catalogue_import.run import import_catalogue, sync_index
from bot.services.editions import family_of
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.catalogue.builders import datafield, marc_record
from tests.cnmarc.records import UTF8_SETS, Field, isbn13, iso2709, processing_data
from tests.factories import make_library

ORIGINAL = "Harry Potter and the philosopher's stone"
FAMILY = "harrypotterandthephilosophersstone|rowling"
ENGLISH_008 = b"200101s1997    " + b" " * 20 + b"eng" + b" d"


def _english_original() -> bytes:
    """The Library of Congress record of the original (MARC 21)."""
    return marc_record(
        [
            ("001", b"loc-hp1"),
            ("008", ENGLISH_008),
            ("100", datafield(b"1 ", ("a", b"Rowling, J. K."))),
            ("245", datafield(b"10", ("a", f"{ORIGINAL} /".encode()), ("c", b"J.K. Rowling."))),
        ]
    )


def _chinese(control: str, isbn: str, title: str, publisher: str, extra: list[Field]) -> bytes:
    fields: list[Field] = [
        ("001", "", [("", control)]),
        ("010", "  ", [("a", isbn), ("d", "CNY19.50")]),
        ("100", "  ", [("a", processing_data("2000", UTF8_SETS))]),
        # Indicator 1: a translation; $c the language of the original.
        ("101", "1 ", [("a", "chi"), ("c", "eng")]),
        ("200", "1 ", [("a", title), ("f", "(英)J.K.罗琳著"), ("g", "苏农译")]),
        ("210", "  ", [("a", "北京"), ("c", publisher), ("d", "2000")]),
        ("690", "  ", [("a", "I561.84"), ("v", "5")]),
        *extra,
    ]
    return iso2709(sorted(fields, key=lambda field: field[0]), "utf-8")


def _translation_with_454() -> bytes:
    """The 2000 People's Literature translation: 454 with embedded 200 and 700 fields."""
    link = ("454", " 1", [("1", "2001 "), ("a", ORIGINAL), ("1", "700 1"), ("a", "Rowling")])
    link[2].append(("b", "J. K."))
    names: list[Field] = [
        ("701", " 0", [("c", "(英)"), ("a", "罗琳"), ("4", "著")]),
        ("702", " 0", [("a", "苏农"), ("4", "译")]),
    ]
    return _chinese(
        "CN-HP-1", isbn13("978702003343"), "哈利·波特与魔法石", "人民文学出版社", [link, *names]
    )


def _translation_with_500() -> bytes:
    """A traditional-script edition: 500 uniform title, the author's Latin form in 701 $g."""
    names: list[Field] = [
        ("500", "10", [("a", ORIGINAL), ("m", "Chinese")]),
        ("701", " 0", [("a", "羅琳"), ("g", "(Rowling, J. K.)"), ("4", "著")]),
    ]
    return _chinese("TW-HP-1", isbn13("978957333057"), "哈利波特：神秘的魔法石", "皇冠文化", names)


async def test_cnmarc_translations_join_the_original_and_are_found_by_its_title(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="LOC")
    await make_library(session, code="CNLIB")
    await session.commit()
    index = CatalogueIndex(tmp_path / "index", refresh_interval=0.0)
    indexer = CatalogueIndexer(AsyncCatalogueIndex(index), sessionmaker)
    try:
        for library, name, data in (
            ("LOC", "loc.mrc", _english_original()),
            ("CNLIB", "cn.mrc", _translation_with_454() + _translation_with_500()),
        ):
            (tmp_path / name).write_bytes(data)
            report = await import_catalogue(sessionmaker, library, tmp_path / name)
            assert report.problems == []
            await sync_index(indexer, report.changed_work_ids)
        async with sessionmaker() as fresh:
            works = list(await fresh.scalars(select(Work).order_by(Work.id)))
            assert [w.title for w in works] == [
                ORIGINAL,
                "哈利·波特与魔法石",
                "哈利波特：神秘的魔法石",
            ]
            english, simplified, traditional = works
            assert {w.family_key for w in works} == {FAMILY}
            assert simplified.other_titles == traditional.other_titles == [ORIGINAL]
            # The original's card lists both translations, oldest record first.
            family = await family_of(fresh, english)
            assert [w.id for w in family] == [simplified.id, traditional.id]
        # The original title finds the original first, then its translations.
        hits = [hit.work_id for hit in index.search("harry potter philosopher's stone").hits]
        assert hits[0] == english.id
        assert sorted(hits[1:]) == [simplified.id, traditional.id]
        # Only the translations are held in CNLIB: the English title finds them there.
        hits = [hit.work_id for hit in index.search(ORIGINAL, library_codes=["CNLIB"]).hits]
        assert sorted(hits) == sorted([simplified.id, traditional.id])
        # And a Chinese title finds the English edition at the Library of Congress.
        hits = [hit.work_id for hit in index.search("哈利波特", library_codes=["LOC"]).hits]
        assert hits == [english.id]
    finally:
        await indexer.close()


def _read(*data: DataField) -> BibRecord:
    fields = Fields(tags={f.tag for f in data} | {"001"}, control={"001": "x"}, data=list(data))
    record = unimarc_record(1, fields)
    assert isinstance(record, BibRecord)
    return record


def test_standard_subfields_and_the_other_linking_fields() -> None:
    record = _read(
        DataField("200", " ", [("a", "Le petit prince")]),
        DataField("454", "1", [("t", "Der kleine Prinz"), ("a", "Saint-Exupéry, Antoine de")]),
        DataField("451", "1", [("1", "2001 "), ("a", "Le petit prince : édition de poche")]),
        DataField("453", "1", [("t", "The little prince")]),
        DataField("532", " ", [("a", "Petit prince")]),
        DataField("510", "1", [("a", "The little prince")]),
        DataField("700", "1", [("a", "Saint-Exupéry"), ("b", "Antoine de")]),
    )
    assert record.uniform_title == "Der kleine Prinz"
    assert record.uniform_author == "Saint-Exupéry, Antoine de"
    # The 453 title is the record's parallel title (510), a variant title already.
    assert record.other_titles == (
        "Der kleine Prinz",
        "Le petit prince : édition de poche",
        "Petit prince",
    )


def test_a_record_that_names_no_original_keys_under_its_own_author() -> None:
    record = _read(
        DataField("200", "1", [("a", "红楼梦")]),
        DataField("701", "0", [("a", "曹雪芹"), ("g", "(Cao, Xueqin)")]),
    )
    assert record.uniform_title is None and record.uniform_author is None
    assert record.other_titles == ()
