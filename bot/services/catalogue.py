"""Catalogue look-ups for the command line: ranked works from the index, read from the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.models import Work
from search.aio import AsyncCatalogueIndex

MAX_LIMIT = 100


@dataclass(frozen=True)
class WorkHit:
    """One work found by a search, with what a listing shows."""

    work_id: int
    title: str
    original_title: str | None
    authors: list[str]
    isbns: list[str]
    year: int | None
    score: float


async def search_works(
    index: AsyncCatalogueIndex, session: AsyncSession, query: str, *, limit: int = 10
) -> list[WorkHit]:
    """The top works for a typed query, best first (works gone from the database are dropped)."""
    result = await index.search(query, limit=max(1, min(limit, MAX_LIMIT)))
    ids = [hit.work_id for hit in result.hits]
    if not ids:
        return []
    works = {
        work.id: work
        for work in await session.scalars(
            select(Work).where(Work.id.in_(ids)).options(selectinload(Work.isbns))
        )
    }
    return [
        WorkHit(
            work_id=work.id,
            title=work.title,
            original_title=work.original_title,
            authors=list(work.authors or []),
            isbns=[isbn.isbn for isbn in work.isbns],
            year=work.year,
            score=round(hit.score, 4),
        )
        for hit in result.hits
        if (work := works.get(hit.work_id)) is not None
    ]
