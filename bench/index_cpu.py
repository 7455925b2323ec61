"""CPU cost of a full index rebuild, for before/after comparisons on a busy machine.

    python -m bench.index_cpu --records 20000 --database loc20k.db [--rounds 3]

Imports the first N LoC records into the SQLite file the first time (through the import
service, as ``bench.search`` does) and keeps it, so later runs, and runs of another
checkout of the code against the same file, rebuild the same works. Each round rebuilds
the index from the database with ``CatalogueIndexer.rebuild()`` (main process plus the
index's worker processes) and reports CPU seconds from ``getrusage`` (self + children):
wall time means little while other work shares the cores. The last line is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.search import LIBRARY, SOURCE, cpu_seconds, folder_mb, log, seed_library
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.services.catalogue_import.run import import_catalogue
from bot.services.indexing import CatalogueIndexer
from search.aio import AsyncCatalogueIndex
from search.index import CatalogueIndex


async def _prepare(url: str, records: int) -> None:
    engine = create_engine(url)
    try:
        sessionmaker = create_sessionmaker(engine)
        await seed_library(sessionmaker)
        report = await import_catalogue(sessionmaker, LIBRARY, SOURCE, limit=records)
        log(report.summary())
    finally:
        await engine.dispose()


async def _rebuild(url: str, folder: Path, procs: int | None) -> dict[str, Any]:
    engine = create_engine(url)
    index = CatalogueIndex(folder / "index", procs=procs)
    indexer = CatalogueIndexer(AsyncCatalogueIndex(index), create_sessionmaker(engine))
    try:
        started = time.perf_counter()
        main_started = cpu_seconds()
        workers_started = cpu_seconds(resource.RUSAGE_CHILDREN)
        works = await indexer.rebuild()
        wall = time.perf_counter() - started
        main_cpu = cpu_seconds() - main_started
        workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - workers_started
    finally:
        await indexer.close()
        await engine.dispose()
    total = main_cpu + workers_cpu
    return {
        "works": works,
        "wall_s": round(wall, 2),
        "cpu_s": round(total, 2),
        "main_cpu_s": round(main_cpu, 2),
        "workers_cpu_s": round(workers_cpu, 2),
        "works_per_cpu_s": round(works / total, 1),
        "index_mb": round(folder_mb(folder / "index"), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Import once if need be, rebuild ``--rounds`` times, print the RESULT line."""
    parser = argparse.ArgumentParser(prog="python -m bench.index_cpu", description=__doc__)
    parser.add_argument("--records", type=int, default=20_000, help="records to import")
    parser.add_argument("--database", type=Path, required=True, help="SQLite file (kept)")
    parser.add_argument("--rounds", type=int, default=1, help="rebuilds to time")
    parser.add_argument("--procs", type=int, help="index worker processes (default: two)")
    args = parser.parse_args(argv)
    url = f"sqlite+aiosqlite:///{args.database}"
    if not args.database.exists():
        if not SOURCE.exists():
            print(f"bench.index_cpu: {SOURCE} is missing", file=sys.stderr)
            return 2
        upgrade(url)
        asyncio.run(_prepare(url, args.records))
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="bookbridge-index-cpu-") as temporary:
            rounds.append(asyncio.run(_rebuild(url, Path(temporary), args.procs)))
        log(json.dumps(rounds[-1]))
    best = min(rounds, key=lambda r: r["cpu_s"])
    print("RESULT " + json.dumps({"rounds": rounds, "best": best}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
