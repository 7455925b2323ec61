"""Plain data passed into and out of the catalogue index."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkDocument:
    """One bibliographic work as the index sees it."""

    work_id: int
    title: str
    original_title: str | None = None
    authors: tuple[str, ...] = ()
    original_authors: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    publisher: str | None = None
    isbns: tuple[str, ...] = ()
    language: str | None = None
    year: int | None = None
    library_codes: tuple[str, ...] = ()
    summary: str | None = None
    # Parallel, variant and pinyin titles, searched like titles (CNMARC 200/510/517).
    variant_titles: tuple[str, ...] = ()
    # Chinese Library Classification numbers (CNMARC 690); their top classes are a filter.
    clc_numbers: tuple[str, ...] = ()
    # Titles the work's own record gives besides its title (uniform, parallel, original).
    other_titles: tuple[str, ...] = ()
    # Titles of the other editions and translations of the same work, so that a search in
    # one language finds the edition in another.
    related_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    """One matching work and its relevance score."""

    work_id: int
    score: float


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits, the total number of matches, and an optional "did you mean" query."""

    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    suggestion: str | None = None
    isbn_query: bool = False
