"""Asking the catalogue index: work ids in relevance order, with the reader's filters."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Item, ItemStatus, Library, Work
from bot.services.errors import DomainError
from bot.services.indexing import CatalogueIndexer
from bot.services.search.holdings import kind_condition
from bot.services.search.query import LANGUAGE_CODES, KindFilter, SearchFilters
from bot.services.subjects import CLC_CLASSES
from search import IndexClosedError, IndexNotFoundError, SearchResult

MAX_RESULTS = 100
# An author search fetches more, because it keeps only works with exactly that author.
AUTHOR_CANDIDATES = 300


class IndexNotReadyError(DomainError):
    """The search index is missing or being built; try again shortly."""


@dataclass(frozen=True)
class RankedWorks:
    """Work ids in relevance order, how many the index matched, and its "did you mean"."""

    work_ids: list[int]
    index_total: int
    suggestion: str | None


async def index_search(
    indexer: CatalogueIndexer,
    text: str,
    *,
    limit: int,
    language: str | None = None,
    library_codes: Collection[str] | None = None,
    clc_class: str | None = None,
) -> SearchResult:
    """Search the index (IndexNotReadyError while it is missing or being built)."""
    if not indexer.status.ready:
        raise IndexNotReadyError("the index is not ready")
    try:
        return await indexer.index.search(
            text, limit=limit, language=language, library_codes=library_codes, clc_class=clc_class
        )
    except (IndexNotFoundError, IndexClosedError) as exc:
        raise IndexNotReadyError("the index is not available") from exc


async def _library_codes(session: AsyncSession, kind: KindFilter) -> list[str] | None:
    if kind is KindFilter.ANY:
        return None
    return list(await session.scalars(select(Library.code).where(*kind_condition(kind))))


def _has_author(work_authors: Sequence[str], original: Sequence[str], name: str) -> bool:
    wanted = name.casefold()
    return any(author.casefold() == wanted for author in (*work_authors, *original))


async def _available(session: AsyncSession, work_ids: list[int], kind: KindFilter) -> set[int]:
    """Which of the works have a copy on the shelf (at a library of the kind asked for)."""
    return set(
        await session.scalars(
            select(Item.work_id)
            .join(Library, Library.id == Item.library_id)
            .where(
                Item.work_id.in_(work_ids),
                Item.status == ItemStatus.AVAILABLE,
                *kind_condition(kind),
            )
            .distinct()
        )
    )


async def ranked_works(
    session: AsyncSession,
    indexer: CatalogueIndexer,
    query: str,
    filters: SearchFilters,
    *,
    author: bool,
) -> RankedWorks:
    """Work ids in relevance order, after the filters the index cannot apply."""
    result = await index_search(
        indexer,
        query,
        limit=AUTHOR_CANDIDATES if author else MAX_RESULTS,
        language=LANGUAGE_CODES.get(filters.language),
        library_codes=await _library_codes(session, filters.kind),
        clc_class=filters.subject if filters.subject in CLC_CLASSES else None,
    )
    ids = list(dict.fromkeys(hit.work_id for hit in result.hits))
    if ids:
        # The index may lag behind the catalogue: keep works that still exist.
        rows = await session.execute(
            select(Work.id, Work.authors, Work.original_authors).where(Work.id.in_(ids))
        )
        known = {
            work_id: (authors or [], original or []) for work_id, authors, original in rows.all()
        }
        ids = [work_id for work_id in ids if work_id in known]
        if author:
            ids = [work_id for work_id in ids if _has_author(*known[work_id], query)]
    if filters.available and ids:
        available = await _available(session, ids, filters.kind)
        ids = [work_id for work_id in ids if work_id in available]
    return RankedWorks(ids[:MAX_RESULTS], result.total, result.suggestion)
