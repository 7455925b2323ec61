"""Harvest benchmark: records per second over OAI-PMH end to end, against the file import.

    python -m bench.harvest [--records N] [--page-size P] [--rounds R]

Serves the first N records of ``../shared/data/marc/loc-books-first1000.marcxml`` from
pyoai's OAI-PMH server on 127.0.0.1 (P records a page, resumption tokens between pages) and
harvests them into a fresh SQLite database: fetched over HTTP, parsed, stored through the
catalogue import and indexed page by page. The baseline, in the same run, is the file import
of the same records (a MARCXML file of exactly those records) into another fresh database,
then its index. The repository runs in a process of its own, as a real one runs elsewhere.
Rounds alternate the two; the best round of each counts. Besides wall time, the CPU time
of this process (the repository's excluded) per record is shown. The last line is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import District, Library, LibraryKind
from bot.services.catalogue_import.run import import_catalogue, sync_index
from bot.services.harvest.run import harvest_library
from bot.services.harvest.sources import connect
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex
from tests.harvest.repository import TestRepository, marcxml_records

SOURCE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "marc" / "loc-books-first1000.marcxml"
)
LIBRARY = "BENCH"


async def _fresh(folder: Path, name: str) -> tuple[str, CatalogueIndexer]:
    url = f"sqlite+aiosqlite:///{folder / name}.sqlite"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
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
    index = AsyncCatalogueIndex(CatalogueIndex(folder / f"{name}-index"))
    return url, CatalogueIndexer(index, sessionmaker)


async def file_import(folder: Path, name: str, path: Path) -> tuple[float, float]:
    """Seconds (wall, this process's CPU) to import the file and index what it changed."""
    _url, indexer = await _fresh(folder, name)
    started, cpu = time.perf_counter(), time.process_time()
    report = await import_catalogue(indexer.sessionmaker, LIBRARY, path)
    await sync_index(indexer, report.changed_work_ids)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await indexer.index.close()
    return seconds, cpu


def _serve(records: int, page_size: int, connection: Connection) -> None:
    """The repository's own process (a real one is on another machine): serve until told."""
    repository = TestRepository(batch_size=page_size).start()
    repository.load(marcxml_records(SOURCE, records))
    connection.send(repository.url)
    connection.recv()
    repository.stop()


async def harvest(folder: Path, name: str, url: str, records: int) -> tuple[float, float]:
    """Seconds (wall, this process's CPU) to harvest every record: fetched, parsed, stored,
    indexed."""
    database_url, indexer = await _fresh(folder, name)
    async with indexer.sessionmaker() as session:
        await connect(session, LIBRARY, url)
    settings = Settings(database_url=database_url, index_dir=str(folder / f"{name}-index"))
    started, cpu = time.perf_counter(), time.process_time()
    report = await harvest_library(indexer.sessionmaker, settings, LIBRARY, indexer=indexer)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if report.error is not None or report.records != records:
        raise SystemExit(f"the harvest failed: {report.summary()}")
    await indexer.index.close()
    return seconds, cpu


async def bench(folder: Path, records: int, page_size: int, rounds: int) -> dict[str, object]:
    payloads = marcxml_records(SOURCE, records)
    path = folder / "records.marcxml"
    body = b"".join(payloads)
    path.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + body + b"</collection>\n"
    )
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(records, page_size, theirs), daemon=True
    )
    server.start()
    url = ours.recv()
    file_runs: list[tuple[float, float]] = []
    harvest_runs: list[tuple[float, float]] = []
    try:
        for n in range(rounds):
            file_runs.append(await file_import(folder, f"file{n}", path))
            harvest_runs.append(await harvest(folder, f"oai{n}", url, len(payloads)))
    finally:
        ours.send("stop")
        server.join(timeout=10)
    count = len(payloads)
    file_rate = count / min(wall for wall, _cpu in file_runs)
    harvest_rate = count / min(wall for wall, _cpu in harvest_runs)
    file_cpu = 1000 * min(cpu for _wall, cpu in file_runs) / count
    harvest_cpu = 1000 * min(cpu for _wall, cpu in harvest_runs) / count
    ratio = harvest_rate / file_rate
    print(f"records: {count}, page size {page_size}, best of {rounds} round(s)")
    print(f"file import (baseline): {file_rate:,.0f} records/s, {file_cpu:.2f} ms CPU a record")
    print(
        f"OAI-PMH harvest:        {harvest_rate:,.0f} records/s, {harvest_cpu:.2f} ms CPU a record"
    )
    print(f"ratio harvest / file import: {ratio:.2f} (target >= 0.70)")
    return {
        "records": count,
        "page_size": page_size,
        "rounds": rounds,
        "file_import_records_per_s": round(file_rate, 1),
        "harvest_records_per_s": round(harvest_rate, 1),
        "ratio": round(ratio, 3),
        "file_cpu_ms_per_record": round(file_cpu, 3),
        "harvest_cpu_ms_per_record": round(harvest_cpu, 3),
        "file_seconds": [round(wall, 3) for wall, _cpu in file_runs],
        "harvest_seconds": [round(wall, 3) for wall, _cpu in harvest_runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.harvest", description=__doc__)
    parser.add_argument("--records", type=int, default=1000, help="records (at most 1000)")
    parser.add_argument("--page-size", type=int, default=100, help="records per OAI page")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (best counts)")
    args = parser.parse_args(argv)
    if not SOURCE.exists():
        print(f"bench.harvest: {SOURCE} is missing", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bookbridge-bench-") as temporary:
        result = asyncio.run(bench(Path(temporary), args.records, args.page_size, args.rounds))
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
