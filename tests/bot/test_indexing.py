"""The index follows the database: incremental sync, full rebuild, rebuild when missing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import WorkIsbn
from bot.services.indexing import CatalogueIndexer, documents_for
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.factories import make_library, make_work


def _indexer(tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]) -> CatalogueIndexer:
    return CatalogueIndexer(AsyncCatalogueIndex(CatalogueIndex(tmp_path / "index")), sessionmaker)


async def test_documents_carry_isbns_and_holding_libraries(session: AsyncSession) -> None:
    east = await make_library(session, code="EAST")
    west = await make_library(session, code="WEST")
    work = await make_work(
        session,
        title="Dream of the Red Chamber",
        original_title="红楼梦",
        libraries=(west, east, west),
    )
    session.add(WorkIsbn(isbn="9787020002207", work_id=work.id))
    await session.commit()
    [document] = await documents_for(session, [work.id])
    assert document.original_title == "红楼梦"
    assert document.isbns == ("9787020002207",)
    assert document.library_codes == ("EAST", "WEST")


async def test_rebuild_then_sync(
    tmp_path: Path, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    library = await make_library(session)
    first = await make_work(session, title="Journey to the West", libraries=(library,))
    await session.commit()
    indexer = _indexer(tmp_path, sessionmaker)
    try:
        await indexer.ensure_ready()  # missing: rebuilt in the background
        assert not indexer.status.ready
        await indexer.wait_ready()
        assert indexer.status.ready and indexer.status.indexed == 1
        result = await indexer.index.search("journey west")
        assert [hit.work_id for hit in result.hits] == [first.id]

        second = await make_work(session, title="Water Margin", libraries=(library,))
        await session.commit()
        assert (await indexer.index.search("water margin")).total == 0
        assert await indexer.sync(session, [second.id]) == 1
        assert [h.work_id for h in (await indexer.index.search("water margin")).hits] == [second.id]
    finally:
        await indexer.close()
