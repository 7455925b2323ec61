"""The asyncio front: calls run in worker threads, writes one at a time, loop stays free."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from search import AsyncCatalogueIndex, CatalogueIndex, SearchResult, WorkDocument
from tests.search.conftest import CORPUS


class RecordingIndex(CatalogueIndex):
    """Notes which threads run calls and how many writes overlap."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__(index_dir)
        self.threads: set[int] = set()
        self.active_writes = 0
        self.most_active_writes = 0
        self._count_lock = threading.Lock()

    def search(
        self,
        query: str,
        *,
        limit: int = 50,
        language: str | None = None,
        library_codes: Collection[str] | None = None,
        clc_class: str | None = None,
    ) -> SearchResult:
        self.threads.add(threading.get_ident())
        return super().search(
            query,
            limit=limit,
            language=language,
            library_codes=library_codes,
            clc_class=clc_class,
        )

    def upsert(self, docs: Iterable[WorkDocument]) -> int:
        self.threads.add(threading.get_ident())
        with self._count_lock:
            self.active_writes += 1
            self.most_active_writes = max(self.most_active_writes, self.active_writes)
        try:
            time.sleep(0.02)
            return super().upsert(docs)
        finally:
            with self._count_lock:
                self.active_writes -= 1


async def test_async_calls_give_the_sync_results(tmp_path: Path) -> None:
    index = CatalogueIndex(tmp_path / "index")
    catalogue = AsyncCatalogueIndex(index)
    assert catalogue.index is index
    assert not await catalogue.exists()
    await catalogue.warm_up()  # nothing to load yet: must not fail
    await catalogue.create()
    assert await catalogue.exists()
    assert await catalogue.upsert(CORPUS) == len(CORPUS)
    await catalogue.warm_up()
    assert await catalogue.doc_count() == len(CORPUS)
    for query in ("紅樓夢", "hongloumeng", "0441013597", "Dnue"):
        assert await catalogue.search(query) == index.search(query)
    filtered = await catalogue.search("三体", language="chi", library_codes=["PKU"], limit=5)
    assert [hit.work_id for hit in filtered.hits] == [2]
    assert await catalogue.delete([2]) == 1
    progress: list[int] = []
    assert await catalogue.rebuild(CORPUS[:4], progress=progress.append) == 4
    assert progress == [4]
    await catalogue.close()


async def test_calls_run_off_the_loop_and_writes_never_overlap(tmp_path: Path) -> None:
    index = RecordingIndex(tmp_path / "index")
    catalogue = AsyncCatalogueIndex(index)
    await catalogue.rebuild(CORPUS)
    batches = [
        [WorkDocument(100 + n * 10 + k, f"Reading club report {n} {k}") for k in range(10)]
        for n in range(6)
    ]
    results = await asyncio.gather(
        *(catalogue.upsert(batch) for batch in batches),
        *(catalogue.search("gatsby") for _ in range(12)),
    )
    assert results[: len(batches)] == [10] * len(batches)
    assert all(isinstance(r, SearchResult) and r.hits for r in results[len(batches) :])
    assert index.most_active_writes == 1
    assert threading.get_ident() not in index.threads
    assert await catalogue.doc_count() == len(CORPUS) + 60
    await catalogue.close()


async def test_loop_keeps_serving_during_a_rebuild(tmp_path: Path) -> None:
    catalogue = AsyncCatalogueIndex(CatalogueIndex(tmp_path / "index"))
    works = [
        WorkDocument(n, f"中国近代史研究 第{n}卷 Volume {n}", authors=("蒋廷黻",))
        for n in range(600)
    ]
    ticks = 0

    async def heartbeat(stop: Callable[[], bool]) -> None:
        nonlocal ticks
        while not stop():
            ticks += 1
            await asyncio.sleep(0.005)

    rebuild = asyncio.ensure_future(catalogue.rebuild(works))
    await heartbeat(rebuild.done)
    assert await rebuild == 600
    assert ticks >= 5
    await catalogue.close()
