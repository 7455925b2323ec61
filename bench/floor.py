"""The database floor of one update: what looking up the reader costs, before any feature runs.

    python -m bench.floor [--rounds N] [--database-url URL]

Every update Bookbridge handles starts the same way: a session, the reader with their role
grants (``touch_reader``), a commit. This measures the CPU that step costs in this process,
on the project's own engine, and the same lookup written three cheaper ways, all in the same
run on the same database (SQLite in a temporary folder, or a scratch PostgreSQL database):

* ``touch_reader``: the middleware's call (ORM, joined role grants, one transaction);
* ``orm_select``: one ORM ``select(Reader)`` by Telegram id in one transaction;
* ``core_select``: the same row as plain columns through SQLAlchemy Core on a connection;
* ``driver``: the same SQL straight through aiosqlite or asyncpg, no SQLAlchemy, no transaction.

The first three go through ``bot.db.create_engine`` (on SQLite: plain aiosqlite, whose cursor
makes one trip to its thread per step).

Set beside the e2e benchmark's ``echo_cpu_ms_per_update`` (the whole of a minimal aiogram
bot's work for one update), it shows how much of the per-update budget the reader lookup
alone takes. The last line printed is ``RESULT {json}`` with each figure in milliseconds of
CPU per lookup and ``touch_reader_to_driver``, the ratio of the first to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.broadcast import scratch_database
from bot.db import create_engine, create_sessionmaker, is_sqlite
from bot.migrate import upgrade
from bot.models import Reader, utcnow
from bot.services.readers import Contact, touch_reader

TELEGRAM_ID = 77_000_001
WARM_UP = 200
Lookup = Callable[[], Awaitable[Any]]
LOOKUP_SQL = "SELECT id, language, district_id FROM readers WHERE telegram_id = {param}"


def cpu_ms_per_call(rounds: int) -> Callable[[Lookup], Awaitable[float]]:
    """Times an async call: CPU milliseconds per call over ``rounds`` calls, after a warm-up."""

    async def measure(call: Lookup) -> float:
        for _ in range(WARM_UP):
            await call()
        started = time.process_time()
        for _ in range(rounds):
            await call()
        return (time.process_time() - started) / rounds * 1000

    return measure


async def driver_lookup(url: str) -> tuple[Lookup, Callable[[], Awaitable[None]]]:
    """The lookup through the bare driver, and how to close it."""
    parsed = make_url(url)
    if is_sqlite(url):
        import aiosqlite

        connection = await aiosqlite.connect(parsed.database or "")
        sql = LOOKUP_SQL.format(param="?")

        async def lookup_sqlite() -> Any:
            async with connection.execute(sql, (TELEGRAM_ID,)) as cursor:
                return await cursor.fetchone()

        return lookup_sqlite, connection.close
    import asyncpg  # type: ignore[import-untyped]

    pg = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    )
    statement = LOOKUP_SQL.format(param="$1")

    async def lookup_pg() -> Any:
        return await pg.fetchrow(statement, TELEGRAM_ID)

    return lookup_pg, pg.close


async def run(url: str, rounds: int) -> dict[str, Any]:
    """Migrate, add one reader, then time the four lookups."""
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    contact = Contact(
        telegram_id=TELEGRAM_ID, chat_id=TELEGRAM_ID, first_name="Floor", username=None
    )
    async with sessionmaker() as session:
        await touch_reader(session, contact, utcnow())
    measure = cpu_ms_per_call(rounds)

    async def with_touch_reader() -> None:
        async with sessionmaker() as session:
            await touch_reader(session, contact, utcnow())
            await session.commit()

    async def with_orm_select() -> None:
        async with sessionmaker() as session:
            await session.scalar(select(Reader).where(Reader.telegram_id == TELEGRAM_ID))
            await session.commit()

    core = select(Reader.id, Reader.language, Reader.district_id).where(
        Reader.telegram_id == TELEGRAM_ID
    )

    async def with_core_select() -> None:
        async with engine.connect() as connection:
            (await connection.execute(core)).first()
            await connection.commit()

    lookup, close = await driver_lookup(url)
    try:
        figures = {
            "touch_reader": await measure(with_touch_reader),
            "orm_select": await measure(with_orm_select),
            "core_select": await measure(with_core_select),
            "driver": await measure(lookup),
        }
    finally:
        await close()
        await engine.dispose()
    result: dict[str, Any] = {name: round(value, 3) for name, value in figures.items()}
    result["touch_reader_to_driver"] = round(figures["touch_reader"] / figures["driver"], 1)
    result["database"] = make_url(url).get_backend_name()
    result["rounds"] = rounds
    return result


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000, help="lookups timed per variant")
    parser.add_argument("--database-url", help="PostgreSQL (a scratch database is made next to it)")
    args = parser.parse_args(argv)
    async with scratch_database(args.database_url) as url:
        result = await run(url, args.rounds)
    for name in ("touch_reader", "orm_select", "core_select", "driver"):
        print(f"{name:>13}: {result[name]:.3f} ms CPU per lookup")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
