"""The scheduler: jobs run, one leader on PostgreSQL, a standby takes over; the CLI commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import tzinfo
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import build_application, build_scheduler
from bot.config import Settings
from bot.db import create_engine
from bot.scheduler import ApsScheduler, Job, LeaderLock, SchedulerService
from bot.services import outbox
from bot.services.outbox import OutboxMessage
from sandbox.core import Sandbox
from tests.conftest import POSTGRES_URL
from tests.outbox.conftest import add_readers, bot_messages

ZONE = ZoneInfo("Asia/Shanghai")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="leader election uses PostgreSQL advisory locks: set BOOKBRIDGE_TEST_DATABASE_URL",
)


class RecordingScheduler:
    """A Scheduler that only records what it was asked."""

    instances: list[RecordingScheduler] = []

    def __init__(self, zone: tzinfo) -> None:
        self.jobs: dict[str, float] = {}
        self.running = False
        RecordingScheduler.instances.append(self)

    def every(self, seconds: float, job: Job, *, name: str) -> None:
        self.jobs[name] = seconds

    def start(self) -> None:
        self.running = True

    async def shutdown(self) -> None:
        self.running = False


async def _wait_for(condition: Callable[[], bool]) -> None:
    """Poll for up to five seconds."""
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never came true")


async def test_apscheduler_runs_periodic_jobs_one_at_a_time() -> None:
    scheduler = ApsScheduler(ZONE)
    runs: list[int] = []
    overlapping = {"now": 0, "most": 0}

    async def job() -> None:
        overlapping["now"] += 1
        overlapping["most"] = max(overlapping["most"], overlapping["now"])
        runs.append(len(runs))
        await asyncio.sleep(0.15)
        overlapping["now"] -= 1

    scheduler.every(0.05, job, name="tick")
    scheduler.start()
    try:
        await _wait_for(lambda: len(runs) >= 3)
    finally:
        await scheduler.shutdown()
    assert overlapping["most"] == 1


async def test_shutdown_waits_for_a_run_in_progress_to_clean_up() -> None:
    scheduler = ApsScheduler(ZONE)
    started = asyncio.Event()
    cleaned_up: list[bool] = []

    async def job() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0.05)  # a rollback, say: it must finish before shutdown returns
            cleaned_up.append(True)

    scheduler.every(60, job, name="long")
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.shutdown()
    assert cleaned_up == [True]
    assert not scheduler.runs


async def test_the_app_scheduler_delivers_the_outbox_on_its_own(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    sandbox: Sandbox,
) -> None:
    from bot.app import create_bot
    from sandbox.session import SandboxSession

    readers = await add_readers(session, sandbox, 3)
    for reader in readers:
        await outbox.enqueue(
            session,
            reader_id=reader.id,
            kind="hold_ready",
            message=OutboxMessage(text={"en": "Your book is ready"}),
            dedup_key=f"hold:{reader.id}",
        )
    await session.commit()
    app = build_application(
        settings.model_copy(update={"outbox_poll_s": 0.05, "scheduler_standby_poll_s": 0.05}),
        engine=engine,
    )
    bot = create_bot(settings.require_token(), session=SandboxSession(sandbox))
    service = build_scheduler(app, bot)
    service.start()
    try:
        await _wait_for(lambda: all(bot_messages(sandbox, r.telegram_id) for r in readers))
        assert service.is_leader
    finally:
        await service.stop()
        await app.indexer.close()
    assert not service.is_leader
    assert [len(bot_messages(sandbox, r.telegram_id)) for r in readers] == [1, 1, 1]


async def test_on_sqlite_the_process_always_leads(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite behaviour")
    stopped: list[bool] = []

    async def on_stop() -> None:
        stopped.append(True)

    RecordingScheduler.instances.clear()
    service = SchedulerService(
        engine,
        lambda s: s.every(1.0, _noop, name="outbox"),
        zone=ZONE,
        standby_poll_s=0.02,
        on_stop=on_stop,
        scheduler_factory=RecordingScheduler,
    )
    service.start()
    await asyncio.wait_for(service.leading.wait(), 5)
    [scheduler] = RecordingScheduler.instances
    assert scheduler.running
    assert scheduler.jobs == {"outbox": 1.0}
    await service.stop()
    assert not scheduler.running
    assert stopped == [True]


async def _noop() -> None:
    return None


@needs_postgres
async def test_one_leader_and_a_standby_that_takes_over(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(2)]
    RecordingScheduler.instances.clear()
    services = [
        SchedulerService(
            engine,
            lambda s: s.every(1.0, _noop, name="outbox"),
            zone=ZONE,
            standby_poll_s=0.05,
            scheduler_factory=RecordingScheduler,
        )
        for engine in engines
    ]
    try:
        first, second = services
        first.start()
        await asyncio.wait_for(first.leading.wait(), 5)
        second.start()
        await asyncio.sleep(0.3)
        assert first.is_leader
        assert not second.is_leader
        assert len(RecordingScheduler.instances) == 1

        # The leader's database session dies: it stops its scheduler at once, and one
        # process (whichever gets the lock first) leads again.
        assert first.lock.connection is not None
        pid = await first.lock.connection.scalar(text("SELECT pg_backend_pid()"))
        async with engines[1].connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await _wait_for(lambda: not RecordingScheduler.instances[0].running)
        await _wait_for(lambda: len(RecordingScheduler.instances) == 2)
        await asyncio.sleep(0.3)
        assert first.is_leader != second.is_leader
        assert [s.running for s in RecordingScheduler.instances] == [False, True]

        # The leader process stops (or dies): the standby takes over.
        leader, standby = (first, second) if first.is_leader else (second, first)
        await leader.stop()
        await asyncio.wait_for(standby.leading.wait(), 5)
        assert [s.running for s in RecordingScheduler.instances] == [False, False, True]
    finally:
        for service in services:
            await service.stop()
        for engine in engines:
            await engine.dispose()


LEADER_PROCESS = """
import asyncio, sys
from bot.db import create_engine
from bot.scheduler import LeaderLock

async def main() -> None:
    lock = LeaderLock(create_engine(sys.argv[1]))
    print("leading" if await lock.try_acquire() else "standby", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@needs_postgres
async def test_a_standby_takes_over_when_the_leader_process_is_killed(database_url: str) -> None:
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEADER_PROCESS, database_url, stdout=asyncio.subprocess.PIPE
    )
    engine = create_engine(database_url)
    RecordingScheduler.instances.clear()
    standby = SchedulerService(
        engine,
        lambda s: s.every(1.0, _noop, name="outbox"),
        zone=ZONE,
        standby_poll_s=0.05,
        scheduler_factory=RecordingScheduler,
    )
    try:
        assert leader.stdout is not None
        assert await asyncio.wait_for(leader.stdout.readline(), 30) == b"leading\n"
        standby.start()
        await asyncio.sleep(0.3)
        assert not standby.is_leader
        leader.kill()  # SIGKILL: no cleanup, the server ends its session
        await leader.wait()
        await asyncio.wait_for(standby.leading.wait(), 10)
        assert RecordingScheduler.instances[0].running
    finally:
        if leader.returncode is None:
            leader.kill()
            await leader.wait()
        await standby.stop()
        await engine.dispose()


@needs_postgres
async def test_the_leader_lock_is_exclusive(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(2)]
    locks = [LeaderLock(engine) for engine in engines]
    try:
        assert await locks[0].try_acquire()
        assert not await locks[1].try_acquire()
        assert await locks[0].still_held()
        await locks[0].release()
        assert await locks[1].try_acquire()
    finally:
        for lock in locks:
            await lock.release()
        for engine in engines:
            await engine.dispose()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKBRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_has_worker_and_no_scheduler() -> None:
    assert "worker" in _cli("--help").stdout
    assert "--no-scheduler" in _cli("run", "--help").stdout
    result = _cli("worker")
    assert result.returncode == 2
    assert "BOOKBRIDGE_BOT_TOKEN" in result.stderr
