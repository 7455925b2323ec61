"""Catalogue benchmark: import LoC records, build the index, run a fixed query mix.

    python -m bench.search [--records N] [--database-url URL] [--queries-per-kind K]

Imports the first N records of ``../shared/data/marc/loc-books-2016-part01.mrc.xz`` into a
fresh database (SQLite in a temporary folder, or a new database created on the PostgreSQL
server of ``--database-url`` and dropped afterwards) through the import service, rebuilds
the Whoosh index, and runs a query mix derived deterministically from the imported works:
known-item queries (English title words, surname plus a title word, ISBN-13, ISBN-10, the
simplified Chinese title of a record stored in traditional script, pinyin) and topical ones
(subject words, a two-character Chinese word). The baseline, in the same run, is SQLite
FTS5 (unicode61 tokenizer) over the same fields with the same queries: all words, else any
word, ranked by bm25 with the same field weights as the index. The last line is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import isbnlib
from opencc import OpenCC
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.search_copies import write_copy
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import District, Library, LibraryKind, Work, WorkIsbn
from bot.services.catalogue_import.report import ImportReport
from bot.services.catalogue_import.run import import_catalogue
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex

DATA = (
    Path(
        os.environ.get("BOOKBRIDGE_SHARED_DATA")
        or Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    / "marc"
)
SOURCE = DATA / "loc-books-2016-part01.mrc.xz"
LIBRARY = "BENCH"
SEED = 20_261_122
LIMIT = 10
WARMUP = 100
KNOWN_ITEM_KINDS = (
    "title words",
    "surname + title word",
    "ISBN-13",
    "ISBN-10",
    "simplified for traditional",
    "pinyin",
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Query:
    """One benchmark query; ``work_id`` is the wanted work for known-item queries."""

    kind: str
    text: str
    work_id: int | None
    # Translated titles: found if any of these (the other-language editions) is in the top 3.
    wanted: frozenset[int] = frozenset()


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of a list of numbers."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def folder_mb(path: Path) -> float:
    """Size of the files under a folder, in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


# --- database ----------------------------------------------------------------------------


async def _pg(url: str, statement: str) -> None:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def fresh_database(url: str | None, folder: Path) -> tuple[str, Callable[[], None]]:
    """A new empty database and a function that removes it."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'bench.db'}", lambda: None
    name = f"bookbridge_bench_{uuid.uuid4().hex[:10]}"
    url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(_pg(url, f"CREATE DATABASE {name}"))
    fresh = make_url(url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        asyncio.run(_pg(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    return fresh, drop


async def seed_library(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """One district and the library the records are imported for."""
    async with sessionmaker() as session:
        district = District(code="BENCH", name="Bench", population=1, latitude=0, longitude=0)
        session.add(district)
        await session.flush()
        session.add(
            Library(
                code=LIBRARY,
                name="Benchmark library",
                kind=LibraryKind.PUBLIC,
                district_id=district.id,
                latitude=0,
                longitude=0,
            )
        )
        await session.commit()


# --- the query mix -----------------------------------------------------------------------


def _main_title(title: str) -> str:
    return re.split(r"\s[:/=;]\s", title, maxsplit=1)[0]


async def _load(session: AsyncSession, ids: list[int]) -> list[Work]:
    return list(await session.scalars(select(Work).where(Work.id.in_(ids)).order_by(Work.id)))


async def translated_titles(
    sessionmaker: async_sessionmaker[AsyncSession], per_kind: int, max_id: int
) -> list[Query]:
    """A title of one edition, to find an edition in another language of the same work.

    Families (works sharing a family key) with at least two languages, among the works of
    the shared records themselves; each sampled edition's main title (six words at most)
    is the query, and any edition of the family in another language is a hit.
    """
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Work.id, Work.family_key, Work.language, Work.title, Work.original_title)
                .where(Work.family_key.is_not(None), Work.id <= max_id)
                .order_by(Work.family_key, Work.id)
            )
        ).all()
    families: dict[str, list[Any]] = {}
    for row in rows:
        families.setdefault(row.family_key, []).append(row)
    queries: list[Query] = []
    for members in families.values():
        if len({row.language for row in members}) < 2:
            continue
        for row in members:
            title = _main_title(row.original_title or row.title)
            words = title.split() if _HAN.search(title) else _WORD.findall(title)
            others = frozenset(m.id for m in members if m.language != row.language)
            queries.append(Query("translated title", " ".join(words[:6]), row.id, others))
    rng = random.Random(SEED)
    return rng.sample(queries, min(len(queries), per_kind))


async def query_mix(
    sessionmaker: async_sessionmaker[AsyncSession], per_kind: int, max_id: int | None = None
) -> list[Query]:
    """Known-item and topical queries derived from a fixed sample of the imported works.

    Only works up to ``max_id`` are sampled (the shared records, not their perturbed copies).
    """
    rng = random.Random(SEED)
    t2s = OpenCC("t2s")
    async with sessionmaker() as session:
        if max_id is None:
            max_id = await session.scalar(select(func.max(Work.id))) or 0
        all_ids = list(
            await session.scalars(select(Work.id).where(Work.id <= max_id).order_by(Work.id))
        )
        # Chinese-language works with an original-script title (Japanese and Korean titles
        # also carry Han characters, but their romanisation is not pinyin).
        chinese_ids = list(
            await session.scalars(
                select(Work.id)
                .where(Work.original_title.is_not(None), Work.language == "chi", Work.id <= max_id)
                .order_by(Work.id)
            )
        )
        isbn_ids = list(
            await session.scalars(
                select(WorkIsbn.work_id)
                .where(WorkIsbn.work_id <= max_id)
                .distinct()
                .order_by(WorkIsbn.work_id)
            )
        )
        latin = await _load(session, rng.sample(all_ids, min(len(all_ids), per_kind * 2)))
        chinese = await _load(session, rng.sample(chinese_ids, min(len(chinese_ids), per_kind * 2)))
        with_isbn = rng.sample(isbn_ids, min(len(isbn_ids), per_kind))
        isbn_rows = await session.execute(
            select(WorkIsbn.work_id, WorkIsbn.isbn)
            .where(WorkIsbn.work_id.in_(with_isbn), WorkIsbn.position == 0)
            .order_by(WorkIsbn.work_id)
        )
        isbns = [(row.work_id, row.isbn) for row in isbn_rows]
    queries: list[Query] = []
    latin = [w for w in latin if not _HAN.search(w.title) and w.original_title is None]
    for work in latin[:per_kind]:
        words = _WORD.findall(_main_title(work.title))
        queries.append(Query("title words", " ".join(words[:6]), work.id))
    authored = [w for w in latin if w.authors]
    for work in authored[:per_kind]:
        words = [w for w in _WORD.findall(_main_title(work.title)) if len(w) >= 4]
        if words:
            surname = work.authors[0].split(",")[0]
            queries.append(
                Query("surname + title word", f"{surname} {max(words, key=len)}", work.id)
            )
    for work_id, isbn in isbns:
        queries.append(Query("ISBN-13", isbn, work_id))
        ten = isbnlib.to_isbn10(isbn)
        if ten:
            queries.append(Query("ISBN-10", isbnlib.mask(ten), work_id))
    simplified_count = pinyin_count = 0
    for work in chinese:
        original = _main_title(work.original_title or "")
        simplified = str(t2s.convert(original))
        if simplified != original and simplified_count < per_kind:
            queries.append(Query("simplified for traditional", simplified, work.id))
            simplified_count += 1
        letters = [w for w in _WORD.findall(_main_title(work.title)) if w.isalpha()]
        if 2 <= len(_HAN.findall(original)) <= 8 and letters and pinyin_count < per_kind:
            queries.append(Query("pinyin", "".join(letters).lower(), work.id))
            pinyin_count += 1
    subjects = [s for w in latin for s in w.subjects[:1]]
    for subject in subjects[:per_kind]:
        queries.append(Query("topical (subject)", " ".join(_WORD.findall(subject)[:3]), None))
    words = [
        str(t2s.convert(pair))
        for work in chinese
        for pair in re.findall("[\u4e00-\u9fff]{2}", work.original_title or "")[:1]
    ]
    for word in words[: per_kind // 2]:
        queries.append(Query("topical (Chinese word)", word, None))
    queries += await translated_titles(sessionmaker, per_kind, max_id)
    return [q for q in queries if q.text.strip()]


# --- FTS5 baseline -----------------------------------------------------------------------

_FTS_WEIGHTS = "3.0, 3.0, 2.0, 0.8, 0.4, 1.0"


async def build_fts5(sessionmaker: async_sessionmaker[AsyncSession], path: Path) -> float:
    """An FTS5 table over the same fields as the index; returns the build time in seconds."""
    started = time.perf_counter()
    fts = sqlite3.connect(path)
    fts.execute(
        "CREATE VIRTUAL TABLE works USING fts5("
        "title, original_title, authors, subjects, publisher, isbns, tokenize='unicode61')"
    )
    after = 0
    while True:
        async with sessionmaker() as session:
            works = list(
                await session.scalars(
                    select(Work).where(Work.id > after).order_by(Work.id).limit(5000)
                )
            )
            ids = [w.id for w in works]
            rows = await session.execute(
                select(WorkIsbn.work_id, WorkIsbn.isbn).where(WorkIsbn.work_id.in_(ids))
            )
            isbns: dict[int, list[str]] = {}
            for row in rows:
                isbns.setdefault(row.work_id, []).append(row.isbn)
        if not works:
            break
        fts.executemany(
            "INSERT INTO works(rowid, title, original_title, authors, subjects, publisher, isbns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    w.id,
                    w.title,
                    w.original_title or "",
                    " ; ".join([*w.authors, *w.original_authors]),
                    " ; ".join(w.subjects),
                    w.publisher or "",
                    " ".join(isbns.get(w.id, [])),
                )
                for w in works
            ],
        )
        after = works[-1].id
    fts.commit()
    fts.close()
    return time.perf_counter() - started


def fts5_search(fts: sqlite3.Connection, text: str) -> list[int]:
    """All words, else any word; bm25 with the index's field weights."""
    tokens = [t for t in _WORD.findall(text) if t]
    if not tokens:
        return []
    quoted = ['"' + token.replace('"', '""') + '"' for token in tokens]
    sql = (
        f"SELECT rowid FROM works WHERE works MATCH ? ORDER BY bm25(works, {_FTS_WEIGHTS}) "
        f"LIMIT {LIMIT}"
    )
    ids = [row[0] for row in fts.execute(sql, (" AND ".join(quoted),))]
    if not ids and len(quoted) > 1:
        ids = [row[0] for row in fts.execute(sql, (" OR ".join(quoted),))]
    return ids


# --- running the queries -----------------------------------------------------------------


def run_queries(
    queries: list[Query], search: Callable[[str], list[int]]
) -> tuple[list[float], dict[str, list[bool]]]:
    """Latency in ms of every query, and success@3 of the known-item ones by kind."""
    for query in queries[:WARMUP]:
        search(query.text)
    latencies: list[float] = []
    outcomes: dict[str, list[bool]] = {}
    for query in queries:
        started = time.perf_counter()
        ids = search(query.text)
        latencies.append((time.perf_counter() - started) * 1000)
        if query.wanted:
            outcomes.setdefault(query.kind, []).append(bool(query.wanted & set(ids[:3])))
        elif query.work_id is not None:
            outcomes.setdefault(query.kind, []).append(query.work_id in ids[:3])
    return latencies, outcomes


def success_at_3(outcomes: dict[str, list[bool]]) -> float:
    """Share of known-item queries whose work is in the top three."""
    every = [hit for hits in outcomes.values() for hit in hits]
    return sum(every) / len(every) if every else 0.0


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """CPU time of this process, or of its finished children (the index's worker processes)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _progress(read: int) -> None:
    if read % 25_000 < 1000:
        log(f"  {read} records")


async def import_records(
    sessionmaker: async_sessionmaker[AsyncSession], folder: Path, records: int
) -> tuple[ImportReport, int]:
    """Import ``records`` records: the shared file, then perturbed copies of it as needed.

    Returns the first import's report (with the totals of all) and the highest work id of
    the shared records themselves.
    """
    log(f"importing the first {records} records of {SOURCE.name} ...")
    report = await import_catalogue(
        sessionmaker, LIBRARY, SOURCE, limit=records, progress=_progress
    )
    log(report.summary())
    async with sessionmaker() as session:
        max_id = await session.scalar(select(func.max(Work.id))) or 0
    copy = 0
    read, seconds = report.records_read, report.seconds
    while read < records and report.records_read:
        copy += 1
        path = folder / f"copy-{copy}.mrc"
        wanted = min(report.records_read, records - read)
        log(f"writing perturbed copy {copy} of {wanted} records ...")
        await asyncio.to_thread(write_copy, SOURCE, path, copy, wanted)
        more = await import_catalogue(sessionmaker, LIBRARY, path, progress=_progress)
        path.unlink()
        log(more.summary())
        read, seconds = read + more.records_read, seconds + more.seconds
    return dataclasses.replace(report, records_read=read, seconds=seconds), max_id


async def bench(
    url: str, folder: Path, records: int, per_kind: int, procs: int | None = None
) -> dict[str, Any]:
    """Import, index, query; the figures of the RESULT line."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    index_dir = folder / "index"
    index = CatalogueIndex(index_dir, procs=procs)
    indexer = CatalogueIndexer(AsyncCatalogueIndex(index), sessionmaker)
    try:
        await seed_library(sessionmaker)
        report, max_id = await import_records(sessionmaker, folder, records)
        log("building the index ...")
        started = time.perf_counter()
        main_started, workers_started = cpu_seconds(), cpu_seconds(resource.RUSAGE_CHILDREN)
        indexed = await indexer.rebuild()
        index_build_s = time.perf_counter() - started
        main_cpu_s = cpu_seconds() - main_started
        workers_cpu_s = cpu_seconds(resource.RUSAGE_CHILDREN) - workers_started
        index_cpu_s = main_cpu_s + workers_cpu_s
        log(f"indexed {indexed} works in {index_build_s:.1f} s ({index_cpu_s:.1f} CPU s)")
        fts_path = folder / "fts5.db"
        fts5_build_s = await build_fts5(sessionmaker, fts_path)
        log(f"FTS5 built in {fts5_build_s:.1f} s")
        queries = await query_mix(sessionmaker, per_kind, max_id)
        log(f"{len(queries)} queries")
        loop = asyncio.get_running_loop()

        def whoosh_search(text: str) -> list[int]:
            return [hit.work_id for hit in index.search(text, limit=LIMIT).hits]

        latencies, outcomes = await loop.run_in_executor(None, run_queries, queries, whoosh_search)
        fts = sqlite3.connect(fts_path, check_same_thread=False)
        try:
            fts_latencies, fts_outcomes = await loop.run_in_executor(
                None, run_queries, queries, lambda text: fts5_search(fts, text)
            )
        finally:
            fts.close()
        for kind in sorted(outcomes):
            hits, fts_hits = outcomes[kind], fts_outcomes[kind]
            log(
                f"  {kind:28s} n={len(hits):4d} success@3 {sum(hits) / len(hits):.3f} "
                f"(FTS5 {sum(fts_hits) / len(fts_hits):.3f})"
            )
        return {
            "records": report.records_read,
            "works": indexed,
            "database": make_url(url).get_backend_name(),
            "queries": len(queries),
            "import_records_per_s": round(report.records_per_second, 1),
            "import_s": round(report.seconds, 1),
            "index_build_s": round(index_build_s, 1),
            "index_works_per_s": round(indexed / index_build_s, 1),
            "index_cpu_s": round(index_cpu_s, 1),
            "index_main_cpu_s": round(main_cpu_s, 1),
            "index_workers_cpu_s": round(workers_cpu_s, 1),
            "index_works_per_cpu_s": round(indexed / max(index_cpu_s, 1e-9), 1),
            "index_mb": round(folder_mb(index_dir), 1),
            "p50_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(percentile(latencies, 0.95), 2),
            "fts5_p50_ms": round(statistics.median(fts_latencies), 2),
            "fts5_p95_ms": round(percentile(fts_latencies, 0.95), 2),
            "success_at_3": round(success_at_3(outcomes), 4),
            "fts5_success_at_3": round(success_at_3(fts_outcomes), 4),
            "fts5_build_s": round(fts5_build_s, 1),
            "fts5_mb": round(fts_path.stat().st_size / 1e6, 1),
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "build_workers_rss_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
            ),
        }
    finally:
        await indexer.close()
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the benchmark, print the RESULT line."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--records", type=int, default=250_000, help="records to import")
    parser.add_argument(
        "--database-url", help="PostgreSQL server to create a fresh database on (default SQLite)"
    )
    parser.add_argument(
        "--queries-per-kind", type=int, default=200, help="queries of each kind (default 200)"
    )
    parser.add_argument(
        "--procs", type=int, help="index worker processes (default: the index's, two at most)"
    )
    args = parser.parse_args(argv)
    if not SOURCE.exists():
        print(f"bench.search: {SOURCE} is missing", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bookbridge-bench-") as temporary:
        folder = Path(temporary)
        url, drop = fresh_database(args.database_url, folder)
        try:
            upgrade(url)
            result = asyncio.run(
                bench(url, folder, args.records, args.queries_per_kind, args.procs)
            )
        finally:
            drop()
    print("RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
