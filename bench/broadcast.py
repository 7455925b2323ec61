"""Broadcast delivery benchmark: N sandbox readers over real HTTP, with and without flood limits,
and through faults.

    python -m bench.broadcast --recipients 10000 [--database-url URL]
        [--limited-recipients M] [--rate R] [--no-faults]

The sandbox Bot API server runs on a free loopback port; an aiogram Bot with AiohttpSession
talks to it. Phase 1 ("limited"): the sandbox enforces Telegram-like flood limits (30
messages/s overall, 1/s per chat) and the worker paces itself at ``--rate`` messages/s;
phase 2 ("unlimited"): no limits and no pacing, to measure the outbox's own throughput.
Phase 3 ("faults", see ``bench.broadcast_faults``): a broadcast to the limited phase's
readers and a transactional notice to one in ten of them, through 429s, 5xx, timeouts
before and after delivery and two kills of the worker: lost must be 0, promotional
duplicates 0, and the sends in doubt are counted as unknown.
Each phase queues one broadcast through the broadcasts service and drains it with the
delivery worker; duplicates and lost messages are counted from what the sandbox stored.

The named database is never touched: PostgreSQL gets a scratch database on the same
server (dropped afterwards), SQLite a file in a temporary folder. The last line printed
is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from bench.broadcast_faults import FaultOutcome, run_fault_phase
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.delivery.pacing import Pacer
from bot.delivery.reports import DrainReport
from bot.delivery.worker import DeliveryWorker
from bot.i18n import create_i18n
from bot.migrate import upgrade
from bot.models import BroadcastAudience, District, Notification, NotificationStatus, Reader
from bot.services import broadcasts
from bot.services.broadcasts import Audience, Draft, Rights
from sandbox.core import Sandbox
from sandbox.server import server_port, start_server

TOKEN = "424242:BENCHMARK"
TELEGRAM_LIMIT = 30.0
FIRST_USER_ID = 10_000_000
ADMIN = Rights(libraries=None, districts=True, everyone=True, urgent=True)


@dataclass
class Phase:
    """What one delivery run measured."""

    name: str
    recipients: int
    sent: int
    duplicates: int
    lost: int
    seconds: float
    rate_limited: int

    @property
    def msgs_per_s(self) -> float:
        """Messages delivered per second of wall time."""
        return self.sent / self.seconds if self.seconds else 0.0


async def _administer(url: str, *statements: str) -> None:
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[str]:
    """A fresh database URL next to the one named (or a temporary SQLite file)."""
    if url and make_url(url).get_backend_name() == "postgresql":
        named = make_url(url).set(drivername="postgresql+asyncpg")
        admin_url = named.render_as_string(hide_password=False)
        name = f"bookbridge_bench_{os.getpid()}"
        await _administer(admin_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        try:
            yield named.set(database=name).render_as_string(hide_password=False)
        finally:
            await _administer(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    if url and make_url(url).get_backend_name() != "sqlite":
        raise SystemExit("bench: --database-url must be PostgreSQL or SQLite")
    folder = Path(tempfile.mkdtemp(prefix="bookbridge-bench-"))
    try:
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession], recipients: int, limited: int
) -> tuple[Reader, int]:
    """An admin, and ``recipients`` onboarded readers; the first ``limited`` in one district."""
    async with sessionmaker() as session:
        district = District(code="BENCH", name="基准区", population=1, latitude=0, longitude=0)
        session.add(district)
        await session.flush()
        author = Reader(
            telegram_id=FIRST_USER_ID - 1,
            chat_id=FIRST_USER_ID - 1,
            first_name="Admin",
            language="en",
            card_number="BENCHADMIN",
        )
        session.add(author)
        await session.flush()
        rows = [
            {
                "telegram_id": FIRST_USER_ID + n,
                "chat_id": FIRST_USER_ID + n,
                "first_name": f"Reader {n}",
                "language": "zh" if n % 2 else "en",
                "card_number": f"BENCH{n:09d}",
                "district_id": district.id if n < limited else None,
                "onboarded_at": broadcasts_now(),
            }
            for n in range(recipients)
        ]
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Reader), rows[start : start + 1000])
        await session.commit()
        return author, district.id


def broadcasts_now() -> Any:
    """Now, aware (a separate function keeps the seed rows' timestamps identical)."""
    from bot.models import utcnow

    return utcnow()


async def queue_broadcast(
    sessionmaker: async_sessionmaker[AsyncSession],
    author: Reader,
    audience: Audience,
    marker: str,
) -> tuple[int, int, float]:
    """Queue one broadcast through the service; its id, recipients and the seconds it took."""
    started = time.perf_counter()
    async with sessionmaker() as session:
        broadcast = await broadcasts.create_broadcast(
            session,
            author,
            ADMIN,
            Draft(
                audience=audience,
                text={
                    "zh": f"<b>{marker}</b> 本周六图书馆举办读书会。",
                    "en": f"<b>{marker}</b> Book club at the library this Saturday.",
                },
                button_url="https://example.org/book-club",
                button_label={"zh": "报名", "en": "Sign up"},
                draft_key=broadcasts.new_draft_key(),
            ),
            now=broadcasts_now(),
        )
    return broadcast.id, broadcast.recipients, time.perf_counter() - started


class SandboxHost:
    """The sandbox Bot API server on a free loopback port, in this process or a child process."""

    def __init__(self, users: int, *, in_process: bool) -> None:
        self.users = users
        self.in_process = in_process
        self.base = ""
        self._sandbox: Sandbox | None = None
        self._runner: Any = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        """Start serving; the Bot API base URL."""
        if self.in_process:
            self._sandbox = Sandbox(token=TOKEN, queue_updates=False)
            add_users(self._sandbox, self.users)
            self._runner = await start_server(self._sandbox, "127.0.0.1", 0)
            port = server_port(self._runner)
        else:
            context = multiprocessing.get_context("spawn")
            receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=serve_sandbox, args=(self.users, sender), daemon=True
            )
            self._process.start()
            port = await asyncio.to_thread(receiver.recv)
        self.base = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()
        return self.base

    async def flood_limits(self, enabled: bool) -> None:
        """Turn Telegram-like flood control on or off."""
        if self._sandbox is not None:
            self._sandbox.flood_limits = enabled
            return
        assert self._http is not None
        async with self._http.post(
            f"{self.base}/sandbox/flood-limits", json={"enabled": enabled}
        ) as response:
            response.raise_for_status()

    async def send_requests(self) -> list[dict[str, Any]]:
        """Every sendMessage call the sandbox received: chat, text, outcome."""
        if self._sandbox is not None:
            return [
                {
                    "chat_id": r.params.get("chat_id"),
                    "text": str(r.params.get("text", "")),
                    "ok": r.ok,
                    "error_code": r.error_code,
                }
                for r in self._sandbox.requests
                if r.method == "sendMessage"
            ]
        assert self._http is not None
        async with self._http.get(
            f"{self.base}/sandbox/requests", params={"method": "sendMessage"}
        ) as response:
            response.raise_for_status()
            records = (await response.json())["requests"]
        return [
            {
                "chat_id": r["params"].get("chat_id"),
                "text": str(r["params"].get("text", "")),
                "ok": r["ok"],
                "error_code": r["error_code"],
            }
            for r in records
        ]

    async def add_fault(self, error_code: int, *, retry_after: int | None = None) -> None:
        """The next sendMessage call fails with this error, as Telegram would answer."""
        if self._sandbox is not None:
            self._sandbox.add_fault("sendMessage", error_code, retry_after=retry_after)
            return
        assert self._http is not None
        body: dict[str, Any] = {"method": "sendMessage", "error_code": error_code}
        if retry_after is not None:
            body["retry_after"] = retry_after
        async with self._http.post(f"{self.base}/sandbox/faults", json=body) as response:
            response.raise_for_status()

    async def stop(self) -> None:
        """Stop serving."""
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._sandbox is not None:
            await self._sandbox.close()
        if self._process is not None:
            self._process.terminate()
            await asyncio.to_thread(self._process.join, 10)


def add_users(sandbox: Sandbox, users: int) -> None:
    """The benchmark's readers as sandbox users."""
    for n in range(users):
        sandbox.add_user(FIRST_USER_ID + n, f"Reader {n}")


def serve_sandbox(users: int, port_sender: Any) -> None:
    """Child process: serve a sandbox with the readers until terminated."""

    async def serve() -> None:
        sandbox = Sandbox(token=TOKEN, queue_updates=False)
        add_users(sandbox, users)
        runner = await start_server(sandbox, "127.0.0.1", 0)
        port_sender.send(server_port(runner))
        await asyncio.Event().wait()

    asyncio.run(serve())


def count_deliveries(
    records: list[dict[str, Any]], marker: str, expected: set[int]
) -> tuple[int, int, int, int]:
    """One phase's sendMessage calls: (delivered, duplicates, lost, refused with 429)."""
    per_chat: Counter[int] = Counter()
    refused = 0
    for record in records:
        if marker not in record["text"]:
            continue
        if record["ok"]:
            per_chat[int(record["chat_id"])] += 1
        elif record["error_code"] == 429:
            refused += 1
    delivered = sum(per_chat.values())
    duplicates = sum(count - 1 for count in per_chat.values() if count > 1)
    lost = len(expected - set(per_chat))
    return delivered, duplicates, lost, refused


async def run_phase(
    name: str,
    *,
    host: SandboxHost,
    worker: DeliveryWorker,
    sessionmaker: async_sessionmaker[AsyncSession],
    author: Reader,
    audience: Audience,
    expected_chats: set[int],
) -> Phase:
    """Queue a broadcast and drain it, timing the drain."""
    marker = f"[{name}]"
    _id, recipients, queue_seconds = await queue_broadcast(sessionmaker, author, audience, marker)
    print(f"{name}: queued {recipients} messages in {queue_seconds:.1f} s", flush=True)
    started = time.perf_counter()
    report = DrainReport()
    while True:
        report.add(await worker.drain())
        async with sessionmaker() as session:
            left = await session.scalar(
                select(Notification.id)
                .where(
                    Notification.status.in_(
                        [NotificationStatus.PENDING, NotificationStatus.SENDING]
                    )
                )
                .limit(1)
            )
        if left is None:
            break
        await asyncio.sleep(0.05)  # retries waiting for their backoff (none expected)
    seconds = time.perf_counter() - started
    delivered, duplicates, lost, refused = count_deliveries(
        await host.send_requests(), marker, expected_chats
    )
    phase = Phase(name, recipients, delivered, duplicates, lost, seconds, refused)
    print(
        f"{name}: {delivered} delivered in {seconds:.1f} s = {phase.msgs_per_s:.1f} msgs/s; "
        f"duplicates {duplicates}, lost {lost}, 429s {refused} "
        f"(worker: sent {report.sent}, failed {report.failed}, skipped {report.skipped})",
        flush=True,
    )
    return phase


@dataclass
class Run:
    """One benchmark run's database, sandbox and seeded readers."""

    url: str
    sessionmaker: async_sessionmaker[AsyncSession]
    host: SandboxHost
    base: str
    bot: Bot
    author: Reader
    district_id: int


async def delivery_phases(run: Run, args: argparse.Namespace, limited: int) -> tuple[Phase, Phase]:
    """The flood-limited phase, then the unlimited one."""
    # Quiet hours off, so the run does not depend on the time of day; the frequency
    # cap stays on (each reader gets at most two promotions here).
    settings = Settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=run.url,
        quiet_hours_start=clock_time(0, 0),
        quiet_hours_end=clock_time(0, 0),
    )
    i18n = create_i18n(settings.default_language)
    await run.host.flood_limits(True)
    print(
        f"limited: {limited} recipients (of {args.recipients}), sandbox flood limits on, "
        f"worker paced at {args.rate} msgs/s",
        flush=True,
    )
    limited_phase = await run_phase(
        "limited",
        host=run.host,
        worker=DeliveryWorker(run.sessionmaker, run.bot, i18n, settings, pacer=Pacer(args.rate)),
        sessionmaker=run.sessionmaker,
        author=run.author,
        audience=Audience(BroadcastAudience.DISTRICTS, (run.district_id,)),
        expected_chats={FIRST_USER_ID + n for n in range(limited)},
    )
    await run.host.flood_limits(False)
    unlimited_phase = await run_phase(
        "unlimited",
        host=run.host,
        worker=DeliveryWorker(run.sessionmaker, run.bot, i18n, settings, pacer=Pacer(None)),
        sessionmaker=run.sessionmaker,
        author=run.author,
        audience=Audience(BroadcastAudience.EVERYONE),
        expected_chats={FIRST_USER_ID + n for n in range(args.recipients)},
    )
    return limited_phase, unlimited_phase


async def fault_phase(run: Run, limited: int) -> FaultOutcome:
    """The limited phase's readers again, through faults (``bench.broadcast_faults``)."""

    async def queue(marker: str) -> tuple[int, int]:
        audience = Audience(BroadcastAudience.DISTRICTS, (run.district_id,))
        broadcast_id, recipients, _seconds = await queue_broadcast(
            run.sessionmaker, run.author, audience, marker
        )
        return broadcast_id, recipients

    outcome = await run_fault_phase(
        host=run.host,
        base=run.base,
        token=TOKEN,
        url=run.url,
        sessionmaker=run.sessionmaker,
        queue_broadcast=queue,
        expected_chats={FIRST_USER_ID + n for n in range(limited)},
    )
    print(
        f"faults: {outcome.broadcast_delivered} delivered in {outcome.seconds:.1f} s; lost "
        f"{outcome.lost}, promotional duplicates {outcome.promotional_duplicates}, unknown "
        f"{outcome.unknown} ({outcome.unknown_delivered} of them delivered), notice "
        f"duplicates {outcome.notice_duplicates}, failed {outcome.failed}; 429s "
        f"{outcome.refused_429}, 5xx {outcome.refused_5xx}, timeouts {outcome.timeouts_before} "
        f"before and {outcome.timeouts_after} after delivery, kills {outcome.kills}",
        flush=True,
    )
    return outcome


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase against one scratch database and one sandbox server."""
    recipients = args.recipients
    limited = min(recipients, args.limited_recipients or min(recipients, 2000))
    async with scratch_database(args.database_url) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        host = SandboxHost(recipients, in_process=args.in_process_sandbox)
        base = await host.start()
        bot = Bot(
            TOKEN,
            session=AiohttpSession(api=TelegramAPIServer.from_base(base)),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        try:
            started = time.perf_counter()
            author, district_id = await seed(sessionmaker, recipients, limited)
            where = "in this process" if args.in_process_sandbox else "in a child process"
            print(
                f"seeded {recipients} readers ({engine.dialect.name}) in "
                f"{time.perf_counter() - started:.1f} s; sandbox at {base} ({where})",
                flush=True,
            )
            run = Run(url, sessionmaker, host, base, bot, author, district_id)
            limited_phase, unlimited_phase = await delivery_phases(run, args, limited)
            faults = None if args.no_faults else await fault_phase(run, limited)
        finally:
            await bot.session.close()
            await host.stop()
            await engine.dispose()
    ratio = limited_phase.msgs_per_s / TELEGRAM_LIMIT
    return {
        "recipients": recipients,
        "sent": unlimited_phase.sent,
        "duplicates": limited_phase.duplicates + unlimited_phase.duplicates,
        "lost": limited_phase.lost + unlimited_phase.lost,
        "limited_recipients": limited,
        "limited_sent": limited_phase.sent,
        "limited_429s": limited_phase.rate_limited,
        "rate_setting_msgs_per_s": args.rate,
        "limited_msgs_per_s": round(limited_phase.msgs_per_s, 2),
        "limit_msgs_per_s": TELEGRAM_LIMIT,
        "ratio_to_limit": round(ratio, 3),
        "unlimited_msgs_per_s": round(unlimited_phase.msgs_per_s, 1),
        **(faults.result() if faults else {}),
        "database": "postgresql" if "postgresql" in (args.database_url or "") else "sqlite",
        "sandbox": "in-process" if args.in_process_sandbox else "child process",
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the phases, print the RESULT line."""
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__)
    parser.add_argument("--recipients", type=int, required=True, help="readers to deliver to")
    parser.add_argument("--database-url", help="PostgreSQL or SQLite URL (default: temp SQLite)")
    parser.add_argument(
        "--limited-recipients",
        type=int,
        help="recipients of the flood-limited phase (default: min(recipients, 2000))",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=28.0,
        help="the worker's pace in the limited phase, msgs/s (BOOKBRIDGE_SEND_RATE_PER_S; "
        "default 28, the deployment default is 25)",
    )
    parser.add_argument(
        "--no-faults",
        action="store_true",
        help="skip the fault phase (429s, 5xx, timeouts before and after delivery, two kills)",
    )
    parser.add_argument(
        "--in-process-sandbox",
        action="store_true",
        help="serve the sandbox from this process (default: a child process, like a remote API)",
    )
    args = parser.parse_args(argv)
    if args.recipients < 1:
        parser.error("--recipients must be at least 1")
    result = asyncio.run(benchmark(args))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
