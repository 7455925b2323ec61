"""Catalogue search for readers: clean the query, ask the index, group hits by work with
availability and distances, filter, page, and log every search."""

from __future__ import annotations

import asyncio
import io
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

import zxingcpp
from PIL import Image, UnidentifiedImageError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.geo import haversine_km
from bot.models import (
    District,
    Item,
    ItemStatus,
    Library,
    LibraryKind,
    Reader,
    SearchLog,
    Work,
    utcnow,
)
from bot.services.errors import DomainError, InvalidInputError, NotFoundError
from bot.services.indexing import CatalogueIndexer
from search import IndexClosedError, IndexNotFoundError, SearchResult
from search.analysis import WEAK_WORDS
from search.isbn import isbn13

MAX_QUERY_CHARS = 200
PAGE_SIZE = 5
MAX_RESULTS = 100
# An author search fetches more, because it keeps only works with exactly that author.
AUTHOR_CANDIDATES = 300
INLINE_RESULTS = 20
LOGGED_QUERY_CHARS = 300
# Ids in callback data and links are re-checked; anything outside a database integer is bogus.
MAX_ID = 2**31 - 1
# A phone photo is a few megapixels; refuse anything that would take long to decode.
MAX_IMAGE_PIXELS = 40_000_000

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
_WORK_LINK = re.compile(r"wk_([0-9]{1,10})")


class SearchSource(StrEnum):
    """Where a search was typed."""

    CHAT = "chat"
    INLINE = "inline"


class LanguageFilter(StrEnum):
    """Works in one language only."""

    ANY = "x"
    CHINESE = "zh"
    ENGLISH = "en"


class KindFilter(StrEnum):
    """Holdings of one kind of library only."""

    ANY = "x"
    UNIVERSITY = "u"
    PUBLIC = "p"


class OriginKind(StrEnum):
    """What distances are measured from."""

    LOCATION = "location"
    DISTRICT = "district"
    NONE = "none"


_LANGUAGE_CODES = {LanguageFilter.CHINESE: "chi", LanguageFilter.ENGLISH: "eng"}
_LIBRARY_KINDS = {
    KindFilter.UNIVERSITY: LibraryKind.UNIVERSITY,
    KindFilter.PUBLIC: LibraryKind.PUBLIC,
}


class IndexNotReadyError(DomainError):
    """The search index is missing or being built; try again shortly."""


class EmptyQueryError(InvalidInputError):
    """The query has no letters or digits to search for."""


class PageOutOfRangeError(InvalidInputError):
    """The page asked for does not exist (any more)."""

    def __init__(self, pages: int) -> None:
        super().__init__(f"page out of range (there are {pages})")
        self.pages = pages


@dataclass(frozen=True)
class SearchFilters:
    """The reader's filters: available now, one language, one kind of library."""

    available: bool = False
    language: LanguageFilter = LanguageFilter.ANY
    kind: KindFilter = KindFilter.ANY

    @property
    def active(self) -> bool:
        return (
            self.available
            or self.language is not LanguageFilter.ANY
            or (self.kind is not KindFilter.ANY)
        )


@dataclass(frozen=True)
class CleanQuery:
    """A typed query made safe to search: bounded, one line, an ISBN recognised."""

    text: str
    truncated: bool
    isbn: str | None
    typed_length: int = 0

    @property
    def searchable(self) -> bool:
        return any(char.isalnum() for char in self.text)


@dataclass(frozen=True)
class ReaderOrigin:
    """Where distances are measured from: the reader's location, their district, or nowhere."""

    kind: OriginKind
    latitude: float | None = None
    longitude: float | None = None
    district_name: str | None = None
    district_name_en: str | None = None

    def distance_km(self, latitude: float, longitude: float) -> float | None:
        """Kilometres from here to the point, or None without an origin."""
        if self.latitude is None or self.longitude is None:
            return None
        return haversine_km(self.latitude, self.longitude, latitude, longitude)


@dataclass(frozen=True)
class LibraryPlace:
    """A library as a reader needs it: name, kind, address, hours and distance."""

    library_id: int
    code: str
    name: str
    name_en: str | None
    kind: LibraryKind
    address: str
    opening_hours: str
    distance_km: float | None


@dataclass(frozen=True)
class WorkFacts:
    """What identifies a work to a reader."""

    work_id: int
    title: str
    original_title: str | None
    authors: tuple[str, ...]
    original_authors: tuple[str, ...]
    year: int | None
    publisher: str | None
    language: str | None


@dataclass(frozen=True)
class WorkSummary:
    """One result line: the work and where copies are on the shelf."""

    work: WorkFacts
    copies: int
    available_copies: int
    holding_libraries: int
    available_libraries: int
    nearest_available: LibraryPlace | None


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
class LibraryHoldings:
    """A work's copies at one library: how many in each status, and their call numbers."""

    library: LibraryPlace
    statuses: tuple[tuple[ItemStatus, int], ...]
    call_numbers: tuple[str, ...]

    @property
    def available(self) -> int:
        return sum(count for status, count in self.statuses if status is ItemStatus.AVAILABLE)


@dataclass(frozen=True)
class WorkCard:
    """Everything about a work: facts, ISBNs, summary and holdings sorted by distance."""

    work: WorkFacts
    isbns: tuple[str, ...]
    subjects: tuple[str, ...]
    summary: str | None
    holdings: tuple[LibraryHoldings, ...]
    origin: ReaderOrigin

    @property
    def author(self) -> str | None:
        """The name "More by this author" searches for."""
        names = self.work.authors or self.work.original_authors
        return names[0] if names else None


@dataclass(frozen=True)
class LoggedSearch:
    """A search as it was logged (what purchase suggestions and "did you mean" start from)."""

    search_id: int
    query: str
    isbn: str | None
    hit_count: int


@dataclass(frozen=True)
class BarcodeReading:
    """What a photo showed: no barcode, a barcode that is not an ISBN, or an ISBN."""

    found: bool
    isbn: str | None = None


# --- query and origin -------------------------------------------------------------------


_WORD = re.compile(r"\w+")


def only_common_words(text: str) -> bool:
    """Whether the text is made only of words the index does not keep ("the", "of", "de")."""
    words = _WORD.findall(text.lower())
    return bool(words) and all(word in WEAK_WORDS for word in words)


def clean_query(raw: str) -> CleanQuery:
    """One line of at most MAX_QUERY_CHARS characters (cut at a space if one is near)."""
    text = _SPACES.sub(" ", _CONTROLS.sub(" ", raw)).strip()
    typed_length = len(text)
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        cut = text[:MAX_QUERY_CHARS]
        space = cut.rfind(" ")
        if text[MAX_QUERY_CHARS] != " " and space > MAX_QUERY_CHARS // 2:
            cut = cut[:space]
        text = cut.rstrip()
    isbn = isbn13(text)
    return CleanQuery(text=isbn or text, truncated=truncated, isbn=isbn, typed_length=typed_length)


async def reader_origin(session: AsyncSession, reader: Reader) -> ReaderOrigin:
    """The reader's shared location, else their district's centre, else no origin."""
    if reader.latitude is not None and reader.longitude is not None:
        return ReaderOrigin(OriginKind.LOCATION, reader.latitude, reader.longitude)
    if reader.district_id is not None:
        district = await session.get(District, reader.district_id)
        if district is not None:
            return ReaderOrigin(
                OriginKind.DISTRICT,
                district.latitude,
                district.longitude,
                district.name,
                district.name_en,
            )
    return ReaderOrigin(OriginKind.NONE)


def valid_id(value: int) -> bool:
    """Whether an id from a button or a link can name a row at all."""
    return 0 < value <= MAX_ID


# --- the index ------------------------------------------------------------------------


async def _index_search(
    indexer: CatalogueIndexer,
    text: str,
    *,
    limit: int,
    language: str | None = None,
    library_codes: Collection[str] | None = None,
) -> SearchResult:
    if not indexer.status.ready:
        raise IndexNotReadyError("the index is not ready")
    try:
        return await indexer.index.search(
            text, limit=limit, language=language, library_codes=library_codes
        )
    except (IndexNotFoundError, IndexClosedError) as exc:
        raise IndexNotReadyError("the index is not available") from exc


def _kind_condition(kind: KindFilter) -> list[ColumnElement[bool]]:
    if kind is KindFilter.ANY:
        return []
    return [Library.kind == _LIBRARY_KINDS[kind]]


async def _library_codes(session: AsyncSession, kind: KindFilter) -> list[str] | None:
    if kind is KindFilter.ANY:
        return None
    return list(await session.scalars(select(Library.code).where(*_kind_condition(kind))))


@dataclass(frozen=True)
class _Ranked:
    work_ids: list[int]
    index_total: int
    suggestion: str | None


def _has_author(work_authors: Sequence[str], original: Sequence[str], name: str) -> bool:
    wanted = name.casefold()
    return any(author.casefold() == wanted for author in (*work_authors, *original))


async def _ranked_works(
    session: AsyncSession,
    indexer: CatalogueIndexer,
    query: str,
    filters: SearchFilters,
    *,
    author: bool,
) -> _Ranked:
    """Work ids in relevance order, after the filters the index cannot apply."""
    result = await _index_search(
        indexer,
        query,
        limit=AUTHOR_CANDIDATES if author else MAX_RESULTS,
        language=_LANGUAGE_CODES.get(filters.language),
        library_codes=await _library_codes(session, filters.kind),
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
        available = set(
            await session.scalars(
                select(Item.work_id)
                .join(Library, Library.id == Item.library_id)
                .where(
                    Item.work_id.in_(ids),
                    Item.status == ItemStatus.AVAILABLE,
                    *_kind_condition(filters.kind),
                )
                .distinct()
            )
        )
        ids = [work_id for work_id in ids if work_id in available]
    return _Ranked(ids[:MAX_RESULTS], result.total, result.suggestion)


# --- grouping by work -----------------------------------------------------------------


def _facts(work: Work) -> WorkFacts:
    return WorkFacts(
        work_id=work.id,
        title=work.title,
        original_title=work.original_title,
        authors=tuple(work.authors or ()),
        original_authors=tuple(work.original_authors or ()),
        year=work.year,
        publisher=work.publisher,
        language=work.language,
    )


def _place(library: Library, origin: ReaderOrigin) -> LibraryPlace:
    return LibraryPlace(
        library_id=library.id,
        code=library.code,
        name=library.name,
        name_en=library.name_en,
        kind=library.kind,
        address=library.address,
        opening_hours=library.opening_hours,
        distance_km=origin.distance_km(library.latitude, library.longitude),
    )


def _by_distance(place: LibraryPlace) -> tuple[float, str]:
    return (math.inf if place.distance_km is None else place.distance_km, place.name)


async def summaries(
    session: AsyncSession,
    work_ids: Sequence[int],
    origin: ReaderOrigin,
    kind: KindFilter = KindFilter.ANY,
) -> list[WorkSummary]:
    """Result lines for the works in the given order, in three queries whatever their number."""
    if not work_ids:
        return []
    found = await session.scalars(select(Work).where(Work.id.in_(work_ids)))
    works = {work.id: work for work in found}
    rows = (
        await session.execute(
            select(Item.work_id, Item.library_id, Item.status, func.count(Item.id))
            .join(Library, Library.id == Item.library_id)
            .where(Item.work_id.in_(work_ids), *_kind_condition(kind))
            .group_by(Item.work_id, Item.library_id, Item.status)
        )
    ).all()
    library_ids = {library_id for _, library_id, _, _ in rows}
    places = {
        library.id: _place(library, origin)
        for library in await session.scalars(select(Library).where(Library.id.in_(library_ids)))
    }
    counts: dict[int, dict[int, dict[ItemStatus, int]]] = {}
    for work_id, library_id, status, count in rows:
        counts.setdefault(work_id, {}).setdefault(library_id, {})[status] = count
    result = []
    for work_id in work_ids:
        work = works.get(work_id)
        if work is None:
            continue
        libraries = counts.get(work_id, {})
        with_available = [
            places[library_id]
            for library_id, statuses in libraries.items()
            if statuses.get(ItemStatus.AVAILABLE, 0) > 0
        ]
        result.append(
            WorkSummary(
                work=_facts(work),
                copies=sum(sum(statuses.values()) for statuses in libraries.values()),
                available_copies=sum(
                    statuses.get(ItemStatus.AVAILABLE, 0) for statuses in libraries.values()
                ),
                holding_libraries=len(libraries),
                available_libraries=len(with_available),
                nearest_available=min(with_available, key=_by_distance, default=None),
            )
        )
    return result


# --- searches -------------------------------------------------------------------------


async def _log(
    session: AsyncSession, reader: Reader, query: str, hit_count: int, source: SearchSource
) -> SearchLog:
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


async def _own_log(session: AsyncSession, reader: Reader, search_id: int) -> SearchLog:
    log = None
    if valid_id(search_id):
        log = await session.scalar(
            select(SearchLog).where(SearchLog.id == search_id, SearchLog.reader_id == reader.id)
        )
    if log is None:
        raise NotFoundError("search")
    return log


async def _page(
    session: AsyncSession,
    *,
    log: SearchLog,
    ranked: _Ranked,
    cleaned: CleanQuery,
    filters: SearchFilters,
    page: int,
    author: bool,
    origin: ReaderOrigin,
) -> SearchPage:
    total = len(ranked.work_ids)
    pages = max(1, -(-total // PAGE_SIZE))
    if not 0 <= page < pages:
        raise PageOutOfRangeError(pages)
    on_page = ranked.work_ids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    unmatched = ranked.index_total == 0 and not author
    too_common = unmatched and only_common_words(cleaned.text)
    return SearchPage(
        search_id=log.id,
        query=cleaned.text,
        truncated=cleaned.truncated,
        typed_length=cleaned.typed_length,
        isbn=cleaned.isbn,
        author=author,
        filters=filters,
        page=page,
        pages=pages,
        total=total,
        more_than_shown=ranked.index_total > MAX_RESULTS,
        works=tuple(await summaries(session, on_page, origin, filters.kind)),
        suggestion=ranked.suggestion if unmatched else None,
        can_suggest_purchase=(
            unmatched and not too_common and not filters.active and log.hit_count == 0
        ),
        origin=origin,
        too_common=too_common,
    )


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
    filters = SearchFilters()
    ranked = await _ranked_works(session, indexer, cleaned.text, filters, author=False)
    log = await _log(session, reader, cleaned.text, ranked.index_total, source)
    origin = await reader_origin(session, reader)
    first = await _page(
        session,
        log=log,
        ranked=ranked,
        cleaned=cleaned,
        filters=filters,
        page=0,
        author=False,
        origin=origin,
    )
    # One transaction for the log and the page: the page's pagination keys on the log's id.
    await session.commit()
    return first


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
    log = await _own_log(session, reader, search_id)
    cleaned = CleanQuery(text=log.query, truncated=False, isbn=clean_query(log.query).isbn)
    ranked = await _ranked_works(session, indexer, log.query, filters, author=author)
    origin = await reader_origin(session, reader)
    return await _page(
        session,
        log=log,
        ranked=ranked,
        cleaned=cleaned,
        filters=filters,
        page=page,
        author=author,
        origin=origin,
    )


async def search_suggestion(
    session: AsyncSession, indexer: CatalogueIndexer, reader: Reader, search_id: int
) -> SearchPage:
    """Search for the "did you mean" correction of one of the reader's searches."""
    log = await _own_log(session, reader, search_id)
    result = await _index_search(indexer, log.query, limit=1)
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
    cleaned = clean_query(names[0])
    filters = SearchFilters()
    ranked = await _ranked_works(session, indexer, cleaned.text, filters, author=True)
    log = await _log(session, reader, cleaned.text, len(ranked.work_ids), SearchSource.CHAT)
    origin = await reader_origin(session, reader)
    first = await _page(
        session,
        log=log,
        ranked=ranked,
        cleaned=cleaned,
        filters=filters,
        page=0,
        author=True,
        origin=origin,
    )
    await session.commit()
    return first


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
    ranked = await _ranked_works(session, indexer, cleaned.text, SearchFilters(), author=False)
    await _log(session, reader, cleaned.text, ranked.index_total, SearchSource.INLINE)
    await session.commit()
    return await summaries(session, ranked.work_ids[:limit], origin)


async def logged_search(session: AsyncSession, reader: Reader, search_id: int) -> LoggedSearch:
    """One of the reader's own logged searches (NotFoundError for anybody else's)."""
    log = await _own_log(session, reader, search_id)
    return LoggedSearch(
        search_id=log.id,
        query=log.query,
        isbn=clean_query(log.query).isbn,
        hit_count=log.hit_count,
    )


# --- the work card --------------------------------------------------------------------


# Holdings list statuses in the order ItemStatus declares them (available first).
_STATUS_RANK = {status: rank for rank, status in enumerate(ItemStatus)}


async def work_card(session: AsyncSession, reader: Reader, work_id: int) -> WorkCard:
    """A work with its holdings per library, nearest first (NotFoundError if unknown)."""
    work = None
    if valid_id(work_id):
        found = await session.scalars(
            select(Work).where(Work.id == work_id).options(joinedload(Work.isbns))
        )
        work = found.unique().one_or_none()
    if work is None:
        raise NotFoundError("work")
    origin = await reader_origin(session, reader)
    rows = (
        await session.execute(
            select(Item.status, Item.call_number, Library)
            .join(Library, Library.id == Item.library_id)
            .where(Item.work_id == work.id)
            .order_by(Item.id)
        )
    ).all()
    places: dict[int, LibraryPlace] = {}
    statuses: dict[int, dict[ItemStatus, int]] = {}
    call_numbers: dict[int, dict[str, None]] = {}
    for status, call_number, library in rows:
        places.setdefault(library.id, _place(library, origin))
        counts = statuses.setdefault(library.id, {})
        counts[status] = counts.get(status, 0) + 1
        if call_number:
            call_numbers.setdefault(library.id, {})[call_number] = None
    holdings = [
        LibraryHoldings(
            library=place,
            statuses=tuple(
                sorted(statuses[library_id].items(), key=lambda pair: _STATUS_RANK[pair[0]])
            ),
            call_numbers=tuple(call_numbers.get(library_id, {})),
        )
        for library_id, place in places.items()
    ]
    holdings.sort(key=lambda holding: _by_distance(holding.library))
    return WorkCard(
        work=_facts(work),
        isbns=tuple(isbn.isbn for isbn in work.isbns),
        subjects=tuple(work.subjects or ()),
        summary=work.summary,
        holdings=tuple(holdings),
        origin=origin,
    )


# --- barcodes -------------------------------------------------------------------------


def decode_isbn_barcode(image: bytes) -> BarcodeReading:
    """Find a book's ISBN barcode (EAN-13 starting 978/979) in a picture; blocking."""
    try:
        with Image.open(io.BytesIO(image)) as picture:
            if picture.width * picture.height > MAX_IMAGE_PIXELS:
                return BarcodeReading(found=False)
            barcodes = zxingcpp.read_barcodes(picture.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return BarcodeReading(found=False)
    texts = [str(barcode.text).strip() for barcode in barcodes if barcode.text]
    for text in texts:
        if re.fullmatch(r"97[89][0-9]{10}|[0-9]{9}[0-9Xx]", text):
            isbn = isbn13(text)
            if isbn is not None:
                return BarcodeReading(found=True, isbn=isbn)
    return BarcodeReading(found=bool(texts))


async def read_isbn_barcode(image: bytes) -> BarcodeReading:
    """decode_isbn_barcode off the event loop."""
    return await asyncio.to_thread(decode_isbn_barcode, image)
