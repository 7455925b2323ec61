"""A library's own CNMARC holdings field: the mapping, reading with it, keeping it per library."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalogue.holdings_map import HoldingsMap, HoldingsMapError
from bot.catalogue.reading import read_records
from bot.catalogue.records import BibRecord, Holding
from bot.catalogue.unimarc import read_unimarc
from bot.cli import main
from bot.models import Item, ItemStatus, Library
from bot.services.catalogue_import.libraries import set_holdings_map
from bot.services.catalogue_import.run import import_catalogue
from bot.services.errors import InvalidInputError
from tests.cnmarc.records import FORTRESS, book, iso2709, unimarc_xml
from tests.factories import make_library

SPEC = "906 library=a barcode=f call=kd status=s"


def _fortress_with_906() -> list[tuple[str, str, list[tuple[str, str]]]]:
    fields = book(
        "CN0000005",
        FORTRESS,
        "50  ",
        [("a", "围城"), ("f", "钱钟书著")],
        year="1991",
        place="北京",
        publisher="人民文学出版社",
        clc="I246.57",
        authors=[("701", "钱钟书")],
    )
    items = [
        ("906", "  ", [("a", "CNLIB"), ("f", "T001"), ("k", "I246.57"), ("d", "Q3")]),
        ("906", "  ", [("a", "CNLIB"), ("f", "T002"), ("k", "I246.57"), ("s", "遗失")]),
    ]
    return sorted([*fields, *items], key=lambda field: field[0])


def test_a_mapping_is_read_and_written_back() -> None:
    mapping = HoldingsMap.parse("906  barcode=f  library=a call=kd")
    assert mapping == HoldingsMap("906", library="a", barcode="f", call="kd")
    assert mapping.spec() == "906 library=a barcode=f call=kd"
    assert HoldingsMap.parse(mapping.spec()) == mapping


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("245 barcode=a", "the holdings tag must be 900 to 999"),
        ("906 shelf=a", "unknown part 'shelf'"),
        ("906 barcode=ab", "barcode= takes subfield codes"),
        ("906 call=", "call= takes subfield codes"),
        ("906 library=a", "name the barcode= or call= subfields"),
    ],
)
def test_a_bad_mapping_says_what_is_wrong(spec: str, reason: str) -> None:
    with pytest.raises(HoldingsMapError, match=reason):
        HoldingsMap.parse(spec)


def test_the_mapped_field_is_read_as_the_library_says() -> None:
    data = iso2709(_fortress_with_906(), "utf-8")
    [standard] = read_unimarc(data)
    assert isinstance(standard, BibRecord)
    # Read as a standard 906, $f is a copy count, $d the class number and $k nothing.
    assert standard.holdings == (
        Holding("CNLIB", None, "Q3"),
        Holding("CNLIB", None, None, status="lost"),
    )
    [mapped] = read_unimarc(data, HoldingsMap.parse(SPEC))
    assert isinstance(mapped, BibRecord)
    assert mapped.holdings == (
        Holding("CNLIB", "T001", "I246.57/Q3"),
        Holding("CNLIB", "T002", "I246.57", status="lost"),
    )


def test_xml_records_are_read_with_the_mapping_too(tmp_path: Path) -> None:
    path = tmp_path / "cnlib.xml"
    path.write_text(unimarc_xml([_fortress_with_906()]), encoding="utf-8")
    [record] = read_records(path, holdings_map=HoldingsMap.parse(SPEC))
    assert isinstance(record, BibRecord)
    assert [holding.barcode for holding in record.holdings] == ["T001", "T002"]


async def test_a_library_keeps_its_mapping_for_its_imports(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="CNLIB")
    await session.commit()
    with pytest.raises(InvalidInputError, match="holdings mapping: unknown part"):
        await set_holdings_map(session, "cnlib", "906 shelf=a")
    assert await set_holdings_map(session, "cnlib", SPEC) == HoldingsMap.parse(SPEC)
    path = tmp_path / "cnlib.iso"
    path.write_bytes(iso2709(_fortress_with_906(), "utf-8"))
    report = await import_catalogue(sessionmaker, "CNLIB", path)
    assert report.items_created == 2
    rows = await session.execute(select(Item.barcode, Item.status).order_by(Item.barcode))
    assert [tuple(row) for row in rows] == [
        ("T001", ItemStatus.AVAILABLE),
        ("T002", ItemStatus.MISSING),
    ]
    assert await set_holdings_map(session, "CNLIB", "none") is None
    assert await session.scalar(select(Library.holdings_fields)) is None


def test_the_command_line_stores_the_mapping(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith("BOOKBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOOKBRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKBRIDGE_INDEX_DIR", str(tmp_path / "index"))
    (tmp_path / "libraries.csv").write_text(
        "code,name,kind,district_code,address,lat,lon,opening_hours\n"
        "CNLIB,市图书馆,public,D1,1 East Road,37.51,121.41,Mo-Su 09:00-21:00\n",
        encoding="utf-8",
    )
    (tmp_path / "districts.csv").write_text(
        "code,name,population,lat,lon\nD1,一区,120000,37.5,121.4\n", encoding="utf-8"
    )
    assert main(["districts", "import", "districts.csv"]) == 0
    assert main(["libraries", "import", "libraries.csv"]) == 0
    (tmp_path / "cnlib.iso").write_bytes(iso2709(_fortress_with_906(), "utf-8"))
    capsys.readouterr()
    args = ["import-catalogue", "--library", "CNLIB", "--format", "cnmarc", "cnlib.iso"]
    assert main([*args, "--holdings", "906 shelf=a"]) == 1
    assert "holdings mapping: unknown part 'shelf'" in capsys.readouterr().err
    assert main([*args, "--holdings", SPEC]) == 0
    assert "1 created" in capsys.readouterr().out
    # Kept: the next import (and /import in the chat) reads 906 the same way.
    assert main(args) == 0
    assert "1 unchanged" in capsys.readouterr().out
