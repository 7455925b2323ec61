"""Catalogue search for readers: a logged search and its pages of results, grouped by work."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Reader, SearchLog, Work
from bot.services.errors import InvalidInputError, NotFoundError
from bot.services.indexing import CatalogueIndexer
from bot.services.search.holdings import WorkSummary, summaries
from bot.services.search.origin import ReaderOrigin, reader_origin
from bot.services.search.query import (
    CleanQuery,
    EmptyQueryError,
    SearchFilters,
    SearchSource,
    clean_query,
    only_common_words,
    valid_id,
)
from bot.services.search.ranking import MAX_RESULTS, RankedWorks, index_search, ranked_works
from bot.services.search.search_log import log_search, own_log

PAGE_SIZE = 5
INLINE_RESULTS = 20

_WORK_LINK = re.compile(r"wk_([0-9]{1,10})")


class PageOutOfRangeError(InvalidInputError):
    """The page asked for does not exist (any more)."""

    def __init__(self, pages: int) -> None:
        super().__init__(f"page out of range (there are {pages})")
        self.pages = pages


@dataclass(frozen=True)
class SearchPage:
    """One page of results for a logged search, with what the reader can do next."""

    search_id: int
    query: str
    truncated: bool
    typed_length: int
    isbn: str | None
    author: bool
    filters: SearchFilters
    page: int
    pages: int
    total: int
    more_than_shown: bool
    works: tuple[WorkSummary, ...]
    suggestion: str | None
    can_suggest_purchase: bool
    origin: ReaderOrigin
    # Every word is one the index leaves out ("the", "of"): nothing can match it alone.
    too_common: bool = False


@dataclass(frozen=True)
class _Asked:
    """What a page is of: the logged search, as typed, with the filters in force."""

    log: SearchLog
    cleaned: CleanQuery
    filters: SearchFilters
    author: bool


async def _page(
    session: AsyncSession,
    asked: _Asked,
    ranked: RankedWorks,
    origin: ReaderOrigin,
    page: int,
) -> SearchPage:
    total = len(ranked.work_ids)
    pages = max(1, -(-total // PAGE_SIZE))
    if not 0 <= page < pages:
        raise PageOutOfRangeError(pages)
    on_page = ranked.work_ids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    unmatched = ranked.index_total == 0 and not asked.author
    too_common = unmatched and only_common_words(asked.cleaned.text)
    return SearchPage(
        search_id=asked.log.id,
        query=asked.cleaned.text,
        truncated=asked.cleaned.truncated,
        typed_length=asked.cleaned.typed_length,
        isbn=asked.cleaned.isbn,
        author=asked.author,
        filters=asked.filters,
        page=page,
        pages=pages,
        total=total,
        more_than_shown=ranked.index_total > MAX_RESULTS,
        works=tuple(await summaries(session, on_page, origin, asked.filters.kind)),
        suggestion=ranked.suggestion if unmatched else None,
        can_suggest_purchase=(
            unmatched and not too_common and not asked.filters.active and asked.log.hit_count == 0
        ),
        origin=origin,
        too_common=too_common,
    )


async def _first_page(
    session: AsyncSession,
    indexer: CatalogueIndexer,
    reader: Reader,
    cleaned: CleanQuery,
    *,
    author: bool,
    source: SearchSource = SearchSource.CHAT,
) -> SearchPage:
    """Search, log the search, and return page one without filters."""
    filters = SearchFilters()
    ranked = await ranked_works(session, indexer, cleaned.text, filters, author=author)
    # An author search logs the works it keeps; a typed search what the index matched.
    hit_count = len(ranked.work_ids) if author else ranked.index_total
    async with write(session):
        log = await log_search(session, reader, cleaned.text, hit_count, source)
    origin = await reader_origin(session, reader)
    return await _page(session, _Asked(log, cleaned, filters, author), ranked, origin, 0)


async def search_catalogue(
    session: AsyncSession,
    indexer: CatalogueIndexer,
    reader: Reader,
    raw_query: str,
    *,
    source: SearchSource = SearchSource.CHAT,
) -> SearchPage:
    """Search for typed text (words, Chinese, pinyin or an ISBN), log it, return page one."""
    cleaned = clean_query(raw_query)
    if not cleaned.searchable:
        raise EmptyQueryError("nothing to search for")
    return await _first_page(session, indexer, reader, cleaned, author=False, source=source)


async def search_page(
    session: AsyncSession,
    indexer: CatalogueIndexer,
    reader: Reader,
    search_id: int,
    *,
    page: int,
    filters: SearchFilters,
    author: bool = False,
) -> SearchPage:
    """Another page, or other filters, of one of the reader's own logged searches."""
    log = await own_log(session, reader, search_id)
    cleaned = CleanQuery(text=log.query, truncated=False, isbn=clean_query(log.query).isbn)
    ranked = await ranked_works(session, indexer, log.query, filters, author=author)
    origin = await reader_origin(session, reader)
    return await _page(session, _Asked(log, cleaned, filters, author), ranked, origin, page)


async def search_suggestion(
    session: AsyncSession, indexer: CatalogueIndexer, reader: Reader, search_id: int
) -> SearchPage:
    """Search for the "did you mean" correction of one of the reader's searches."""
    log = await own_log(session, reader, search_id)
    result = await index_search(indexer, log.query, limit=1)
    if result.suggestion is None:
        raise NotFoundError("suggestion")
    return await search_catalogue(session, indexer, reader, result.suggestion)


async def search_author(
    session: AsyncSession, indexer: CatalogueIndexer, reader: Reader, work_id: int
) -> SearchPage:
    """Works by the (first) author of a work, logged as a search for the author's name."""
    work = await session.get(Work, work_id) if valid_id(work_id) else None
    if work is None:
        raise NotFoundError("work")
    names = work.authors or work.original_authors
    if not names:
        raise NotFoundError("author")
    return await _first_page(session, indexer, reader, clean_query(names[0]), author=True)


async def search_inline(
    session: AsyncSession,
    indexer: CatalogueIndexer,
    reader: Reader,
    raw_query: str,
    *,
    limit: int = INLINE_RESULTS,
) -> list[WorkSummary]:
    """Cards for "@bot query": the best matches, or exactly one work for ``wk_<id>``."""
    cleaned = clean_query(raw_query)
    if not cleaned.searchable:
        return []
    origin = await reader_origin(session, reader)
    link = _WORK_LINK.fullmatch(cleaned.text)
    if link is not None:
        work_id = int(link.group(1))
        return await summaries(session, [work_id], origin) if valid_id(work_id) else []
    ranked = await ranked_works(session, indexer, cleaned.text, SearchFilters(), author=False)
    async with write(session):
        await log_search(session, reader, cleaned.text, ranked.index_total, SearchSource.INLINE)
    return await summaries(session, ranked.work_ids[:limit], origin)
