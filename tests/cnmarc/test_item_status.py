"""Item status from catalogue exports: Koha 952 $1/$7/$q, Koha UNIMARC 995, CNMARC 905 $s."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Item, ItemStatus, Work
from bot.services.catalogue_import.run import import_catalogue
from bot.services.holds.access import circulating_copies
from tests.catalogue.builders import FIXED_008, datafield, marc_record
from tests.cnmarc.records import Field, book, isbn13, iso2709
from tests.factories import make_library
from tests.harness import BotHarness


def _koha_item(barcode: str, *flags: tuple[str, str]) -> tuple[str, bytes]:
    subfields = [("a", b"EAST"), ("o", b"I247.5/Y8"), ("p", barcode.encode())]
    return ("952", datafield(b"  ", *subfields, *((c, v.encode()) for c, v in flags)))


def _koha_file(path: Path, items: list[tuple[str, bytes]], *, control: str = "k1") -> Path:
    fields = [
        ("001", control.encode()),
        ("008", FIXED_008),
        ("245", datafield(b"10", ("a", "活着".encode()))),
        *items,
    ]
    path.write_bytes(marc_record(sorted(fields, key=lambda field: field[0])))
    return path


async def _statuses(session: AsyncSession) -> dict[str, tuple[ItemStatus, datetime | None]]:
    rows = await session.execute(select(Item.barcode, Item.status, Item.due_at))
    found = {barcode: (status, due) for barcode, status, due in rows}
    await session.commit()
    return found


async def test_koha_items_take_the_status_their_export_gives(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="EAST")
    await session.commit()
    path = _koha_file(
        tmp_path / "koha.mrc",
        [
            _koha_item("B1"),
            _koha_item("B2", ("1", "1")),  # lost
            _koha_item("B3", ("7", "1")),  # not for loan
            _koha_item("B4", ("q", "2026-12-20")),  # on loan until
            _koha_item("B5", ("1", "0"), ("7", "0")),  # flags at 0: on the shelf
        ],
    )
    report = await import_catalogue(sessionmaker, "EAST", path)
    assert report.items_created == 5
    due = datetime(2026, 12, 20, 23, 59, tzinfo=UTC)
    assert await _statuses(session) == {
        "B1": (ItemStatus.AVAILABLE, None),
        "B2": (ItemStatus.MISSING, None),
        "B3": (ItemStatus.NOT_FOR_LOAN, None),
        "B4": (ItemStatus.ON_LOAN, due),
        "B5": (ItemStatus.AVAILABLE, None),
    }
    again = await import_catalogue(sessionmaker, "EAST", path)
    assert (again.items_created, again.items_updated) == (0, 0)

    # The next export: B2 was found, B4 came back, B1 was lost; B5 is held for a reader,
    # which the holds rules decide, not the export.
    async with sessionmaker() as writer:
        await writer.execute(
            update(Item).where(Item.barcode == "B5").values(status=ItemStatus.HELD)
        )
        await writer.commit()
    _koha_file(
        path,
        [
            _koha_item("B1", ("1", "2")),
            _koha_item("B2"),
            _koha_item("B3", ("7", "1")),
            _koha_item("B4"),
            _koha_item("B5", ("1", "1")),
        ],
    )
    changed = await import_catalogue(sessionmaker, "EAST", path)
    assert changed.items_updated == 3
    assert await _statuses(session) == {
        "B1": (ItemStatus.MISSING, None),
        "B2": (ItemStatus.AVAILABLE, None),
        "B3": (ItemStatus.NOT_FOR_LOAN, None),
        "B4": (ItemStatus.AVAILABLE, None),
        "B5": (ItemStatus.HELD, None),
    }


def _cnmarc_with_items(holdings: list[Field]) -> bytes:
    fields = book(
        "CN0000099",
        isbn13("978702012345"),
        "50  ",
        [("a", "边城"), ("f", "沈从文著")],
        year="2002",
        place="北京",
        publisher="人民文学出版社",
        clc="I246.5",
        authors=[("701", "沈从文")],
    )
    return iso2709(sorted([*fields, *holdings], key=lambda field: field[0]), "utf-8")


async def test_cnmarc_and_koha_unimarc_items_take_their_status_and_a_lost_copy_is_not_lent(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await make_library(session, code="CNLIB")
    await session.commit()
    path = tmp_path / "cnlib.iso"
    path.write_bytes(
        _cnmarc_with_items(
            [
                ("905", "  ", [("a", "CNLIB"), ("b", "S1"), ("d", "I246.5"), ("s", "丢失")]),
                ("905", "  ", [("a", "CNLIB"), ("b", "S2"), ("s", "不外借")]),
                ("905", "  ", [("a", "CNLIB"), ("b", "S3"), ("s", "借出"), ("n", "20261231")]),
                ("905", "  ", [("a", "CNLIB"), ("b", "S4")]),
                ("995", "  ", [("b", "CNLIB"), ("f", "S5"), ("k", "I246.5/S1"), ("o", "1")]),
                ("995", "  ", [("b", "CNLIB"), ("f", "S6"), ("n", "2026-12-24")]),
            ]
        )
    )
    report = await import_catalogue(sessionmaker, "CNLIB", path)
    assert report.items_created == 6 and not report.problems
    statuses = await _statuses(session)
    assert {barcode: status for barcode, (status, _due) in statuses.items()} == {
        "S1": ItemStatus.MISSING,
        "S2": ItemStatus.NOT_FOR_LOAN,
        "S3": ItemStatus.ON_LOAN,
        "S4": ItemStatus.AVAILABLE,
        "S5": ItemStatus.NOT_FOR_LOAN,
        "S6": ItemStatus.ON_LOAN,
    }
    assert statuses["S6"][1] == datetime(2026, 12, 24, 23, 59, tzinfo=UTC)
    work_id = await session.scalar(select(Work.id))
    assert work_id is not None
    # Only the copies that can be lent count for holds: S3, S4 and S6.
    assert await circulating_copies(session, work_id) == 3


async def test_the_card_shows_exported_statuses_and_offers_only_a_shelf_copy(
    harness: BotHarness, tmp_path: Path
) -> None:
    sessionmaker = harness.app.sessionmaker
    async with sessionmaker() as session:
        await make_library(session, code="EAST", name_en="East Library")
        await session.commit()
    path = _koha_file(
        tmp_path / "koha.mrc",
        [_koha_item("B1", ("1", "1")), _koha_item("B2", ("7", "1"))],
    )
    await import_catalogue(sessionmaker, "EAST", path)
    await harness.app.indexer.catch_up()
    await harness.app.indexer.ensure_ready()
    user = harness.user(601, "Reader")
    await user.onboard()
    [results] = await user.send("活着")
    assert "⏳" in (results.text or "")  # nothing on the shelf
    await user.tap("1. 活着")
    lines = (user.last_bot_message().text or "").splitlines()
    assert "   ⏳ missing, for use in the library only · call number I247.5/Y8" in lines
    await user.tap("🔖 Reserve")
    # Neither copy can be lent: no hold is placed on them.
    assert (user.last_bot_message().text or "").startswith(
        "No library in the alliance has a copy of this book yet."
    )
    async with sessionmaker() as session:
        statuses = set(await session.scalars(select(Item.status)))
    assert statuses == {ItemStatus.MISSING, ItemStatus.NOT_FOR_LOAN}
