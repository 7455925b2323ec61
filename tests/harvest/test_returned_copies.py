"""A copy an export or a harvest puts back on the shelf fills the next queued hold, as
/checkin does, and the reader is told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.models import Hold, HoldStatus, Item, ItemStatus, Notification
from bot.services.catalogue_import.run import import_catalogue
from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect
from bot.services.holds.placing import place_hold
from tests.cnmarc.records import iso2709
from tests.factories import make_library, make_reader
from tests.harvest.repository import TestRepository
from tests.harvest.unimarc import LIBRARY, processing_data, unimarc_record

ISBN = "9787020002207"


def _koha_item(*extra: tuple[str, str]) -> tuple[str, list[tuple[str, str]]]:
    return ("995", [("b", LIBRARY), ("f", "K-0001"), ("k", "I242.4"), *extra])


def _record(item: tuple[str, list[tuple[str, str]]]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("010", [("a", ISBN)]),
        ("100", [("a", processing_data("1996", "50  "))]),
        ("200", [("a", "红楼梦"), ("f", "曹雪芹著")]),
        item,
    ]


ON_LOAN = _koha_item(("n", "2026-12-20"))
ON_SHELF = _koha_item(("o", "0"))


@pytest.fixture
def koha_repository() -> Iterator[TestRepository]:
    repo = TestRepository().start()
    repo.catalogue.add("oai:koha:1", unimarc_record("K1", _record(ON_LOAN)))
    try:
        yield repo
    finally:
        repo.stop()


async def _queued_hold(session: AsyncSession, settings: Settings) -> tuple[int, int]:
    """A reader's hold on the copy on loan, queued; (hold id, reader id)."""
    await session.commit()
    item = await session.scalar(select(Item).where(Item.barcode == "K-0001"))
    assert item is not None and item.status is ItemStatus.ON_LOAN
    reader = await make_reader(session)
    await session.commit()
    placement = await place_hold(session, reader, item.work_id, item.library_id, settings=settings)
    assert placement.hold.status is HoldStatus.QUEUED
    return placement.hold.id, reader.id


async def _ready(session: AsyncSession, hold_id: int, reader_id: int) -> None:
    await session.commit()
    hold = await session.get(Hold, hold_id, populate_existing=True)
    item = await session.scalar(select(Item).where(Item.barcode == "K-0001"))
    assert hold is not None and item is not None
    assert (hold.status, hold.item_id) == (HoldStatus.READY, item.id)
    assert item.status is ItemStatus.HELD
    assert hold.pulled_at is None  # on the shelf: the pull list shows it
    kinds = list(
        await session.scalars(select(Notification.kind).where(Notification.reader_id == reader_id))
    )
    assert "hold.ready" in kinds


async def test_a_harvested_copy_back_on_the_shelf_fills_the_queued_hold(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    harvest_settings: Settings,
    koha_repository: TestRepository,
) -> None:
    await make_library(session, code=LIBRARY)
    await session.commit()
    await connect(session, LIBRARY, koha_repository.url, prefix="unimarc")
    report = await harvest_library(sessionmaker, harvest_settings, LIBRARY)
    assert report.error is None and report.records == 1
    hold_id, reader_id = await _queued_hold(session, harvest_settings)

    koha_repository.catalogue.change("oai:koha:1", unimarc_record("K1", _record(ON_SHELF)))
    report = await harvest_library(sessionmaker, harvest_settings, LIBRARY)
    assert report.error is None and report.records == 1, report.summary()
    await _ready(session, hold_id, reader_id)


async def test_an_imported_copy_back_on_the_shelf_fills_the_queued_hold(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    await make_library(session, code=LIBRARY)
    await session.commit()

    def export(item: tuple[str, list[tuple[str, str]]]) -> Path:
        fields = [("001", "", [("", "K1")])] + [(tag, "  ", subs) for tag, subs in _record(item)]
        path = tmp_path / "koha.mrc"
        path.write_bytes(iso2709(fields, "utf-8"))
        return path

    await import_catalogue(sessionmaker, LIBRARY, export(ON_LOAN), settings=settings)
    hold_id, reader_id = await _queued_hold(session, settings)
    report = await import_catalogue(sessionmaker, LIBRARY, export(ON_SHELF), settings=settings)
    assert report.items_updated == 1
    await _ready(session, hold_id, reader_id)
