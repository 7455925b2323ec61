"""Holds benchmark: many readers placing holds at once through the holds service.

    python -m bench.holds [--holds 10000] [--works 1000] [--concurrency 100]
        [--database-url URL]

A scratch alliance (12 pickup libraries, ``--works`` works with one to three copies each)
and enough readers for ``--holds`` holds at the default limit of five each. ``--concurrency``
tasks, each with its own session, place the holds reader by reader (a reader's holds one
after another, as one person taps). Each hold takes a copy on a shelf or queues, and writes
its notice to the outbox in the same transaction. Afterwards the database is checked: no copy
may serve two active holds (``double_assignments`` must be 0), and no work may have a copy on
a shelf while somebody queues for it (``fifo_violations``).

``p95_ms`` times the service call (from the first query of the placement to its commit,
row-lock waits included); ``end_to_end_p95_ms`` adds the wait for a database connection,
which with many readers at once is mostly queueing.

The named database is never touched: PostgreSQL gets a scratch database on the same server
(dropped afterwards), SQLite a file in a temporary folder. The last line printed is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from typing import Any

from sqlalchemy import func, insert, select, text

from bench.broadcast import scratch_database
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import District, Hold, HoldStatus, Item, Library, LibraryKind, Reader, Work
from bot.services.errors import DomainError
from bot.services.holds import placing

LIBRARIES = 12
HOLDS_PER_READER = 5
PG_CONNECTIONS = 20
SEED = 20261202


async def seed(url: str, works: int, readers: int) -> tuple[list[int], list[int], list[int]]:
    """Libraries, works with copies, readers; their ids."""
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    rng = random.Random(SEED)
    try:
        async with maker() as session:
            district = District(
                code="BENCH", name="基准区", population=1, latitude=31.2, longitude=121.4
            )
            session.add(district)
            await session.flush()
            libraries = [
                Library(
                    code=f"BL{n:02d}",
                    name=f"基准图书馆{n}",
                    kind=LibraryKind.PUBLIC,
                    district_id=district.id,
                    latitude=31.2 + rng.uniform(-0.2, 0.2),
                    longitude=121.4 + rng.uniform(-0.2, 0.2),
                    opening_hours="Mo-Sa 09:00-21:00",
                )
                for n in range(LIBRARIES)
            ]
            session.add_all(libraries)
            await session.flush()
            library_ids = [library.id for library in libraries]
            result = await session.execute(
                insert(Work).returning(Work.id),
                [
                    {"title": f"Bench work {n}", "work_key": f"bench{n}", "authors": []}
                    for n in range(works)
                ],
            )
            work_ids = [row[0] for row in result]
            copies = [
                {
                    "work_id": work_id,
                    "library_id": rng.choice(library_ids),
                    "barcode": f"BW{work_id}-{copy}",
                }
                for work_id in work_ids
                for copy in range(rng.randint(1, 3))
            ]
            await session.execute(insert(Item), copies)
            result = await session.execute(
                insert(Reader).returning(Reader.id),
                [
                    {
                        "telegram_id": 20_000_000 + n,
                        "chat_id": 20_000_000 + n,
                        "first_name": f"R{n}",
                        "language": "en",
                        "card_number": f"BENCH{n:08d}",
                        "latitude": 31.2 + rng.uniform(-0.2, 0.2),
                        "longitude": 121.4 + rng.uniform(-0.2, 0.2),
                    }
                    for n in range(readers)
                ],
            )
            reader_ids = [row[0] for row in result]
            await session.commit()
    finally:
        await engine.dispose()
    return library_ids, work_ids, reader_ids


async def place_all(
    url: str,
    plan: list[tuple[int, list[tuple[int, int]]]],
    concurrency: int,
) -> tuple[list[float], list[float], int, float, float]:
    """Place every planned hold with ``concurrency`` tasks: service and end-to-end latencies,
    refusals, seconds, and the CPU seconds this process spent (all its threads)."""
    # SQLite takes one writer at a time (BEGIN IMMEDIATE): with many connections, waiters
    # sleep in SQLite's busy handler and some starve past its timeout; one pooled
    # connection queues them fairly instead. PostgreSQL gets the ordinary pool.
    engine = create_engine(url, single_connection=True, pool_size=PG_CONNECTIONS)
    maker = create_sessionmaker(engine)
    settings = Settings(_env_file=None, database_url=url)
    queue: asyncio.Queue[tuple[int, list[tuple[int, int]]]] = asyncio.Queue()
    for entry in plan:
        queue.put_nowait(entry)
    latencies: list[float] = []
    waits: list[float] = []
    refused = 0

    async def worker() -> None:
        nonlocal refused
        while True:
            try:
                reader_id, wanted = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            for work_id, library_id in wanted:
                # From the tap to the answer: waiting for a database connection included.
                tapped = time.perf_counter()
                async with maker() as session:
                    reader = await session.get_one(Reader, reader_id)
                    started = time.perf_counter()
                    try:
                        await placing.place_hold(
                            session, reader, work_id, library_id, settings=settings
                        )
                    except DomainError:
                        refused += 1
                    done = time.perf_counter()
                    latencies.append((done - started) * 1000)
                    waits.append((done - tapped) * 1000)

    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        await engine.dispose()
    return latencies, waits, refused, seconds, cpu_seconds


async def check(url: str) -> dict[str, int]:
    """Double assignments, queue-order violations and hold counts by status."""
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    try:
        async with maker() as session:
            doubled = await session.scalar(
                text(
                    "SELECT count(*) FROM (SELECT item_id FROM holds "
                    "WHERE item_id IS NOT NULL AND status IN ('in_transit', 'ready') "
                    "GROUP BY item_id HAVING count(*) > 1) AS doubled"
                )
            )
            # A copy on a shelf while somebody queues for its work breaks first come, first served.
            skipped = await session.scalar(
                select(func.count(func.distinct(Item.work_id)))
                .join(Hold, Hold.work_id == Item.work_id)
                .where(Item.status == "available", Hold.status == HoldStatus.QUEUED)
            )
            rows = (
                await session.execute(select(Hold.status, func.count()).group_by(Hold.status))
            ).all()
    finally:
        await engine.dispose()
    counts = {str(status): int(number) for status, number in rows}
    return {
        "double_assignments": int(doubled or 0),
        "fifo_violations": int(skipped or 0),
        **{f"status_{name}": number for name, number in counts.items()},
    }


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Seed, race, check."""
    readers = -(-args.holds // HOLDS_PER_READER)
    async with scratch_database(args.database_url) as url:
        await asyncio.to_thread(upgrade, url)
        library_ids, work_ids, reader_ids = await seed(url, args.works, readers)
        rng = random.Random(SEED + 1)
        plan = []
        left = args.holds
        for reader_id in reader_ids:
            count = min(HOLDS_PER_READER, left)
            left -= count
            chosen = rng.sample(work_ids, count)
            plan.append((reader_id, [(w, rng.choice(library_ids)) for w in chosen]))
        latencies, waits, refused, seconds, cpu_seconds = await place_all(
            url, plan, args.concurrency
        )
        checked = await check(url)
    placed = len(latencies) - refused

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0

    return {
        "holds": placed,
        "refused": refused,
        "works": args.works,
        "readers": readers,
        "concurrency": args.concurrency,
        "seconds": round(seconds, 1),
        "holds_per_s": round(placed / seconds, 1) if seconds else 0.0,
        "cpu_ms_per_hold": round(cpu_seconds * 1000 / len(latencies), 3) if latencies else 0.0,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else 0.0,
        "p95_ms": round(p95(latencies), 2),
        "end_to_end_p95_ms": round(p95(waits), 2),
        **checked,
        "database": "postgresql" if "postgresql" in (args.database_url or "") else "sqlite",
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the figures and the RESULT line."""
    parser = argparse.ArgumentParser(prog="python -m bench.holds", description=__doc__)
    parser.add_argument("--holds", type=int, default=10_000, help="holds to place")
    parser.add_argument("--works", type=int, default=1_000, help="works they spread over")
    parser.add_argument("--concurrency", type=int, default=100, help="readers at once")
    parser.add_argument("--database-url", help="PostgreSQL or SQLite URL (default: temp SQLite)")
    args = parser.parse_args(argv)
    if args.holds < 1 or args.works < HOLDS_PER_READER or args.concurrency < 1:
        parser.error("--holds and --concurrency must be at least 1, --works at least 5")
    result = asyncio.run(benchmark(args))
    print(
        f"{result['holds']} holds in {result['seconds']} s: {result['holds_per_s']} holds/s, "
        f"p95 {result['p95_ms']} ms, CPU {result['cpu_ms_per_hold']} ms/hold, "
        f"double assignments {result['double_assignments']}",
        flush=True,
    )
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
