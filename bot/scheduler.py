"""The scheduler behind a small Protocol, and the leader election that keeps it to one process.

Jobs are periodic ticks that read due work from the database, so a restart loses nothing.
On PostgreSQL a session-level advisory lock makes exactly one process the leader: it runs
the scheduler; any other process that starts one stands by, polling for the lock, and
takes over when the leader's database session ends (the process died or was stopped).
SQLite deployments are single-process: the process always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]
# "bkbr" in ASCII: the advisory lock key of the scheduler leader.
LEADER_LOCK_KEY = 0x626B6272


class Scheduler(Protocol):
    """What the jobs need from a scheduler."""

    def every(self, seconds: float, job: Job, *, name: str) -> None:
        """Run ``job`` every ``seconds``, first right after start; never two runs at once."""

    def start(self) -> None:
        """Start running the jobs."""

    async def shutdown(self) -> None:
        """Stop, cancel the runs in progress and wait for them to end."""


class ApsScheduler:
    """The Scheduler on APScheduler's AsyncIOScheduler."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        # APScheduler logs every run of every job at INFO: once a second is noise.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        self.scheduler = AsyncIOScheduler(
            timezone=zone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        # Runs in progress: APScheduler cancels them at shutdown but does not wait for them,
        # and a run still rolling back after its engine is disposed never ends.
        self.runs: set[asyncio.Task[Any]] = set()

    def every(self, seconds: float, job: Job, *, name: str) -> None:
        """Run ``job`` every ``seconds``, first right after start; never two runs at once."""

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self.runs.add(task)
            try:
                await job()
            finally:
                if task is not None:
                    self.runs.discard(task)

        self.scheduler.add_job(
            run,
            IntervalTrigger(seconds=seconds, timezone=self.zone),
            id=name,
            name=name,
            next_run_time=datetime.now(self.zone),
        )

    def start(self) -> None:
        """Start running the jobs."""
        self.scheduler.start()

    async def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop, cancel the runs in progress and wait (up to ``timeout_s``) for them to end."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        runs = [task for task in self.runs if not task.done()]
        for task in runs:
            task.cancel()
        if runs:
            await asyncio.wait(runs, timeout=timeout_s)


class LeaderLock:
    """A PostgreSQL session-level advisory lock on a connection of its own (SQLite: always held)."""

    def __init__(self, engine: AsyncEngine, key: int = LEADER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.connection: AsyncConnection | None = None
        self.held = False

    @property
    def exclusive(self) -> bool:
        """Whether the database can arbitrate between processes."""
        return self.engine.dialect.name == "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it."""
        if not self.exclusive:
            self.held = True
            return True
        try:
            if self.connection is None:
                connection = await self.engine.connect()
                self.connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = await self.connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            )
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("scheduler lock: the database is unreachable (%s)", exc)
            await self._drop()
            return False
        self.held = bool(acquired)
        return self.held

    async def still_held(self) -> bool:
        """Whether the lock's connection is alive (a lost session has lost the lock)."""
        if not self.exclusive:
            return self.held
        if self.connection is None or not self.held:
            return False
        try:
            await self.connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Give the lock up and close its connection."""
        if self.connection is not None and self.held:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                )
        await self._drop()

    async def _drop(self) -> None:
        self.held = False
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()


class SchedulerService:
    """One process's scheduler: leads (and runs the jobs) or stands by until it can."""

    def __init__(
        self,
        engine: AsyncEngine,
        setup: Callable[[Scheduler], None],
        *,
        zone: tzinfo,
        standby_poll_s: float,
        on_stop: Callable[[], Awaitable[None]] | None = None,
        scheduler_factory: Callable[[tzinfo], Scheduler] = ApsScheduler,
    ) -> None:
        self.lock = LeaderLock(engine)
        self.setup = setup
        self.zone = zone
        self.standby_poll_s = standby_poll_s
        self.on_stop = on_stop
        self.scheduler_factory = scheduler_factory
        self.leading = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process runs the scheduler now."""
        return self.leading.is_set()

    def start(self) -> None:
        """Run in the background until stop()."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="scheduler")

    async def stop(self) -> None:
        """Stop the scheduler (if leading) and give the lock up."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Lead when possible, stand by otherwise, until cancelled."""
        waiting_logged = False
        try:
            while True:
                if await self.lock.try_acquire():
                    waiting_logged = False
                    await self._lead()
                    continue
                if not waiting_logged:
                    logger.info("scheduler: another process leads; standing by")
                    waiting_logged = True
                await self._idle()
        finally:
            await self.lock.release()

    async def _idle(self) -> None:
        await asyncio.sleep(self.standby_poll_s)

    async def _lead(self) -> None:
        scheduler = self.scheduler_factory(self.zone)
        self.setup(scheduler)
        scheduler.start()
        self.leading.set()
        logger.info("scheduler: this process leads")
        try:
            while await self.lock.still_held():
                await self._idle()
            logger.warning("scheduler: lost the leader lock (database session gone)")
        finally:
            self.leading.clear()
            await scheduler.shutdown()
            if self.on_stop is not None:
                await self.on_stop()
