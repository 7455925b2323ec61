"""A pyoai repository on loopback serving Library of Congress MARCXML records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.conftest import shared_data
from tests.harvest.repository import TestRepository, marcxml_records

RECORDS = 25
BATCH = 10


@pytest.fixture(scope="session")
def loc_records() -> list[bytes]:
    """The first records of the shared LoC MARCXML file, each alone."""
    return marcxml_records(shared_data("marc", "loc-books-first1000.marcxml"), RECORDS)


@pytest.fixture
def repository(loc_records: list[bytes]) -> Iterator[TestRepository]:
    """pyoai's server with RECORDS records, BATCH a page, on 127.0.0.1."""
    repo = TestRepository(batch_size=BATCH).start()
    repo.load(loc_records)
    try:
        yield repo
    finally:
        repo.stop()


@pytest.fixture
def harvest_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"harvest_timeout_s": 5.0})


@pytest.fixture
async def indexer(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> CatalogueIndexer:
    index = AsyncCatalogueIndex(CatalogueIndex(tmp_path / "harvest-index"))
    return CatalogueIndexer(index, sessionmaker)
