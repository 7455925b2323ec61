"""Importing CNMARC files: good records land, bad ones are reported, re-imports change nothing,
and one work gathers the copies of MARC 21 and CNMARC libraries."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import CatalogueChange, Item, Library, Work, WorkIsbn
from bot.services.catalogue_import.run import import_catalogue
from tests.catalogue.builders import FIXED_008, datafield, marc_record
from tests.cnmarc.records import FIXTURES, THREE_BODY
from tests.factories import make_library

FILES = ("cnmarc-utf8.mrc", "cnmarc-gbk.mrc", "cnmarc-broken.mrc", "unimarc.xml")


async def _count(session: AsyncSession, model: type[Work] | type[Item]) -> int:
    return await session.scalar(select(func.count(model.id))) or 0


async def test_good_records_land_bad_ones_are_reported_and_reimports_change_nothing(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_library(session, code="CNLIB")
    await session.commit()
    reports = {
        name: await import_catalogue(sessionmaker, "CNLIB", FIXTURES / name) for name in FILES
    }
    assert {name: r.works_created for name, r in reports.items()} == {
        "cnmarc-utf8.mrc": 2,
        "cnmarc-gbk.mrc": 3,
        "cnmarc-broken.mrc": 1,
        "unimarc.xml": 0,  # 围城 again (same ISBN), and one record without a title
    }
    broken = reports["cnmarc-broken.mrc"]
    assert broken.records_skipped == 5
    assert [(p.record_number, p.reason) for p in broken.problems] == [
        (2, "record directory is invalid"),
        (3, "field 200: the text is not valid UTF-8 (as 100 $a declares)"),
        (4, "field 200: the text is UTF-8, but 100 $a declares GB 2312"),
        (5, "field 200: the text is garbled (mojibake)"),
        (6, "record is truncated (no end-of-record terminator)"),
    ]
    assert [(p.record_number, p.reason) for p in reports["unimarc.xml"].problems] == [
        (2, "no title (200 $a)")
    ]
    dream = await session.scalar(select(Work).where(Work.title == "红楼梦"))
    assert dream is not None
    assert dream.clc_numbers == ["I242.4"]
    assert dream.variant_titles == ["Hong lou meng", "A dream of red mansions", "石头记"]
    assert (dream.edition, dream.series) == ("第3版", "中国古典文学读本丛书")
    barcodes = await session.scalars(
        select(Item.barcode).where(Item.work_id == dream.id).order_by(Item.barcode)
    )
    assert list(barcodes) == ["C0001001", "C0001002"]
    titles = set(await session.scalars(select(Work.title)))
    assert not any("\ufffd" in title or "Ã" in title for title in titles)
    works, items = await _count(session, Work), await _count(session, Item)
    changes = await session.scalar(select(func.count(CatalogueChange.id)))
    await session.commit()

    for name in FILES:
        again = await import_catalogue(sessionmaker, "CNLIB", FIXTURES / name)
        assert (again.works_created, again.works_updated, again.items_created) == (0, 0, 0)
        assert again.changed_work_ids == []
    assert (await _count(session, Work), await _count(session, Item)) == (works, items)
    assert await session.scalar(select(func.count(CatalogueChange.id))) == changes


def _marc21(control: str, fields: list[tuple[str, bytes]]) -> bytes:
    return marc_record(sorted([("001", control.encode()), ("008", FIXED_008), *fields]))


def _linked(tag: str, text: str) -> tuple[str, bytes]:
    return ("880", datafield(b"1 ", ("6", f"{tag}-01".encode()), ("a", text.encode())))


async def test_one_work_gathers_copies_of_marc21_and_cnmarc_libraries(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="LOC")
    await make_library(session, code="CNLIB")
    await session.commit()
    marc21 = tmp_path / "loc.mrc"
    marc21.write_bytes(
        # Merges by ISBN.
        _marc21(
            "loc1",
            [
                ("020", datafield(b"  ", ("a", b"7020002207"))),
                ("100", datafield(b"1 ", ("6", b"880-01"), ("a", b"Cao, Xueqin,"))),
                ("245", datafield(b"10", ("6", b"880-02"), ("a", b"Hong lou meng"))),
                _linked("100", "曹雪芹,"),
                ("880", datafield(b"10", ("6", b"245-02"), ("a", "紅樓夢".encode()))),
            ],
        )
        # No ISBN: merges by the work key (traditional 三體 folds to 三体).
        + _marc21(
            "loc2",
            [
                ("100", datafield(b"1 ", ("6", b"880-01"), ("a", b"Liu, Cixin,"))),
                ("245", datafield(b"10", ("6", b"880-02"), ("a", b"San ti"))),
                _linked("100", "劉慈欣"),
                ("880", datafield(b"10", ("6", b"245-02"), ("a", "三體".encode()))),
            ],
        )
    )
    cnmarc = tmp_path / "cnlib.mrc"
    shutil.copy(FIXTURES / "cnmarc-utf8.mrc", cnmarc)
    first = await import_catalogue(sessionmaker, "LOC", marc21)
    second = await import_catalogue(sessionmaker, "CNLIB", cnmarc)
    assert (first.works_created, second.works_created, second.works_updated) == (2, 0, 2)
    holders = await session.execute(
        select(Work.original_title, Library.code, func.count(Item.id))
        .join(Item, Item.work_id == Work.id)
        .join(Library, Library.id == Item.library_id)
        .group_by(Work.original_title, Library.code)
        .order_by(Work.original_title, Library.code)
    )
    assert [tuple(row) for row in holders] == [
        ("三體", "CNLIB", 1),
        ("三體", "LOC", 1),
        ("紅樓夢", "CNLIB", 2),
        ("紅樓夢", "LOC", 1),
    ]
    # The MARC 21 library described the works first; CNMARC filled what it left empty.
    three_body = await session.scalar(select(Work).where(Work.original_title == "三體"))
    assert three_body is not None
    assert three_body.title == "San ti" and three_body.clc_numbers == ["I247.55"]
    isbn_owner = await session.scalar(select(WorkIsbn.work_id).where(WorkIsbn.isbn == THREE_BODY))
    assert isbn_owner == three_body.id
