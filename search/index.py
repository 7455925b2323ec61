"""The catalogue index: incremental writes, atomic rebuilds and pooled, refreshed searchers."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError
from whoosh.query import And, Query, Term
from whoosh.reading import TermNotFound
from whoosh.util.filelock import FileLock

from search.analysis import warm_up as load_chinese_tools
from search.documents import SearchHit, SearchResult, WorkDocument
from search.queries import QueryBuilder, QueryPlan, plan_query
from search.schema import build_schema, document_fields, fingerprint, library_term
from search.typos import KnownTerms
from search.vocabulary import GenerationVocabularies, Vocabulary
from search.writing import index_writer

MAX_LIMIT = 1000
PROGRESS_EVERY = 1000
# A rebuild known to hold fewer works than this is written in the calling process. Worker
# processes are forked, and a fork copies every open descriptor of the process: one that
# lands while another thread is starting a subprocess keeps that subprocess's exec-status
# pipe open, and the starting thread then waits for the worker to exit. The bot rebuilds
# a missing index in a thread beside its event loop, so forking is kept for builds large
# enough to gain from it.
PARALLEL_FROM = 10_000
MAX_IDLE_SEARCHERS = 8
# Sets of libraries whose holdings a pooled searcher remembers (see _held_at).
MAX_REMEMBERED_HOLDINGS = 8

_POINTER = "CURRENT"
_WRITE_LOCK = "WRITELOCK"
_GENERATION_RE = re.compile(r"gen-[0-9]{14}-[0-9a-f]{8}")
_TOC_RE = re.compile(r"_MAIN_[0-9]+\.toc")
_OPEN_ATTEMPTS = 3


def _storage(path: Path) -> Any:
    # With mmap, Whoosh copies every segment file it opens into memory (a BytesIO of the
    # map), per searcher: on 250,000 works that is ~700 MB and ~300 ms for each one.
    return FileStorage(str(path), supports_mmap=False)


@dataclass(frozen=True)
class _Lease:
    """A pooled searcher lent to one thread, with the index version it reads."""

    version: int
    directory: Path
    searcher: Any
    # This searcher's docnums of the works held at a set of libraries, by library terms.
    holdings: dict[frozenset[str], set[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Scope:
    """What a search may return: documents passing the clauses and, if set, held there."""

    clauses: list[Query]
    held: set[int] | None = None


def _held_at(lease: _Lease, library_codes: Collection[str]) -> set[int]:
    """The docnums (the lease's searcher's) of the works held at any of the libraries.

    Searches take them as Whoosh's ``filter``, which selects documents without scoring them.
    (As zero-boost clauses of the query, three or more library codes matched nothing: Whoosh
    preloads such a union and keeps only the documents that score above zero.) They are
    remembered with the pooled searcher, since a reader pages and filters one search.
    """
    terms = frozenset(library_term(code) for code in library_codes if code.strip())
    held = lease.holdings.get(terms)
    if held is None:
        reader = lease.searcher.reader()
        held = set()
        for term in terms:
            with suppress(TermNotFound):
                held.update(reader.postings("library", term).all_ids())
        if len(lease.holdings) >= MAX_REMEMBERED_HOLDINGS:
            lease.holdings.clear()
        lease.holdings[terms] = held
    return held


class IndexNotFoundError(LookupError):
    """The index directory holds no index yet (call create() or rebuild())."""


class IndexClosedError(RuntimeError):
    """The index was closed."""


class CatalogueIndex:
    """Whoosh catalogue index in a directory.

    The directory holds generations (``gen-*``) and a ``CURRENT`` file naming the live one;
    a rebuild writes a new generation and replaces ``CURRENT`` atomically. Writes are
    serialised by a thread lock and a file lock (so also across processes); searchers are
    pooled, each used by one thread at a time, and replaced after every write.
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        limitmb: int = 256,
        refresh_interval: float = 1.0,
        procs: int | None = None,
        build_limitmb: int = 1024,
    ) -> None:
        self._root = Path(index_dir)
        self._schema = build_schema()
        self._queries = QueryBuilder(self._schema)
        self._limitmb = limitmb
        # Postings a rebuild's worker holds before it sorts them out to a temporary run:
        # every run is read back and merged at the end, so fewer runs, less work.
        self._build_limitmb = build_limitmb
        # Worker processes analysing works in a rebuild (each writes its own segment).
        self._procs = max(1, procs if procs is not None else min(2, os.cpu_count() or 1))
        # How often to look for changes written by other processes.
        self._refresh_interval = refresh_interval
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._ix: Any = None
        self._ix_dir: Path | None = None
        self._ix_generation = -1
        self._version = 0
        self._idle: list[_Lease] = []
        self._checked_at = 0.0
        self._closed = False
        self._spelling = self._schema["spelling"].analyzer
        self._pinyin = self._schema["pinyin"].analyzer
        self._vocabularies = GenerationVocabularies()

    @property
    def root(self) -> Path:
        """The index folder (INDEX_DIR)."""
        return self._root

    # -- directory layout ------------------------------------------------------------

    def _current_dir(self) -> Path | None:
        try:
            name = (self._root / _POINTER).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not _GENERATION_RE.fullmatch(name):
            return None
        path = self._root / name
        try:
            # Listing, not opening: a concurrent commit may delete the TOC it would open.
            has_toc = any(_TOC_RE.fullmatch(entry) for entry in os.listdir(path))
        except OSError:
            return None
        return path if has_toc else None

    def _point_to(self, generation_dir: Path) -> None:
        temporary = self._root / f".{_POINTER}.{uuid.uuid4().hex}"
        with open(temporary, "w", encoding="ascii") as pointer:
            pointer.write(generation_dir.name + "\n")
            pointer.flush()
            os.fsync(pointer.fileno())
        os.replace(temporary, self._root / _POINTER)
        if hasattr(os, "O_DIRECTORY"):
            descriptor = os.open(self._root, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def _new_generation_dir(self) -> Path:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        path = self._root / f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def _remove_stale_generations(self) -> None:
        """Delete generations other than the live one (callers hold the write locks)."""
        current = self._current_dir()
        for child in self._root.iterdir():
            stale = child.name.startswith("gen-") or child.name.startswith(f".{_POINTER}.")
            if stale and child != current:
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    with suppress(OSError):
                        child.unlink()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._write_lock:
            self._check_open()
            self._root.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self._root / _WRITE_LOCK))
            lock.acquire(blocking=True)
            try:
                yield
            finally:
                lock.release()

    # -- searchers ---------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise IndexClosedError(f"catalogue index {self._root} is closed")

    def _sync_locked(self, *, force: bool = False) -> None:
        """Open the live generation, noticing changes made elsewhere (state lock held)."""
        now = time.monotonic()
        if not force and self._ix is not None and now - self._checked_at < self._refresh_interval:
            return
        self._checked_at = now
        current = self._current_dir()
        if current is None:
            if self._ix is not None:
                self._ix, self._ix_dir, self._ix_generation = None, None, -1
                self._version += 1
            return
        if current != self._ix_dir:
            self._ix = _storage(current).open_index(schema=self._schema)
            self._ix_dir = current
            self._ix_generation = self._ix.latest_generation()
            self._version += 1
            return
        generation = self._ix.latest_generation()
        if generation != self._ix_generation:
            self._ix_generation = generation
            self._version += 1

    def _changed(self) -> None:
        """Mark every pooled searcher stale after a write in this process."""
        with self._state_lock:
            self._sync_locked(force=True)
            self._version += 1
            stale, self._idle = self._idle, []
        for lease in stale:
            lease.searcher.close()

    def _acquire(self) -> _Lease:
        """A searcher on the live index, from the pool if it is still current."""
        attempt = 0
        while True:
            stale: list[_Lease] = []
            try:
                with self._state_lock:
                    self._check_open()
                    self._sync_locked(force=attempt > 0)
                    if self._ix is None or self._ix_dir is None:
                        raise IndexNotFoundError(f"no catalogue index in {self._root}")
                    version, directory, ix = self._version, self._ix_dir, self._ix
                    lease = None
                    while self._idle and lease is None:
                        candidate = self._idle.pop()
                        if candidate.version == version:
                            lease = candidate
                        else:
                            stale.append(candidate)
                return lease or _Lease(version, directory, ix.searcher())
            except (OSError, EmptyIndexError):
                # A commit or rebuild (maybe in another process) removed files we were
                # about to open: look for the live generation again.
                attempt += 1
                if attempt == _OPEN_ATTEMPTS:
                    raise
            finally:
                for old in stale:
                    old.searcher.close()

    @contextmanager
    def _lease(self) -> Iterator[_Lease]:
        lease = self._acquire()
        try:
            yield lease
        finally:
            with self._state_lock:
                keep = (
                    not self._closed
                    and lease.version == self._version
                    and len(self._idle) < MAX_IDLE_SEARCHERS
                )
                if keep:
                    self._idle.append(lease)
            if not keep:
                lease.searcher.close()

    def _vocabulary_for(self, lease: _Lease, fieldname: str = "spelling") -> Vocabulary:
        """A typo vocabulary of the lease's generation, loaded from the index if need be.

        "spelling": title and author words; "pinyin": pinyin syllables and syllable pairs.
        """
        return self._vocabularies.get(lease.directory, fieldname, lease.searcher.reader())

    def _known_terms(self, lease: _Lease) -> KnownTerms:
        return KnownTerms(
            spelling=lambda: self._vocabulary_for(lease),
            pinyin=lambda: self._vocabulary_for(lease, "pinyin"),
        )

    # -- public API --------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load jieba, OpenCC, a searcher and the typo vocabulary now rather than on first use."""
        load_chinese_tools()
        with suppress(IndexNotFoundError), self._lease() as lease:
            self._vocabulary_for(lease)
            self._vocabulary_for(lease, "pinyin")

    def exists(self) -> bool:
        """Return True if the directory holds a live index."""
        return self._current_dir() is not None

    def create(self) -> None:
        """Create an empty index, replacing any existing one."""
        self.rebuild(())

    def upsert(self, docs: Iterable[WorkDocument]) -> int:
        """Add or replace works by work_id; return how many were new or changed."""
        with self._exclusive():
            current = self._current_dir()
            if current is None:
                written = self._build(docs, None)
                self._remove_stale_generations()
            else:
                ix = _storage(current).open_index(schema=self._schema)
                terms: dict[str, set[str]] = {"spelling": set(), "pinyin": set()}
                try:
                    written = self._write(ix, docs, terms, fresh=False, progress=None)
                finally:
                    ix.close()
                self._vocabularies.learn(current, terms, fresh=False)
            if written or current is None:
                self._changed()
        return written

    def delete(self, work_ids: Iterable[int]) -> int:
        """Remove works by id; return how many were in the index."""
        with self._exclusive():
            current = self._current_dir()
            if current is None:
                return 0
            ix = _storage(current).open_index(schema=self._schema)
            try:
                writer = ix.writer()
                try:
                    deleted = sum(
                        writer.delete_by_term("work_id", str(work_id))
                        for work_id in dict.fromkeys(work_ids)
                    )
                except BaseException:
                    writer.cancel()
                    raise
                if deleted:
                    writer.commit()
                else:
                    writer.cancel()
            finally:
                ix.close()
            if deleted:
                self._changed()
        return int(deleted)

    def rebuild(
        self,
        docs: Iterable[WorkDocument],
        *,
        progress: Callable[[int], None] | None = None,
        expected: int | None = None,
    ) -> int:
        """Index all works into a fresh generation and swap it in; return the number indexed.

        ``expected`` is how many works ``docs`` holds, when the caller knows: a rebuild of
        fewer than ``PARALLEL_FROM`` works stays in this process.
        """
        parallel = expected is None or expected >= PARALLEL_FROM
        with self._exclusive():
            count = self._build(docs, progress, parallel=parallel)
            self._changed()
            self._remove_stale_generations()
        return count

    def doc_count(self) -> int:
        """Number of works in the index (0 if there is no index)."""
        try:
            with self._lease() as lease:
                return int(lease.searcher.doc_count())
        except IndexNotFoundError:
            return 0

    def search(
        self,
        query: str,
        *,
        limit: int = 50,
        language: str | None = None,
        library_codes: Collection[str] | None = None,
        clc_class: str | None = None,
    ) -> SearchResult:
        """Search the catalogue for plain typed text (words, Chinese, pinyin or an ISBN).

        ``clc_class`` keeps works of one top class (a letter) of the Chinese Library
        Classification.
        """
        plan = plan_query(query)
        if plan.empty:
            return SearchResult()
        limit = max(1, min(limit, MAX_LIMIT))
        with self._lease() as lease:
            searcher, reader = lease.searcher, lease.searcher.reader()
            scope = _Scope(self._queries.filters(language))
            if clc_class:
                scope.clauses.append(Term("clc", clc_class.strip().upper(), boost=0.0))
            if library_codes is not None:
                scope = _Scope(scope.clauses, _held_at(lease, library_codes))
                if not scope.held:
                    return SearchResult(isbn_query=plan.isbn is not None)
            if plan.isbn is not None:
                hits, total = _run(searcher, self._queries.isbn(plan.isbn), scope, limit)
                return SearchResult(hits, total, None, True)
            hits, total = _run(searcher, self._queries.strict(plan, reader), scope, limit)
            corrections = self._queries.corrections(
                plan, searcher, self._known_terms(lease), exact_total=total
            )
            if corrections:
                tolerant = self._queries.strict(plan, reader, corrections)
                near, total = _run(searcher, tolerant, scope, limit + len(hits))
                hits = _exact_first(hits, near, limit)
            if total == 0:
                vocabulary = self._vocabulary_for(lease)
                loose = self._queries.loose(plan, reader, vocabulary)
                hits, total = _run(searcher, loose, scope, limit)
            suggestion = None
            if total == 0:
                suggestion = self._suggest(searcher, plan, scope, self._known_terms(lease))
        return SearchResult(hits, total, suggestion, False)

    def close(self) -> None:
        """Close pooled searchers; later calls raise IndexClosedError."""
        with self._state_lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._ix = None
        for lease in idle:
            lease.searcher.close()

    # -- internals ---------------------------------------------------------------------

    def _suggest(
        self, searcher: Any, plan: QueryPlan, scope: _Scope, known: KnownTerms
    ) -> str | None:
        """A corrected query, offered only if it finds something."""
        reader = searcher.reader()
        vocabulary = known.spelling()
        suggestion = self._queries.suggest(plan, searcher, known)
        if suggestion is None:
            return None
        corrected = plan_query(suggestion)
        if _run(searcher, self._queries.strict(corrected, reader), scope, 1)[1]:
            return suggestion
        if _run(searcher, self._queries.loose(corrected, reader, vocabulary), scope, 1)[1]:
            return suggestion
        return None

    def _build(
        self,
        docs: Iterable[WorkDocument],
        progress: Callable[[int], None] | None,
        *,
        parallel: bool = False,
    ) -> int:
        target = self._new_generation_dir()
        # The title and author words are read back from the new index (pinyin terms when
        # first needed): one pass over a term list costs less than analysing every work twice.
        terms: dict[str, set[str]] = {}
        try:
            ix = _storage(target).create_index(self._schema)
            try:
                count = self._write(
                    ix, docs, terms, fresh=True, progress=progress, parallel=parallel
                )
                with ix.reader() as reader:
                    terms["spelling"] = set(reader.field_terms("spelling"))
            finally:
                ix.close()
            self._point_to(target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        self._vocabularies.learn(target, terms, fresh=True)
        return count

    def _write(
        self,
        ix: Any,
        docs: Iterable[WorkDocument],
        terms: dict[str, set[str]],
        *,
        fresh: bool,
        progress: Callable[[int], None] | None,
        parallel: bool = False,
    ) -> int:
        """Write works, collecting the terms of the fields ``terms`` names.

        In an existing index, works whose fingerprint is unchanged are skipped.
        """
        written = seen = 0
        # Ids written since the last commit: a repeat must be committed first, because
        # update_document cannot delete a document that is still in the writer's buffer.
        pending: set[int] = set()
        committed: set[int] = set()
        writer: Any = None
        searcher = None if fresh else ix.searcher()
        try:
            for doc in docs:
                if progress is not None and seen and seen % PROGRESS_EVERY == 0:
                    progress(seen)
                seen += 1
                if doc.work_id in pending:
                    writer.commit()
                    writer = None
                    committed |= pending
                    pending.clear()
                    if searcher is not None:
                        # Not Searcher.refresh(): it keeps reusing a segment reader whose
                        # deletions changed, so it would still see the replaced version.
                        searcher.close()
                        searcher = ix.searcher()
                if searcher is not None:
                    stored = searcher.document(work_id=str(doc.work_id))
                    if stored is not None and stored.get("fingerprint") == fingerprint(doc):
                        continue
                fields = document_fields(doc)
                for name, analyzer in (("spelling", self._spelling), ("pinyin", self._pinyin)):
                    if name in terms and name in fields:
                        terms[name].update(token.text for token in analyzer(fields[name]))
                if writer is None:
                    procs = self._procs if fresh and parallel else 1
                    limitmb = self._build_limitmb if fresh else self._limitmb
                    writer = index_writer(ix, procs=procs, limitmb=limitmb)
                if fresh and doc.work_id not in committed:
                    writer.add_document(**fields)
                else:
                    writer.update_document(**fields)
                pending.add(doc.work_id)
                written += 1
            if writer is not None:
                writer.commit()
                writer = None
        except BaseException:
            if writer is not None:
                writer.cancel()
            raise
        finally:
            if searcher is not None:
                searcher.close()
        if progress is not None:
            progress(seen)
        return written


def _exact_first(exact: list[SearchHit], near: list[SearchHit], limit: int) -> list[SearchHit]:
    """Hits of the query as typed, then those only its corrections found."""
    seen = {hit.work_id for hit in exact}
    return [*exact, *(hit for hit in near if hit.work_id not in seen)][:limit]


def _run(
    searcher: Any, query: Query | None, scope: _Scope, limit: int
) -> tuple[list[SearchHit], int]:
    """Run a query within the scope; return the top hits and the total match count."""
    if query is None:
        return [], 0
    if scope.clauses:
        query = And([query, *scope.clauses])
    results = searcher.search(query, limit=limit, filter=scope.held, optimize=False)
    hits = [SearchHit(int(hit["work_id"]), float(hit.score)) for hit in results]
    return hits, len(results)
