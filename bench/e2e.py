"""End-to-end benchmark: simulated readers through the HTTP sandbox to webhook instances.

    python -m bench.e2e --users 200 [--instances N] [--database-url URL] [--redis-url URL]

Everything runs as it is deployed: the sandbox Bot API server (flood limits off) delivers
updates to a round-robin proxy in front of N `bookbridge run --webhook --no-scheduler`
processes (throttling off), sharing one database (and Redis, when several instances or a
Redis URL are given); each instance rebuilds its own search index from the database at start.
Every simulated reader onboards (language, district, location), searches the demo catalogue,
opens the first work's card and reserves: it taps the first "rsv:" button and then the first
"rsvp:" button when the card has them (otherwise the step is skipped and counted).

The baseline, measured in the same run through the same sandbox and proxy: a minimal aiogram
echo bot on the same webhook handler, with as many readers sending as many text messages.
Latency is from the update's arrival in the sandbox to the bot's first reaction (a message,
an edit or a callback answer). The last line printed is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.engine import make_url

from bench.broadcast import scratch_database
from sandbox.core import Sandbox
from sandbox.server import server_port, start_server

TOKEN = "424242:E2E-BENCHMARK"
SECRET = "bench-e2e-secret"
WEBHOOK_PATH = "/telegram/webhook"
FIRST_USER_ID = 30_000_000
STEP_TIMEOUT_S = 120.0
# One prefix for every instance of a run: they must share FSM state, locks and buckets.
REDIS_PREFIX = f"bench-e2e-{os.getpid()}-{uuid.uuid4().hex[:6]}"
QUERIES = ("论语", "道德经", "史记", "红楼梦", "Confucius", "history", "庄子", "诗经", "三国")


# --------------------------------------------------------------------------- the proxy


class RoundRobinProxy:
    """The load balancer: each webhook POST goes to the next instance in turn."""

    def __init__(self, upstreams: Sequence[str]) -> None:
        self.upstreams = list(upstreams)
        self.turn = 0
        self.http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        """Serve on a free loopback port."""
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{server_port(self.runner)}"

    async def forward(self, request: web.Request) -> web.Response:
        """Pass the body and the secret header on; the answer back."""
        assert self.http is not None
        upstream = self.upstreams[self.turn % len(self.upstreams)]
        self.turn += 1
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        async with self.http.post(
            upstream + request.path_qs, data=await request.read(), headers=headers
        ) as response:
            return web.Response(
                status=response.status,
                body=await response.read(),
                headers={"Content-Type": response.headers.get("Content-Type", "text/plain")},
            )

    async def close(self) -> None:
        """Stop serving."""
        if self.runner is not None:
            await self.runner.cleanup()
        if self.http is not None:
            await self.http.close()


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    """A child process serving a webhook on a loopback port."""

    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def url(self) -> str:
        """The upstream URL of the process."""
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """SIGTERM, then wait (kill after 10 s)."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def spawn(args: Sequence[str], env: dict[str, str], port: int, log: Path) -> Process:
    """Start ``python args...`` with its output in ``log``."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    return Process(process=process, port=port, log=log)


async def wait_healthy(http: aiohttp.ClientSession, process: Process, timeout: float) -> None:  # noqa: ASYNC109
    """Poll /healthz until 200 (the index is rebuilt, the database and Redis answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.returncode is not None:
            raise SystemExit(
                f"bench: an instance exited ({process.process.returncode}); see {process.log}:\n"
                + process.log.read_text(errors="replace")[-2000:]
            )
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(process.url + "/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.25)
    raise SystemExit(f"bench: an instance did not become healthy; see {process.log}")


def instance_env(
    database_url: str, sandbox_url: str, proxy_url: str, port: int, index_dir: Path, redis: str
) -> dict[str, str]:
    """The settings of one `bookbridge run --webhook` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKBRIDGE_")}
    env.update(
        {
            "BOOKBRIDGE_BOT_TOKEN": TOKEN,
            "BOOKBRIDGE_API_BASE": sandbox_url,
            "BOOKBRIDGE_DATABASE_URL": database_url,
            "BOOKBRIDGE_INDEX_DIR": str(index_dir),
            "BOOKBRIDGE_WEBHOOK_URL": proxy_url,
            "BOOKBRIDGE_WEBHOOK_PATH": WEBHOOK_PATH,
            "BOOKBRIDGE_WEBHOOK_SECRET": SECRET,
            "BOOKBRIDGE_WEBHOOK_HOST": "127.0.0.1",
            "BOOKBRIDGE_WEBHOOK_PORT": str(port),
            "BOOKBRIDGE_THROTTLE_ENABLED": "false",
            "BOOKBRIDGE_LOG_LEVEL": "WARNING",
            "BOOKBRIDGE_DEFAULT_LANGUAGE": "en",
        }
    )
    if redis:
        env["BOOKBRIDGE_REDIS_URL"] = redis
        env["BOOKBRIDGE_REDIS_PREFIX"] = REDIS_PREFIX
    return env


# --------------------------------------------------------------------------- the echo bot


async def serve_echo(port: int, api_base: str, webhook_url: str) -> None:
    """The baseline: a minimal aiogram echo bot on the same webhook handler."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=SECRET).register(app, path=WEBHOOK_PATH)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await bot.set_webhook(webhook_url + WEBHOOK_PATH, secret_token=SECRET)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- readers


class BenchSandbox(Sandbox):
    """The sandbox, waking only the reader whose chat changed (hundreds wait at once)."""

    def __init__(self, token: str) -> None:
        super().__init__(token, flood_limits=False)
        self.chat_events: dict[int, asyncio.Event] = {}

    async def _deliver_webhooks(self) -> None:
        # Like Telegram, up to max_connections webhook requests at once (the base sandbox
        # sends one at a time, which would measure round trips, not the bot).
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

            async def lane() -> None:
                while self.webhook is not None and not self._closed:
                    if not self._updates:
                        await self._wait_for_change(None)
                        continue
                    hook, update = self.webhook, self._updates.pop(0)
                    if not await self._deliver(session, hook, update):
                        self._updates.insert(0, update)
                        await asyncio.sleep(0.1)

            lanes = self.webhook.max_connections if self.webhook is not None else 1
            await asyncio.gather(*(lane() for _ in range(lanes)))

    def _signal(self, user_id: int) -> None:
        event = self.chat_events.get(user_id)
        if event is not None:
            event.set()

    def _touch(self, chat: Any, message_id: int) -> None:
        super()._touch(chat, message_id)
        self._signal(chat.user_id)

    async def _answer_callback_query(self, method: Any, uploads: Any) -> bool:
        answered = await super()._answer_callback_query(method, uploads)
        query = self._callback_queries.get(method.callback_query_id)
        if query is not None:
            self._signal(query.from_user.id)
        return answered

    async def wait_for_reader(
        self,
        user_id: int,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        """Wait until the predicate holds after a change in this reader's chat."""
        event = self.chat_events.setdefault(user_id, asyncio.Event())
        deadline = time.monotonic() + timeout
        while True:
            event.clear()
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent while the readers ran: the bot's processes, this one, the machine."""

    servers: float
    driver: float
    machine: float
    cores: int
    wall: float

    def per_update_ms(self, updates: int) -> dict[str, float]:
        """Milliseconds of CPU per update: the bot processes, this process, everything."""
        share = 1000 / max(1, updates)
        return {
            "servers": round(self.servers * share, 2),
            "driver": round(self.driver * share, 2),
            "machine": round(self.machine * share, 2),
        }

    @property
    def busy(self) -> float:
        """The share of all cores that was busy (1.0: the machine was saturated)."""
        return self.machine / (self.wall * self.cores) if self.wall else 0.0


def _clock_ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def _process_cpu(pid: int) -> float:
    """User plus system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine since boot (Linux /proc; 0 elsewhere)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    ticks = [int(value) for value in first[1:9]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / _clock_ticks()


@dataclass
class Tally:
    """What the simulated readers did and how long each reaction took."""

    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    skipped_reserve: int = 0
    skipped_pickup: int = 0
    reserved: int = 0
    failures: list[str] = field(default_factory=list)
    cpu: CpuUse | None = None


def _buttons(sandbox: Sandbox, user_id: int) -> list[tuple[int, str, str]]:
    """(message id, label, callback data) of the newest bot message with inline buttons."""
    for message in reversed(sandbox.messages(user_id)):
        markup = message.reply_markup
        if (
            sandbox.is_from_bot(message)
            and markup is not None
            and hasattr(markup, "inline_keyboard")
        ):
            return [
                (message.message_id, button.text, button.callback_data or "")
                for row in markup.inline_keyboard
                for button in row
            ]
    return []


class SimulatedReader:
    """One reader: each step sends an update and waits for the state the next step needs."""

    def __init__(self, sandbox: BenchSandbox, user_id: int, tally: Tally) -> None:
        self.sandbox = sandbox
        self.user_id = user_id
        self.tally = tally

    async def _react(self, emit: Callable[[], Any], *, callback: bool) -> None:
        started = time.perf_counter()
        before = self.sandbox.chat_version(self.user_id)
        update = emit()
        after_emit = self.sandbox.chat_version(self.user_id)
        query_id = update.callback_query.id if callback else None

        def reacted() -> bool:
            if query_id is not None and self.sandbox.callback_answer(query_id) is not None:
                return True
            return self.sandbox.chat_version(self.user_id) > max(before, after_emit)

        if not await self.sandbox.wait_for_reader(self.user_id, reacted, STEP_TIMEOUT_S):
            raise TimeoutError(f"reader {self.user_id}: no reaction")
        self.tally.latencies.append(time.perf_counter() - started)
        self.tally.updates += 1

    async def _until(self, predicate: Callable[[], bool], what: str) -> None:
        if not await self.sandbox.wait_for_reader(self.user_id, predicate, STEP_TIMEOUT_S):
            raise TimeoutError(f"reader {self.user_id}: {what} never came")

    def _button(self, *, label: str | None = None, prefix: str | None = None) -> tuple[int, str]:
        for message_id, text, data in _buttons(self.sandbox, self.user_id):
            if (label is not None and text == label) or (
                prefix is not None and data.startswith(prefix)
            ):
                return message_id, data
        return 0, ""

    async def send(self, text: str) -> None:
        """Type a message; wait for the first reaction."""
        await self._react(lambda: self.sandbox.send_text(self.user_id, text), callback=False)

    async def press(self, message_id: int, data: str) -> None:
        """Tap a button by its callback data; wait for the answer or a change."""
        await self._react(
            lambda: self.sandbox.press(self.user_id, message_id, callback_data=data),
            callback=True,
        )

    async def press_when_shown(self, label: str) -> None:
        """Wait for a button with this label, then tap it."""
        await self._until(lambda: bool(self._button(label=label)[1]), f"button {label!r}")
        await self.press(*self._button(label=label))

    async def visit(self, query: str) -> None:
        """Onboard, search, open the first work, reserve it when the card allows."""
        await self.send("/start")
        await self.press_when_shown("English")
        await self.press_when_shown("Skip")
        await self._until(self._location_asked, "the location question")
        await self.send("Skip")
        await self._until(self._menu_shown, "the main menu")
        await self.send(query)
        await self._until(lambda: bool(self._button(prefix="wk:")[1]), "a search result")
        version = self.sandbox.chat_version(self.user_id)
        await self.press(*self._button(prefix="wk:"))
        await self._until(lambda: self.sandbox.chat_version(self.user_id) > version, "the card")
        message_id, reserve = self._button(prefix="rsv:")
        if not reserve:
            self.tally.skipped_reserve += 1
            return
        await self.press(message_id, reserve)
        await self._until(lambda: bool(self._button(prefix="rsvp:")[1]), "the pickup choice")
        message_id, pickup = self._button(prefix="rsvp:")
        if not pickup:
            self.tally.skipped_pickup += 1
            return
        await self.press(message_id, pickup)
        self.tally.reserved += 1

    def _location_asked(self) -> bool:
        keyboard = self.sandbox.reply_keyboard(self.user_id)
        return keyboard is not None and any(
            button.text == "Skip" for row in keyboard.keyboard for button in row
        )

    def _menu_shown(self) -> bool:
        keyboard = self.sandbox.reply_keyboard(self.user_id)
        return keyboard is not None and not any(
            button.text == "Skip" for row in keyboard.keyboard for button in row
        )

    async def chatter(self, messages: int) -> None:
        """The baseline reader: send text messages, each after the echo of the last."""
        for number in range(messages):
            await self.send(f"hello {number}")


async def drive(
    sandbox: BenchSandbox,
    users: int,
    first_id: int,
    run: Callable[[SimulatedReader, int], Any],
    servers: Sequence[Process] = (),
) -> tuple[Tally, float]:
    """Run every reader at once; (tally with the CPU spent, wall seconds)."""
    tally = Tally()
    readers = []
    for number in range(users):
        sandbox.add_user(first_id + number, f"Reader {number}", language_code="en")
        readers.append(SimulatedReader(sandbox, first_id + number, tally))

    async def one(reader: SimulatedReader, number: int) -> None:
        try:
            await run(reader, number)
        except TimeoutError as exc:
            tally.failures.append(str(exc))

    def cpu_now() -> tuple[float, float, float]:
        served = sum(_process_cpu(server.process.pid) for server in servers)
        return served, time.process_time(), _machine_cpu()

    before = cpu_now()
    started = time.perf_counter()
    await asyncio.gather(*(one(reader, number) for number, reader in enumerate(readers)))
    wall = time.perf_counter() - started
    after = cpu_now()
    tally.cpu = CpuUse(
        servers=after[0] - before[0],
        driver=after[1] - before[1],
        machine=after[2] - before[2],
        cores=os.cpu_count() or 1,
        wall=wall,
    )
    return tally, wall


# --------------------------------------------------------------------------- the run


async def prepare_database(url: str) -> None:
    """Migrate and seed the demo alliance (districts, libraries, catalogue, events)."""
    from bot.config import Settings
    from bot.db import create_engine, create_sessionmaker
    from bot.migrate import upgrade
    from bot.services.demo import seed_demo

    await asyncio.to_thread(upgrade, url)
    settings = Settings(_env_file=None, database_url=url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            await seed_demo(session, today=datetime.now(settings.zone).date(), zone=settings.zone)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def sandbox_and_proxy() -> AsyncIterator[tuple[BenchSandbox, str, RoundRobinProxy]]:
    """The sandbox server (no flood limits) and an empty proxy in front of nothing yet."""
    sandbox = BenchSandbox(TOKEN)
    runner = await start_server(sandbox, "127.0.0.1", 0)
    proxy = RoundRobinProxy([])
    await proxy.start()
    try:
        yield sandbox, f"http://127.0.0.1:{server_port(runner)}", proxy
    finally:
        await proxy.close()
        await runner.cleanup()
        await sandbox.close()


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure_bookbridge(
    database_url: str, users: int, instances: int, redis: str, folder: Path
) -> tuple[Tally, float]:
    """The real bot: N webhook instances behind the proxy."""
    async with (
        sandbox_and_proxy() as (sandbox, sandbox_url, proxy),
        aiohttp.ClientSession() as http,
    ):
        processes = []
        try:
            for number in range(instances):
                port = free_port()
                env = instance_env(
                    database_url, sandbox_url, proxy.url, port, folder / f"index-{number}", redis
                )
                args = ["-m", "bot.cli", "run", "--webhook", "--no-scheduler"]
                processes.append(await spawn(args, env, port, folder / f"instance-{number}.log"))
            for process in processes:
                await wait_healthy(http, process, 600)
                proxy.upstreams.append(process.url)

            async def visit(reader: SimulatedReader, number: int) -> None:
                await reader.visit(QUERIES[number % len(QUERIES)])

            return await drive(sandbox, users, FIRST_USER_ID, visit, processes)
        finally:
            for process in processes:
                await process.stop()


async def measure_echo(users: int, messages: int, folder: Path) -> tuple[Tally, float]:
    """The baseline: the echo bot behind the same proxy on the same sandbox."""
    async with (
        sandbox_and_proxy() as (sandbox, sandbox_url, proxy),
        aiohttp.ClientSession() as http,
    ):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKBRIDGE_")}
        args = ["-m", "bench.e2e", "--serve-echo", str(port), sandbox_url, proxy.url]
        process = await spawn(args, env, port, folder / "echo.log")
        try:
            await wait_healthy(http, process, 60)
            proxy.upstreams.append(process.url)
            await sandbox.wait_until(lambda: sandbox.webhook is not None, 10)

            async def chatter(reader: SimulatedReader, number: int) -> None:
                await reader.chatter(messages)

            return await drive(sandbox, users, FIRST_USER_ID + 5_000_000, chatter, [process])
        finally:
            await process.stop()


async def forget_redis_keys(url: str) -> None:
    """Delete this run's keys (FSM state, locks, buckets) from Redis."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{REDIS_PREFIX}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both measurements; the RESULT figures."""
    redis = args.redis_url or ("redis://127.0.0.1:6379/0" if args.instances > 1 else "")
    with tempfile.TemporaryDirectory(prefix="bookbridge-e2e-") as scratch:
        folder = Path(args.work_dir or scratch)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        async with scratch_database(args.database_url) as database_url:
            await prepare_database(database_url)
            tally, seconds = await measure_bookbridge(
                database_url, args.users, args.instances, redis, folder
            )
        if redis:
            await forget_redis_keys(redis)
        per_reader = max(1, round(tally.updates / max(1, args.users)))
        echo, echo_seconds = await measure_echo(args.users, per_reader, folder)
    updates_per_s = tally.updates / seconds if seconds else 0.0
    echo_per_s = echo.updates / echo_seconds if echo_seconds else 0.0
    print(
        f"bookbridge: {tally.updates} updates from {args.users} readers in {seconds:.1f} s "
        f"on {args.instances} instance(s): {updates_per_s:.1f} updates/s, "
        f"p50 {_percentile(tally.latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {_percentile(tally.latencies, 0.95) * 1000:.0f} ms; reserved {tally.reserved}, "
        f"cards without Reserve {tally.skipped_reserve}, failures {len(tally.failures)}"
    )
    print(
        f"echo bot:   {echo.updates} updates in {echo_seconds:.1f} s: {echo_per_s:.1f} updates/s, "
        f"p50 {_percentile(echo.latencies, 0.5) * 1000:.0f} ms"
    )
    if tally.cpu is not None and tally.cpu.machine:
        used = tally.cpu.per_update_ms(tally.updates)
        print(
            f"cpu per update: {used['servers']:.2f} ms in the instance(s), "
            f"{used['driver']:.2f} ms in the sandbox, proxy and readers, "
            f"{used['machine']:.2f} ms on the whole machine; the machine was "
            f"{tally.cpu.busy:.0%} busy over {tally.cpu.cores} cores"
        )
    for failure in (tally.failures + echo.failures)[:5]:
        print(f"failure: {failure}")
    backend = make_url(args.database_url).get_backend_name() if args.database_url else "sqlite"
    return {
        "updates_per_s": round(updates_per_s, 1),
        "p50_ms": round(_percentile(tally.latencies, 0.5) * 1000, 1),
        "p95_ms": round(_percentile(tally.latencies, 0.95) * 1000, 1),
        "echo_updates_per_s": round(echo_per_s, 1),
        "echo_p50_ms": round(_percentile(echo.latencies, 0.5) * 1000, 1),
        "ratio_to_echo": round(updates_per_s / echo_per_s, 3) if echo_per_s else 0.0,
        "instances": args.instances,
        "database": backend,
        "redis": bool(redis),
        "users": args.users,
        "updates": tally.updates,
        "reserved": tally.reserved,
        "skipped_reserve": tally.skipped_reserve,
        "skipped_pickup": tally.skipped_pickup,
        "failures": len(tally.failures) + len(echo.failures),
        "mean_ms": round(statistics.fmean(tally.latencies) * 1000, 1) if tally.latencies else 0.0,
        "cpu_ms_per_update": tally.cpu.per_update_ms(tally.updates) if tally.cpu else None,
        "echo_cpu_ms_per_update": echo.cpu.per_update_ms(echo.updates) if echo.cpu else None,
        "machine_busy": round(tally.cpu.busy, 3) if tally.cpu else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, print ``RESULT {json}`` last."""
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__)
    parser.add_argument("--users", type=int, default=200, help="simulated readers (default 200)")
    parser.add_argument("--instances", type=int, default=1, help="webhook instances (default 1)")
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to make a scratch database on (default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--redis-url", help="Redis for shared state (default: local Redis with 2+ instances)"
    )
    parser.add_argument(
        "--work-dir", help="keep the instances' logs and indexes here (default: a temporary folder)"
    )
    parser.add_argument(
        "--serve-echo", nargs=3, metavar=("PORT", "API", "URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve_echo:
        port, api_base, webhook_url = args.serve_echo
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_echo(int(port), api_base, webhook_url))
        return 0
    if args.users < 1 or args.instances < 1:
        parser.error("--users and --instances must be at least 1")
    result = asyncio.run(run(args))
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
