"""Statistics benchmark: /stats figures over a seeded city, against counting rows in Python.

    python -m bench.stats [--readers N] [--searches N] [--database-url URL]

Seeds a scratch database (SQLite in a temporary folder, or a scratch PostgreSQL database
next to the one named, dropped afterwards) with districts, libraries, readers, searches,
holds and event registrations spread over 120 days, then times ``alliance_statistics``
for the last 30 and 90 days (best of three), the two charts and the CSV. The baseline,
measured in the same run, loads the period's rows and counts them in Python. Both must
agree on every figure. The last line printed is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import time
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.broadcast import scratch_database
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import (
    District,
    Event,
    EventCategory,
    Hold,
    HoldStatus,
    Library,
    LibraryKind,
    Reader,
    Registration,
    RegistrationStatus,
    SearchLog,
    Work,
    utcnow,
)
from bot.services import statistics
from bot.services.statistics import Period
from handlers.stats import render_charts

DISTRICTS = 12
LIBRARIES_PER_DISTRICT = 2
DAYS = 120
CHUNK = 5000


async def _chunks(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(model), rows[start : start + CHUNK])


async def seed(session: AsyncSession, readers: int, searches: int, rng: random.Random) -> None:
    """The city: districts, libraries, readers and 120 days of activity."""
    now = utcnow()
    await _chunks(
        session,
        District,
        [
            {
                "code": f"D{n:02d}",
                "name": f"第{n}区",
                "population": rng.randint(50_000, 900_000),
                "latitude": 30 + n / 10,
                "longitude": 120 + n / 10,
            }
            for n in range(DISTRICTS)
        ],
    )
    district_ids = list(await session.scalars(select(District.id).order_by(District.id)))
    await _chunks(
        session,
        Library,
        [
            {
                "code": f"L{n:03d}",
                "name": f"第{n}馆",
                "kind": LibraryKind.PUBLIC,
                "district_id": district_ids[n % DISTRICTS],
                "latitude": 30.0,
                "longitude": 120.0,
            }
            for n in range(DISTRICTS * LIBRARIES_PER_DISTRICT)
        ],
    )
    library_ids = list(await session.scalars(select(Library.id)))

    def moment() -> Any:
        return now - timedelta(seconds=rng.randint(0, DAYS * 86400))

    await _chunks(
        session,
        Reader,
        [
            {
                "telegram_id": 10_000_000 + n,
                "chat_id": 10_000_000 + n,
                "first_name": f"R{n}",
                "card_number": f"BENCH{n:09d}",
                "district_id": rng.choice([*district_ids, None]),
                "onboarded_at": now - timedelta(days=rng.randint(0, 400)),
            }
            for n in range(readers)
        ],
    )
    reader_ids = list(await session.scalars(select(Reader.id)))
    await _chunks(session, Work, [{"title": f"W{n}", "work_key": f"w{n}"} for n in range(2000)])
    work_ids = list(await session.scalars(select(Work.id)))
    await _chunks(
        session,
        SearchLog,
        [
            {
                "reader_id": rng.choice(reader_ids),
                "district_id": rng.choice([*district_ids, None]),
                "query": f"query {rng.randint(0, 3000)}",
                "hit_count": rng.choice((0, 0, 1, 5, 12)),
                "created_at": moment(),
            }
            for _ in range(searches)
        ],
    )
    holds = []
    for _ in range(searches // 5):
        queued = moment()
        collected = queued + timedelta(days=3) if rng.random() < 0.5 else None
        holds.append(
            {
                "reader_id": rng.choice(reader_ids),
                "work_id": rng.choice(work_ids),
                "pickup_library_id": rng.choice(library_ids),
                "status": HoldStatus.COLLECTED if collected else HoldStatus.CANCELLED,
                "queued_at": queued,
                "collected_at": collected,
            }
        )
    await _chunks(session, Hold, holds)
    await _chunks(
        session,
        Event,
        [
            {
                "title": f"E{n}",
                "category": EventCategory.BOOK_CLUB,
                "starts_at": now - timedelta(days=n),
                "ends_at": now - timedelta(days=n) + timedelta(hours=2),
                "capacity": 500,
                "venue_library_id": rng.choice(library_ids),
                "checkin_token": secrets.token_hex(8),
            }
            for n in range(200)
        ],
    )
    event_ids = list(await session.scalars(select(Event.id)))
    pairs = {(rng.choice(event_ids), rng.choice(reader_ids)) for _ in range(searches // 10)}
    registrations = []
    for event_id, reader_id in pairs:
        created = moment()
        attended = rng.random() < 0.6
        registrations.append(
            {
                "event_id": event_id,
                "reader_id": reader_id,
                "status": RegistrationStatus.ATTENDED if attended else RegistrationStatus.CONFIRMED,
                "created_at": created,
                "attended_at": created + timedelta(days=1) if attended else None,
            }
        )
    await _chunks(session, Registration, registrations)
    await session.commit()


async def naive_totals(session: AsyncSession, period: Period) -> dict[str, int]:
    """The baseline: load the period's rows and count them in Python."""

    def inside(moment: Any) -> bool:
        return moment is not None and period.start <= moment < period.end

    searches = list((await session.execute(select(SearchLog))).scalars())
    holds = list((await session.execute(select(Hold))).scalars())
    registrations = list((await session.execute(select(Registration))).scalars())
    counted = Counter[str]()
    active: set[int] = set()
    for search in searches:
        if inside(search.created_at):
            counted["searches"] += 1
            counted["zero_hit_searches"] += search.hit_count == 0
            if search.reader_id is not None:
                active.add(search.reader_id)
    for hold in holds:
        if inside(hold.queued_at):
            counted["holds_placed"] += 1
            active.add(hold.reader_id)
        counted["holds_collected"] += inside(hold.collected_at)
    for registration in registrations:
        if inside(registration.created_at):
            counted["registrations"] += 1
            active.add(registration.reader_id)
        counted["attended"] += inside(registration.attended_at)
    counted["active_readers"] = len(active)
    session.expunge_all()
    return dict(counted)


async def _best(repeats: int, run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best, result


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Seed, then time the service and the baseline for 30 and 90 days."""
    rng = random.Random(20261202)
    async with scratch_database(args.database_url) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        try:
            started = time.perf_counter()
            async with sessionmaker() as session:
                await seed(session, args.readers, args.searches, rng)
            seed_s = time.perf_counter() - started
            result: dict[str, Any] = {
                "database": "postgresql" if url.startswith("postgresql") else "sqlite",
                "readers": args.readers,
                "searches": args.searches,
                "seed_s": round(seed_s, 1),
            }
            now = utcnow()
            for days in (30, 90):
                period = Period(start=now - timedelta(days=days), end=now, label=f"{days}d")
                async with sessionmaker() as session:
                    stats_s, stats = await _best(
                        3, partial(statistics.alliance_statistics, session, period)
                    )
                    naive_s, naive = await _best(3, partial(naive_totals, session, period))
                totals = stats.totals
                for name, value in naive.items():
                    if getattr(totals, name) != value:
                        raise SystemExit(
                            f"bench: {name} differs: {getattr(totals, name)} != {value}"
                        )
                result[f"stats_{days}d_ms"] = round(stats_s * 1000, 1)
                result[f"baseline_{days}d_ms"] = round(naive_s * 1000, 1)
                result[f"speedup_{days}d"] = round(naive_s / stats_s, 1)
                result[f"searches_{days}d"] = totals.searches
            labels = {
                key: key
                for key in (
                    "districts",
                    "libraries",
                    "active",
                    "searches",
                    "zero",
                    "placed",
                    "collected",
                    "registrations",
                    "attended",
                )
            }
            started = time.perf_counter()
            charts = await asyncio.to_thread(render_charts, stats, labels)
            result["charts_ms"] = round((time.perf_counter() - started) * 1000, 1)
            result["chart_kb"] = round(sum(len(png) for _, png in charts) / 1024, 1)
            started = time.perf_counter()
            statistics.statistics_csv(stats)
            result["csv_ms"] = round((time.perf_counter() - started) * 1000, 2)
        finally:
            await engine.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the figures and the RESULT line."""
    parser = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__)
    parser.add_argument("--readers", type=int, default=20_000)
    parser.add_argument("--searches", type=int, default=100_000)
    parser.add_argument("--database-url", help="PostgreSQL or SQLite URL (default: temp SQLite)")
    args = parser.parse_args(argv)
    result = asyncio.run(benchmark(args))
    for days in (30, 90):
        print(
            f"{days}d: /stats figures in {result[f'stats_{days}d_ms']} ms, counting rows in "
            f"Python {result[f'baseline_{days}d_ms']} ms ({result[f'speedup_{days}d']}x)"
        )
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
