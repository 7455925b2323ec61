"""The delivery worker: claims due rows in priority order and sends them, one at a time, paced."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery.batch import Batch
from bot.delivery.failures import Halt
from bot.delivery.pacing import Pacer, Timekeeper
from bot.delivery.rendering import RenderedParts
from bot.delivery.reports import DrainReport
from bot.delivery.sending import Sender
from bot.services.outbox import claiming, promotion
from bot.services.outbox.claiming import Delivery
from bot.services.outbox.promotion import PromotionRules, QuietHours, Verdict
from bot.services.outbox.reasons import BLOCKED

logger = logging.getLogger(__name__)

# A second message for the same chat waits in memory this long at most; later ones go back
# to the queue with a not_before, so one busy chat never holds up a batch.
CHAT_HOLD_S = 2.0
HALT_S = 60.0


def new_worker_id() -> str:
    """Host, process and a random suffix: who holds a claim."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class DeliveryWorker:
    """Claims due outbox rows in priority order and sends them, one at a time, paced."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        i18n: I18n,
        settings: Settings,
        *,
        pacer: Pacer | None = None,
        timekeeper: Timekeeper | None = None,
        worker_id: str | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.i18n = i18n
        self.settings = settings
        self.time = timekeeper or (pacer.time if pacer else Timekeeper())
        self.pacer = pacer or Pacer(settings.send_rate_per_s, timekeeper=self.time)
        self.worker_id = worker_id or new_worker_id()
        self.batch_size = batch_size or settings.outbox_batch_size
        self.claim_timeout = timedelta(seconds=settings.claim_timeout_s)
        self.rules = PromotionRules(
            quiet=QuietHours(settings.quiet_hours_start, settings.quiet_hours_end, settings.zone),
            cap_count=settings.promo_cap_count,
            cap_days=settings.promo_cap_days,
        )
        self.sender = Sender(
            bot,
            settings,
            self.pacer,
            RenderedParts(i18n, settings),
            worker_id=self.worker_id,
            timekeeper=self.time,
        )
        self.halted_until = 0.0
        self.next_reclaim = float("-inf")
        self._task: asyncio.Task[DrainReport] | None = None

    @property
    def rate_limited_total(self) -> int:
        """429s since start, for the metrics endpoint."""
        return self.sender.rate_limited_total

    # --- the loop ----------------------------------------------------------------------

    def kick(self) -> None:
        """Start a drain in the background unless one is running (the periodic job's tick)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.drain(), name="outbox-drain")
            self._task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        """Cancel a background drain (unsent claims go back to the queue)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drain(self) -> DrainReport:
        """Send everything due now; return when nothing due is left."""
        report = DrainReport()
        if self.time.monotonic() < self.halted_until:
            report.halted = True
            return report
        # Abandoned claims are looked for now and then, not on every tick.
        if self.time.monotonic() >= self.next_reclaim:
            self.next_reclaim = self.time.monotonic() + self.claim_timeout.total_seconds() / 4
            async with self.sessionmaker() as session:
                report.reclaimed = await claiming.reclaim_stale(
                    session,
                    now=self.time.now(),
                    claim_timeout=self.claim_timeout,
                    max_attempts=self.settings.send_max_attempts,
                )
        while True:
            now = self.time.now()
            async with self.sessionmaker() as session:
                claimed = await claiming.claim_due(
                    session,
                    worker_id=self.worker_id,
                    now=now,
                    limit=self.batch_size,
                    promotional=not self.rules.quiet.active(now),
                )
            if not claimed:
                return report
            try:
                await self._process(claimed, report)
            except Halt:
                self.halted_until = self.time.monotonic() + HALT_S
                report.halted = True
                return report

    async def _process(self, claimed: list[Delivery], report: DrainReport) -> None:
        batch = Batch(
            self.worker_id,
            self.time,
            self.claim_timeout,
            claimed={d.id for d in claimed},
            claimed_at=self.time.monotonic(),
        )
        # (ready at, claim order, chat slot booked, row): claim order is priority order.
        queue: list[tuple[float, int, bool, Delivery]] = [
            (0.0, n, False, d) for n, d in enumerate(claimed)
        ]
        inflight: int | None = None
        engine = self.sessionmaker.kw["bind"]
        try:
            # One connection for the whole batch: each outcome is still its own committed
            # transaction, without a pool checkout and reset around every message.
            async with (
                engine.connect() as connection,
                self.sessionmaker(bind=connection) as session,
                self._marking(engine, session) as marks,
            ):
                await self._load_caps(session, claimed, batch)
                while queue:
                    ready, order, booked, delivery = queue[0]
                    wait = ready - self.time.monotonic()
                    if wait > 0:
                        await self.time.sleep(wait)
                        continue
                    heapq.heappop(queue)
                    if not await self._screen(session, delivery, batch, report):
                        continue
                    slot = self._chat_slot(delivery.chat_id, batch, booked=booked)
                    if slot is None:
                        await batch.release(session, delivery, batch.chat_backlog)
                        report.deferred += 1
                        continue
                    if slot > 0:
                        heapq.heappush(queue, (self.time.monotonic() + slot, order, True, delivery))
                        continue
                    inflight = delivery.id
                    await self.sender.deliver(session, marks, delivery, batch, report)
                    batch.settled(delivery)
                    inflight = None
        finally:
            # Cancelled or failed mid-batch: what was never sent goes back to the queue now;
            # the one in flight (maybe delivered) waits for the claim timeout.
            leftover = sorted(batch.claimed - {inflight} if inflight else batch.claimed)
            if leftover:
                await self._release_leftover(leftover)

    @contextlib.asynccontextmanager
    async def _marking(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> AsyncIterator[AsyncSession]:
        """The session that records each send: the batch session, or on PostgreSQL a
        connection in autocommit mode whose commits do not wait for the WAL flush.

        One UPDATE is one round trip there instead of four. A worker that dies still leaves
        at most the message in flight in doubt; only a crash of the database server itself
        could forget the last fraction of a second of marks (and repeat those messages),
        which is what SQLite's WAL mode with synchronous=NORMAL gives too.
        """
        if engine.dialect.name != "postgresql":
            yield session
            return
        connection = await engine.connect()
        clean = False
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql("SET synchronous_commit = off")
            async with self.sessionmaker(bind=connection) as marks:
                yield marks
            await connection.exec_driver_sql("RESET synchronous_commit")
            clean = True
        finally:
            if not clean:
                # Never hand a connection with relaxed commits back to the pool.
                with contextlib.suppress(Exception):
                    await connection.invalidate()
            await connection.close()

    async def _release_leftover(self, ids: list[int]) -> None:
        try:
            async with self.sessionmaker() as session:
                await claiming.release(session, ids, worker_id=self.worker_id)
        except Exception:
            logger.exception("could not release %d claimed notifications", len(ids))

    async def _load_caps(
        self, session: AsyncSession, claimed: list[Delivery], batch: Batch
    ) -> None:
        readers = {d.reader_id for d in claimed if d.promotional}
        if readers and self.rules.cap_count:
            batch.promotional_sent = await promotion.sent_promotional_counts(
                session, readers, since=self.rules.cap_window_start(self.time.now())
            )

    async def _screen(
        self, session: AsyncSession, delivery: Delivery, batch: Batch, report: DrainReport
    ) -> bool:
        """Apply the reader protections; False when the row was settled (skipped, released)."""
        if delivery.reader_id in batch.blocked_readers:
            if delivery.promotional or delivery.broadcast_id is not None:
                await batch.skip(session, delivery, f"{BLOCKED}: 403 earlier")
                report.skipped += 1
            else:
                await batch.release(session, delivery, None)
                report.deferred += 1
            return False
        now = self.time.now()
        judgement = promotion.judge_promotion(
            delivery,
            now=now,
            rules=self.rules,
            sent_recently=batch.promotional_sent.get(delivery.reader_id, 0),
        )
        if judgement.verdict is Verdict.SKIP:
            await batch.skip(session, delivery, judgement.reason)
            report.skipped += 1
            return False
        if judgement.verdict is Verdict.WAIT:
            assert judgement.until is not None
            await batch.release(session, delivery, (judgement.until - now).total_seconds())
            report.deferred += 1
            return False
        return True

    def _chat_slot(self, chat_id: int, batch: Batch, *, booked: bool) -> float | None:
        """Seconds until this row may go to its chat; None if that is too long to hold it."""
        if booked:
            return self.pacer.chat_wait(chat_id)
        now = self.time.monotonic()
        earliest = now + self.pacer.chat_wait(chat_id)
        if chat_id in batch.chat_booked:
            earliest = max(earliest, batch.chat_booked[chat_id] + self.pacer.chat_interval)
        if earliest - now > CHAT_HOLD_S:
            batch.chat_backlog = earliest - now
            return None
        if earliest > now:
            batch.chat_booked[chat_id] = earliest
        return earliest - now


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the outbox drain failed", exc_info=task.exception())


async def deliver_all(workers: Iterable[DeliveryWorker]) -> DrainReport:
    """Run several workers' drains side by side (tests and benchmarks)."""
    total = DrainReport()
    for report in await asyncio.gather(*(worker.drain() for worker in workers)):
        total.add(report)
    return total
