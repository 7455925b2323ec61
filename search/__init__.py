"""Catalogue search: Whoosh index with Chinese and English analysis, framework-free."""

from search.aio import AsyncCatalogueIndex
from search.documents import SearchHit, SearchResult, WorkDocument
from search.index import CatalogueIndex, IndexClosedError, IndexNotFoundError

__all__ = [
    "AsyncCatalogueIndex",
    "CatalogueIndex",
    "IndexClosedError",
    "IndexNotFoundError",
    "SearchHit",
    "SearchResult",
    "WorkDocument",
]
