"""Live availability benchmark: work cards with 20 libraries connected by SIP2.

    python -m bench.ils [--cards 600] [--concurrency 20] [--works 150] [--delay-ms 50]
        [--database-url URL]

A scratch alliance of 20 libraries, each with its own library system (pysip2's ACS server
on a loopback port, in a separate process, answering every Item Information after
``--delay-ms``, about 3 copies in 10 charged), and
``--works`` works with copies at 8 to 14 of them. ``--concurrency`` readers at different
places open ``--cards`` work cards (random works, through the work-card service with its
live statuses) twice: first with every library ``manual`` (the baseline: the catalogue's
statuses only), then with all 20 connected, one of them down (it accepts connections and
never answers). The cache (``ILS_CACHE_S``, 30 s) and the breaker work as in the bot.

Printed: cards per second and card p50/p95 for both runs, the ratio of cards per second
(live / baseline), and whether the targets hold (p95 ≤ 1.5 s, ratio ≥ 0.5). The last line
is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import sys
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.broadcast import scratch_database
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import District, IlsConnection, IlsKind, Item, Library, LibraryKind, Reader, Work
from bot.services.ils.live import LiveAvailability
from bot.services.search.work_card import work_card
from sandbox.library_system import LibrarySystem

LIBRARIES = 20
CARD_LIBRARIES = 10
READERS = 40
SEED = 20261206
PASSWORD = "bench-pw"


async def seed(
    maker: async_sessionmaker[AsyncSession], ports: list[int], works: int
) -> tuple[list[int], list[int]]:
    """Libraries (connected to ``systems``), works with copies, readers; work and reader ids."""
    rng = random.Random(SEED)
    async with maker() as session:
        district = District(
            code="BENCH", name="基准区", population=1, latitude=31.2, longitude=121.4
        )
        session.add(district)
        await session.flush()
        libraries = [
            Library(
                code=f"IL{n:02d}",
                name=f"基准图书馆{n}",
                kind=LibraryKind.PUBLIC,
                district_id=district.id,
                latitude=31.2 + rng.uniform(-0.2, 0.2),
                longitude=121.4 + rng.uniform(-0.2, 0.2),
            )
            for n in range(LIBRARIES)
        ]
        session.add_all(libraries)
        await session.flush()
        work_ids = list(
            await session.scalars(
                insert(Work).returning(Work.id),
                [
                    {"title": f"Bench {n}", "work_key": f"ils{n}", "authors": []}
                    for n in range(works)
                ],
            )
        )
        items = []
        for work_id in work_ids:
            for index in rng.sample(range(LIBRARIES), rng.randint(8, 14)):
                for copy in range(rng.randint(1, 2)):
                    barcode = f"IL{index:02d}-{work_id}-{copy}"
                    items.append(
                        {"work_id": work_id, "library_id": libraries[index].id, "barcode": barcode}
                    )
        await session.execute(insert(Item), items)
        for library, port in zip(libraries, ports, strict=True):
            session.add(
                IlsConnection(
                    library_id=library.id,
                    kind=IlsKind.MANUAL,
                    host="127.0.0.1",
                    port=port,
                    username="selfcheck",
                    password=PASSWORD,
                )
            )
        readers = [
            Reader(
                telegram_id=7_000_000 + n,
                chat_id=7_000_000 + n,
                first_name=f"Bench{n}",
                card_number=f"B{n:09d}",
                latitude=round(31.2 + rng.uniform(-0.2, 0.2), 3),
                longitude=round(121.4 + rng.uniform(-0.2, 0.2), 3),
            )
            for n in range(READERS)
        ]
        session.add_all(readers)
        await session.commit()
        return work_ids, [reader.id for reader in readers]


async def open_cards(
    maker: async_sessionmaker[AsyncSession],
    live: LiveAvailability,
    work_ids: list[int],
    reader_ids: list[int],
    cards: int,
    concurrency: int,
) -> dict[str, float]:
    """Open ``cards`` cards from ``concurrency`` readers at once; throughput and latencies."""
    rng = random.Random(SEED + 1)
    plan = [(rng.choice(reader_ids), rng.choice(work_ids)) for _ in range(cards)]
    latencies: list[float] = []

    async def reader_loop(share: list[tuple[int, int]]) -> None:
        for reader_id, work_id in share:
            started = time.perf_counter()
            async with maker() as session:
                reader = await session.get(Reader, reader_id)
                assert reader is not None
                await work_card(session, reader, work_id, live=live, live_libraries=CARD_LIBRARIES)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(reader_loop(plan[n::concurrency]) for n in range(concurrency)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "cards": cards,
        "cards_per_s": round(cards / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }


def serve_systems(delay_s: float, ports: Queue[list[int]], stop: Event) -> None:
    """The libraries' systems, in a process of their own (their CPU is not the bot's): the
    first one hangs (accepts connections, never answers)."""
    systems = [
        LibrarySystem(password=PASSWORD, delay=3600 if n == 0 else delay_s, every_barcode=True)
        for n in range(LIBRARIES)
    ]
    for system in systems:
        system.start()
    ports.put([system.port for system in systems])
    stop.wait()
    for system in systems:
        system.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ports_queue: Queue[list[int]] = context.Queue()
    stop = context.Event()
    child = context.Process(
        target=serve_systems, args=(args.delay_ms / 1000, ports_queue, stop), daemon=True
    )
    child.start()
    settings = Settings(_env_file=None)
    try:
        ports = await asyncio.to_thread(ports_queue.get, True, 60)
        async with scratch_database(args.database_url) as url:
            await asyncio.to_thread(upgrade, url)
            engine = create_engine(url)
            maker = create_sessionmaker(engine)
            live = LiveAvailability.from_settings(settings)
            try:
                work_ids, reader_ids = await seed(maker, ports, args.works)
                # Warm up (imports, statement caches, the connection pool); not measured.
                await open_cards(maker, live, work_ids, reader_ids, 60, args.concurrency)
                baseline = await open_cards(
                    maker, live, work_ids, reader_ids, args.cards, args.concurrency
                )
                async with maker() as session:
                    await session.execute(update(IlsConnection).values(kind=IlsKind.SIP2))
                    await session.commit()
                    down = await session.scalar(select(Library.code).order_by(Library.id).limit(1))
                connected = await open_cards(
                    maker, live, work_ids, reader_ids, args.cards, args.concurrency
                )
                health = live.health()
            finally:
                await live.close()
                await engine.dispose()
    finally:
        stop.set()
        child.join(30)
    ratio = connected["cards_per_s"] / baseline["cards_per_s"]
    return {
        "libraries": LIBRARIES,
        "delay_ms": args.delay_ms,
        "concurrency": args.concurrency,
        "library_down": down,
        "down_breaker": health.get(down or "", {}).get("breaker"),
        "sip2_requests": sum(int(str(link["requests"])) for link in health.values()),
        "baseline_manual": baseline,
        "live_sip2": connected,
        "ratio_cards_per_s": round(ratio, 2),
        "p95_target_met": connected["p95_ms"] <= 1500,
        "ratio_target_met": ratio >= 0.5,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ils", description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--works", type=int, default=150)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    for name in ("baseline_manual", "live_sip2"):
        figures = result[name]
        print(
            f"{name:16} {figures['cards_per_s']:7.1f} cards/s  p50 {figures['p50_ms']:7.1f} ms"
            f"  p95 {figures['p95_ms']:7.1f} ms  max {figures['max_ms']:7.1f} ms"
        )
    print(
        f"ratio (live / baseline cards per second): {result['ratio_cards_per_s']}"
        f"  p95 ≤ 1.5 s: {result['p95_target_met']}  ratio ≥ 0.5: {result['ratio_target_met']}"
    )
    print("RESULT " + json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
