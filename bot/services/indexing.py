"""Keeping the search index in step with the catalogue: documents, incremental sync, rebuilds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.models import Item, Library, Work
from search.aio import AsyncCatalogueIndex
from search.documents import WorkDocument

logger = logging.getLogger(__name__)

BATCH = 2000


def work_document(work: Work, library_codes: Collection[str]) -> WorkDocument:
    """The index's view of a work (its ISBNs must be loaded)."""
    return WorkDocument(
        work_id=work.id,
        title=work.title,
        original_title=work.original_title,
        authors=tuple(work.authors or ()),
        original_authors=tuple(work.original_authors or ()),
        subjects=tuple(work.subjects or ()),
        publisher=work.publisher,
        isbns=tuple(isbn.isbn for isbn in work.isbns),
        language=work.language,
        year=work.year,
        library_codes=tuple(sorted(set(library_codes))),
        summary=work.summary,
    )


async def documents_for(session: AsyncSession, work_ids: Collection[int]) -> list[WorkDocument]:
    """Index documents for the given works, in id order."""
    if not work_ids:
        return []
    works = list(
        await session.scalars(
            select(Work)
            .where(Work.id.in_(list(work_ids)))
            .options(selectinload(Work.isbns))
            .order_by(Work.id)
        )
    )
    holdings: dict[int, set[str]] = {}
    rows = await session.execute(
        select(Item.work_id, Library.code)
        .join(Library, Library.id == Item.library_id)
        .where(Item.work_id.in_(list(work_ids)))
        .distinct()
    )
    for work_id, code in rows.all():
        holdings.setdefault(work_id, set()).add(code)
    return [work_document(work, holdings.get(work.id, ())) for work in works]


async def _next_batch(session: AsyncSession, after_id: int) -> list[WorkDocument]:
    ids = list(
        await session.scalars(
            select(Work.id).where(Work.id > after_id).order_by(Work.id).limit(BATCH)
        )
    )
    return await documents_for(session, ids)


@dataclass
class IndexStatus:
    """Whether searches can be answered, and how far a rebuild has got."""

    ready: bool = False
    building: bool = False
    indexed: int = 0


class CatalogueIndexer:
    """Owns the async index: sync after imports, rebuild from the database, report status."""

    def __init__(
        self, index: AsyncCatalogueIndex, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        self.index = index
        self.sessionmaker = sessionmaker
        self.status = IndexStatus()
        self._rebuild_task: asyncio.Task[int] | None = None

    async def sync(self, session: AsyncSession, work_ids: Collection[int]) -> int:
        """Re-index the given works (after an import changed them)."""
        documents = await documents_for(session, work_ids)
        if not documents:
            return 0
        if not await self.index.exists():
            await self.index.create()
        return await self.index.upsert(documents)

    async def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the whole index from the database; searches keep using the old one meanwhile."""
        loop = asyncio.get_running_loop()
        self.status.building = True
        self.status.indexed = 0

        def on_progress(count: int) -> None:
            self.status.indexed = count
            if progress is not None:
                progress(count)

        async def fetch(after_id: int) -> list[WorkDocument]:
            async with self.sessionmaker() as session:
                return await _next_batch(session, after_id)

        def documents() -> Iterator[WorkDocument]:
            # Runs in the index's worker thread; each batch is read on the event loop.
            after_id = 0
            while True:
                batch = asyncio.run_coroutine_threadsafe(fetch(after_id), loop).result()
                if not batch:
                    return
                yield from batch
                after_id = batch[-1].work_id

        try:
            count = await self.index.rebuild(documents(), progress=on_progress)
        finally:
            self.status.building = False
        self.status.ready = True
        self.status.indexed = count
        return count

    async def ensure_ready(self) -> None:
        """Mark the index ready, or start rebuilding a missing one in the background."""
        if await self.index.exists():
            # Load jieba, OpenCC and the typo vocabulary now, not on a reader's first search.
            await self.index.warm_up()
            self.status.ready = True
            return
        if self._rebuild_task is None or self._rebuild_task.done():
            logger.warning("the search index is missing: rebuilding it from the database")
            self._rebuild_task = asyncio.create_task(self.rebuild())

    async def wait_ready(self) -> None:
        """Wait for a background rebuild to finish (tests and the CLI)."""
        if self._rebuild_task is not None:
            await self._rebuild_task

    async def close(self) -> None:
        """Stop a rebuild in progress and close the index."""
        if self._rebuild_task is not None and not self._rebuild_task.done():
            self._rebuild_task.cancel()
        await self.index.close()
