"""Every search is logged: what purchase suggestions, paging and "did you mean" start from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import insert_new, write
from bot.models import Reader, SearchedWork, SearchLog, Work, utcnow
from bot.services.errors import NotFoundError
from bot.services.search.query import SearchSource, clean_query, valid_id

LOGGED_QUERY_CHARS = 300


@dataclass(frozen=True)
class LoggedSearch:
    """A search as it was logged (what purchase suggestions and "did you mean" start from)."""

    search_id: int
    query: str
    isbn: str | None
    hit_count: int


async def log_search(
    session: AsyncSession, reader: Reader, query: str, hit_count: int, source: SearchSource
) -> SearchLog:
    """Add the search to the log (flushed, so it has its id; the caller commits)."""
    log = SearchLog(
        reader_id=reader.id,
        district_id=reader.district_id,
        query=query[:LOGGED_QUERY_CHARS],
        hit_count=hit_count,
        source=source.value,
        created_at=utcnow(),
    )
    session.add(log)
    await session.flush()
    return log


async def own_log(session: AsyncSession, reader: Reader, search_id: int) -> SearchLog:
    """One of the reader's own log rows (NotFoundError for anybody else's)."""
    log = None
    if valid_id(search_id):
        log = await session.scalar(
            select(SearchLog).where(SearchLog.id == search_id, SearchLog.reader_id == reader.id)
        )
    if log is None:
        raise NotFoundError("search")
    return log


async def logged_search(session: AsyncSession, reader: Reader, search_id: int) -> LoggedSearch:
    """One of the reader's own logged searches (NotFoundError for anybody else's)."""
    log = await own_log(session, reader, search_id)
    return LoggedSearch(
        search_id=log.id,
        query=log.query,
        isbn=clean_query(log.query).isbn,
        hit_count=log.hit_count,
    )


async def log_searched_work(
    session: AsyncSession, reader: Reader, search_id: int, work_id: int, today: date
) -> None:
    """The reader opened a work's card from the results of one of their own searches.

    What "most searched-for" counts (as a discovery layer counts click-throughs from its
    results): one row per reader, work and day, however often they open it. One statement:
    it inserts nothing when the search is not the reader's or the work is gone.
    """
    if not (valid_id(search_id) and valid_id(work_id)):
        return
    found = (
        select(literal(reader.id), Work.id, literal(today))
        .join(SearchLog, SearchLog.id == search_id)
        .where(Work.id == work_id, SearchLog.reader_id == reader.id)
    )
    async with write(session):
        await session.execute(
            insert_new(session, SearchedWork).from_select(["reader_id", "work_id", "day"], found)
        )
