"""A library system (pysip2's ACS server) and a small catalogue whose copies it circulates."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Item, Library, Work
from bot.services.ils.connections import Sip2Settings, connect_sip2
from sandbox.library_system import Copy, LibrarySystem
from tests.factories import make_district, make_library, make_work

PASSWORD = "s3cret-pw"


@pytest.fixture
def library_system() -> Iterator[LibrarySystem]:
    """The City Library's own system, serving on a loopback port."""
    system = LibrarySystem(password=PASSWORD)
    system.start()
    yield system
    system.stop()


@dataclass
class Shelf:
    """Two libraries (City connected by SIP2, Town by hand) and one work's copies."""

    city: Library
    town: Library
    work: Work
    city_copies: list[str]
    town_copy: str


async def build_shelf(session: AsyncSession, system: LibrarySystem) -> Shelf:
    district = await make_district(session, code="EAST", name="东区", name_en="East")
    city = await make_library(
        session, district, code="CITY", name="市图书馆", name_en="City Library"
    )
    town = await make_library(
        session,
        district,
        code="TOWN",
        name="镇图书馆",
        name_en="Town Library",
        latitude=district.latitude + 0.05,
    )
    work = await make_work(session, title="Hong lou meng", original_title="紅樓夢")
    city_copies = ["CITY0001", "CITY0002"]
    for barcode in city_copies:
        session.add(Item(work_id=work.id, library_id=city.id, barcode=barcode))
        system.copies[barcode] = Copy(title="紅樓夢")
    session.add(Item(work_id=work.id, library_id=town.id, barcode="TOWN0001"))
    await session.commit()
    await connect_sip2(
        session,
        "CITY",
        Sip2Settings(host="127.0.0.1", port=system.port, user="selfcheck", password=PASSWORD),
    )
    return Shelf(city, town, work, city_copies, "TOWN0001")


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BOOKBRIDGE_* settings for the test database only, short ILS timeouts."""
    for name in list(os.environ):
        if name.startswith("BOOKBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOOKBRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKBRIDGE_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("BOOKBRIDGE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("BOOKBRIDGE_ILS_TIMEOUT_S", "1")
    return tmp_path
