"""Every instance's index catches up with imports made elsewhere, from the recorded changes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import CatalogueChange, Work, utcnow
from bot.services.catalogue_import.run import import_catalogue
from bot.services.indexing import (
    CHANGES_KEPT,
    POSITION_FILE,
    CatalogueIndexer,
    ChangePosition,
)
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.catalogue_import.test_service import marc_book
from tests.factories import make_library, make_work


def _indexer(folder: Path, sessionmaker: async_sessionmaker[AsyncSession]) -> CatalogueIndexer:
    return CatalogueIndexer(AsyncCatalogueIndex(CatalogueIndex(folder)), sessionmaker)


def _recorded(indexer: CatalogueIndexer) -> list[list[int]]:
    """The work ids of every re-index the indexer does from now on."""
    calls: list[list[int]] = []
    original = indexer.sync_chunked

    async def sync_chunked(work_ids: Sequence[int], progress: Any = None) -> int:
        calls.append(list(work_ids))
        return await original(work_ids, progress)

    indexer.sync_chunked = sync_chunked  # type: ignore[method-assign]
    return calls


async def _titles(indexer: CatalogueIndexer, query: str) -> list[int]:
    return [hit.work_id for hit in (await indexer.index.search(query)).hits]


async def _import(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path, name: str, *books: bytes
) -> list[int]:
    path = tmp_path / name
    path.write_bytes(b"".join(books))
    report = await import_catalogue(sessionmaker, "EAST", path)
    return report.changed_work_ids


async def _east(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        await make_library(session, code="EAST")
        await session.commit()


async def test_an_import_reaches_an_index_that_did_not_make_it(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _east(sessionmaker)
    here, there = _indexer(tmp_path / "a", sessionmaker), _indexer(tmp_path / "b", sessionmaker)
    try:
        assert await there.rebuild() == 0  # an instance already running, its index empty
        changed = await _import(
            sessionmaker, tmp_path, "one.mrc", marc_book("b1", "Pragmatic Programmer")
        )
        assert await here.catch_up() == 1  # the importer: a first index is built
        assert await _titles(there, "pragmatic") == []
        synced = _recorded(there)
        assert await there.catch_up() == 1
        assert await _titles(there, "pragmatic") == changed
        # Applied once: looking again, or after a restart, re-indexes nothing.
        assert await there.catch_up() == 0
        await there.close()
        there = _indexer(tmp_path / "b", sessionmaker)
        restarted = _recorded(there)
        assert await there.catch_up() == 0
        assert (synced, restarted) == ([changed], [])
        # A second import reaches both.
        more = await _import(
            sessionmaker, tmp_path, "two.mrc", marc_book("b2", "Refactoring Databases")
        )
        assert await there.catch_up() == 1
        assert await here.catch_up() == 1
        assert await _titles(there, "refactoring") == more
        assert restarted == [more]
    finally:
        await here.close()
        await there.close()


async def test_each_import_batch_records_its_works(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _east(sessionmaker)
    path = tmp_path / "three.mrc"
    path.write_bytes(b"".join(marc_book(f"c{n}", f"Book number {n}") for n in range(3)))
    report = await import_catalogue(sessionmaker, "EAST", path, batch_size=2)
    async with sessionmaker() as session:
        rows = list(await session.scalars(select(CatalogueChange).order_by(CatalogueChange.id)))
    assert [len(row.work_ids) for row in rows] == [2, 1]
    assert sorted(i for row in rows for i in row.work_ids) == report.changed_work_ids
    # Importing the same file again changes nothing and records nothing.
    await import_catalogue(sessionmaker, "EAST", path, batch_size=2)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(CatalogueChange.id))) == 2


async def test_a_change_committed_after_a_newer_one_is_not_missed(
    tmp_path: Path, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    library = await make_library(session, code="EAST")
    await session.commit()
    indexer = _indexer(tmp_path / "index", sessionmaker)
    try:
        await indexer.rebuild()
        synced = _recorded(indexer)
        first = await make_work(session, title="Early Bird", libraries=(library,))
        session.add(CatalogueChange(id=50, work_ids=[first.id]))
        await session.commit()
        assert await indexer.catch_up() == 1
        # Id 40 was taken before 50 but committed after the index looked.
        second = await make_work(session, title="Late Comer", libraries=(library,))
        session.add(CatalogueChange(id=40, work_ids=[second.id]))
        await session.commit()
        assert await indexer.catch_up() == 1
        assert await indexer.catch_up() == 0
        assert synced == [[first.id], [second.id]]
        assert await _titles(indexer, "late comer") == [second.id]
    finally:
        await indexer.close()


async def test_an_index_that_stopped_looking_too_long_ago_is_rebuilt(
    tmp_path: Path, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    library = await make_library(session)
    for number in range(3):
        await make_work(session, title=f"Shelf {number}", libraries=(library,))
    await session.commit()
    folder = tmp_path / "index"
    indexer = _indexer(folder, sessionmaker)
    try:
        assert await indexer.catch_up() == 3  # no index yet: built from the database
        stale = ChangePosition(0, frozenset(), utcnow() - CHANGES_KEPT)
        (folder / POSITION_FILE).write_text(stale.dump(), encoding="utf-8")
    finally:
        await indexer.close()
    indexer = _indexer(folder, sessionmaker)
    try:
        assert await indexer.catch_up() == 3
        assert await indexer.catch_up() == 0
    finally:
        await indexer.close()


async def test_old_changes_are_forgotten(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        session.add(
            CatalogueChange(work_ids=[1], created_at=now - CHANGES_KEPT - timedelta(hours=1))
        )
        session.add(CatalogueChange(work_ids=[2], created_at=now - timedelta(days=1)))
        await session.commit()
    indexer = _indexer(tmp_path / "index", sessionmaker)
    try:
        assert await indexer.forget_old_changes(now) == 1
    finally:
        await indexer.close()
    async with sessionmaker() as session:
        assert list(await session.scalars(select(CatalogueChange.work_ids))) == [[2]]


async def test_a_following_index_picks_up_an_import_on_its_own(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _east(sessionmaker)
    indexer = _indexer(tmp_path / "index", sessionmaker)
    try:
        await indexer.rebuild()
        indexer.follow(0.05)
        changed = await _import(sessionmaker, tmp_path, "f.mrc", marc_book("f1", "Followed Book"))
        async with asyncio.timeout(20):
            while await _titles(indexer, "followed") != changed:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await indexer.close()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Work.id))) == 1
