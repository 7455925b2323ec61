"""Asyncio front for the catalogue index: Whoosh runs in worker threads, never on the loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Executor
from typing import ParamSpec, TypeVar

from search.documents import SearchResult, WorkDocument
from search.index import CatalogueIndex

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsyncCatalogueIndex:
    """Runs every CatalogueIndex call in an executor; writes wait for each other on the loop."""

    def __init__(self, index: CatalogueIndex, *, executor: Executor | None = None) -> None:
        self._index = index
        self._executor = executor
        self._write_lock = asyncio.Lock()

    @property
    def index(self) -> CatalogueIndex:
        """The wrapped synchronous index."""
        return self._index

    async def _call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def warm_up(self) -> None:
        """Load jieba, OpenCC, a searcher and the typo vocabulary now rather than on first use."""
        await self._call(self._index.warm_up)

    async def exists(self) -> bool:
        """Return True if the directory holds a live index."""
        return await self._call(self._index.exists)

    async def create(self) -> None:
        """Create an empty index, replacing any existing one."""
        async with self._write_lock:
            await self._call(self._index.create)

    async def upsert(self, docs: Iterable[WorkDocument]) -> int:
        """Add or replace works by work_id; return how many were new or changed."""
        async with self._write_lock:
            return await self._call(self._index.upsert, docs)

    async def delete(self, work_ids: Iterable[int]) -> int:
        """Remove works by id; return how many were in the index."""
        async with self._write_lock:
            return await self._call(self._index.delete, work_ids)

    async def rebuild(
        self,
        docs: Iterable[WorkDocument],
        *,
        progress: Callable[[int], None] | None = None,
        expected: int | None = None,
    ) -> int:
        """Rebuild from scratch and swap in atomically; progress is called from a worker thread."""
        async with self._write_lock:
            return await self._call(self._index.rebuild, docs, progress=progress, expected=expected)

    async def doc_count(self) -> int:
        """Number of works in the index."""
        return await self._call(self._index.doc_count)

    async def search(
        self,
        query: str,
        *,
        limit: int = 50,
        language: str | None = None,
        library_codes: Collection[str] | None = None,
        clc_class: str | None = None,
    ) -> SearchResult:
        """Search the catalogue for plain typed text (words, Chinese, pinyin or an ISBN)."""
        return await self._call(
            self._index.search,
            query,
            limit=limit,
            language=language,
            library_codes=library_codes,
            clc_class=clc_class,
        )

    async def close(self) -> None:
        """Wait for a running write, then close the index."""
        async with self._write_lock:
            await self._call(self._index.close)
