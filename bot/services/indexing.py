"""Keeping the search index in step with the catalogue: documents, incremental sync, rebuilds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.models import CatalogueChange, Item, Library, Work, utcnow
from bot.services.editions import family_titles, with_families
from search.aio import AsyncCatalogueIndex
from search.documents import WorkDocument

logger = logging.getLogger(__name__)

BATCH = 2000
SYNC_CHUNK = 1000
# Change rows re-read on every look, in case one committed after a newer one.
CHANGE_WINDOW = 100
# Change rows older than this are deleted; an index that has not looked for longer is rebuilt.
CHANGES_KEPT = timedelta(days=30)
POSITION_FILE = "catalogue-changes.json"


def work_document(
    work: Work, library_codes: Collection[str], related_titles: Sequence[str] = ()
) -> WorkDocument:
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
        variant_titles=tuple(work.variant_titles or ()),
        clc_numbers=tuple(work.clc_numbers or ()),
        other_titles=tuple(work.other_titles or ()),
        related_titles=tuple(related_titles),
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
    related = await family_titles(session, works)
    return [
        work_document(work, holdings.get(work.id, ()), related.get(work.id, ())) for work in works
    ]


async def _next_batch(session: AsyncSession, after_id: int) -> list[WorkDocument]:
    ids = list(
        await session.scalars(
            select(Work.id).where(Work.id > after_id).order_by(Work.id).limit(BATCH)
        )
    )
    return await documents_for(session, ids)


@dataclass(frozen=True)
class ChangePosition:
    """How far an index has applied the catalogue changes.

    Every change up to ``through - CHANGE_WINDOW`` is applied; above that, the ones in
    ``applied``. ``looked_at`` is when the index last caught up.
    """

    through: int = 0
    applied: frozenset[int] = frozenset()
    looked_at: datetime = field(default_factory=utcnow)

    def is_applied(self, change_id: int) -> bool:
        """Whether that change is in the index already."""
        return change_id <= self.through - CHANGE_WINDOW or change_id in self.applied

    def after(self, change_ids: Collection[int], now: datetime) -> ChangePosition:
        """The position once these changes are applied too."""
        through = max([self.through, *change_ids])
        applied = {i for i in (*self.applied, *change_ids) if i > through - CHANGE_WINDOW}
        return ChangePosition(through, frozenset(applied), now)

    def dump(self) -> str:
        """The position as JSON (for the index folder)."""
        return json.dumps(
            {
                "through": self.through,
                "applied": sorted(self.applied),
                "looked_at": self.looked_at.isoformat(),
            }
        )

    @classmethod
    def parse(cls, text: str) -> ChangePosition | None:
        """A position read back, or None when the file is unreadable."""
        try:
            data = json.loads(text)
            return cls(
                int(data["through"]),
                frozenset(int(i) for i in data["applied"]),
                datetime.fromisoformat(data["looked_at"]),
            )
        except (ValueError, TypeError, KeyError):
            return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


async def _recent_changes(session: AsyncSession) -> ChangePosition:
    """A position at the newest change, with the ones in its window applied (for a new index)."""
    newest = await session.scalar(select(func.max(CatalogueChange.id)))
    if newest is None:
        return ChangePosition()
    ids = await session.scalars(
        select(CatalogueChange.id).where(CatalogueChange.id > newest - CHANGE_WINDOW)
    )
    return ChangePosition(newest, frozenset(ids))


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
        self._follow_task: asyncio.Task[None] | None = None
        self._catching_up = asyncio.Lock()
        self._position: ChangePosition | None = None
        self._position_file = index.index.root / POSITION_FILE

    async def sync(self, session: AsyncSession, work_ids: Collection[int]) -> int:
        """Re-index the given works (after an import changed them) and their families.

        A work's document holds its other editions' titles, so a new translation rewrites
        the documents of the editions it joins (unchanged ones are skipped by fingerprint).
        """
        documents = await documents_for(session, await with_families(session, work_ids))
        if not documents:
            return 0
        if not await self.index.exists():
            await self.index.create()
        return await self.index.upsert(documents)

    async def sync_chunked(
        self, work_ids: Sequence[int], progress: Callable[[int], None] | None = None
    ) -> int:
        """Re-index the given works a chunk at a time; how many documents were written."""
        written = 0
        for start in range(0, len(work_ids), SYNC_CHUNK):
            async with self.sessionmaker() as session:
                written += await self.sync(session, work_ids[start : start + SYNC_CHUNK])
            if progress is not None:
                progress(min(start + SYNC_CHUNK, len(work_ids)))
        return written

    # -- catalogue changes made by other processes ---------------------------------------

    def _saved_position(self) -> ChangePosition | None:
        try:
            return ChangePosition.parse(self._position_file.read_text(encoding="utf-8"))
        except OSError:
            return None

    async def _save_position(self, position: ChangePosition) -> None:
        self._position = position
        await asyncio.to_thread(_write_atomically, self._position_file, position.dump())

    async def _current_position(self) -> ChangePosition:
        if self._position is None:
            self._position = await asyncio.to_thread(self._saved_position)
        if self._position is None:
            # An index made before changes were recorded: take it as up to date.
            async with self.sessionmaker() as session:
                await self._save_position(await _recent_changes(session))
        assert self._position is not None
        return self._position

    async def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Re-index the works of every catalogue change this index has not applied yet.

        Imports record the works each batch changed (in that batch's transaction), so an
        import run on one instance, by the worker or from the command line reaches every
        instance's index. Returns how many works were re-indexed (all of them after a rebuild).
        """
        if self.status.building:
            return 0
        async with self._catching_up:
            if not await self.index.exists():
                return await self.rebuild(progress=progress)
            position = await self._current_position()
            now = utcnow()
            if now - position.looked_at > CHANGES_KEPT - timedelta(days=1):
                logger.warning("the search index missed catalogue changes: rebuilding it")
                return await self.rebuild(progress=progress)
            async with self.sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(CatalogueChange.id, CatalogueChange.work_ids)
                        .where(CatalogueChange.id > position.through - CHANGE_WINDOW)
                        .order_by(CatalogueChange.id)
                    )
                ).all()
            fresh = [
                (change_id, ids) for change_id, ids in rows if not position.is_applied(change_id)
            ]
            work_ids = sorted({int(work_id) for _, ids in fresh for work_id in ids})
            written = await self.sync_chunked(work_ids, progress) if work_ids else 0
            if fresh or now - position.looked_at > timedelta(hours=1):
                await self._save_position(position.after([i for i, _ in fresh], now))
            return written

    async def forget_old_changes(self, now: datetime | None = None) -> int:
        """Delete change rows older than CHANGES_KEPT; how many went."""
        cutoff = (now or utcnow()) - CHANGES_KEPT
        async with self.sessionmaker() as session:
            result = await session.execute(
                delete(CatalogueChange).where(CatalogueChange.created_at < cutoff)
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    def follow(self, every: float) -> None:
        """Catch up with catalogue changes every ``every`` seconds until closed."""
        if every <= 0 or self._follow_task is not None:
            return

        async def loop() -> None:
            rounds = 0
            while True:
                await asyncio.sleep(every)
                try:
                    await self.catch_up()
                    rounds += 1
                    if rounds % max(1, int(3600 / every)) == 0:
                        await self.forget_old_changes()
                except Exception:
                    logger.exception("catching up with catalogue changes failed; will retry")

        self._follow_task = asyncio.create_task(loop())

    async def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the whole index from the database; searches keep using the old one meanwhile."""
        loop = asyncio.get_running_loop()
        self.status.building = True
        self.status.indexed = 0
        # Changes recorded before the rebuild reads the works are in it; later ones are not.
        async with self.sessionmaker() as session:
            marker = await _recent_changes(session)
            expected = await session.scalar(select(func.count()).select_from(Work))

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
            count = await self.index.rebuild(
                documents(), progress=on_progress, expected=int(expected or 0)
            )
        finally:
            self.status.building = False
        await self._save_position(ChangePosition(marker.through, marker.applied))
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
        """Stop following changes and any rebuild in progress, then close the index."""
        for task in (self._follow_task, self._rebuild_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.index.close()
