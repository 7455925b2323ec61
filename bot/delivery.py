"""The outbox sender: sends due notifications through aiogram within Telegram's limits.

Pacing: one global limiter below Telegram's ~30 messages/s and at most one message per
second per chat. On 429 every send pauses for ``retry_after`` and the same row is tried
again; 403 marks the reader unreachable; 400 fails the row with Telegram's reason; server
errors, timeouts and connection errors are retried with exponential backoff.

Crash safety: rows are claimed (committed) before sending and marked sent (committed)
right after each send, one message in flight at a time, so a worker killed mid-run repeats
at most the one message it was sending; its other claims return to the queue after
``claim_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendDocument, SendLocation, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import N_
from bot.models import utcnow
from bot.notices.render import render
from bot.services import outbox
from bot.services.errors import InvalidInputError
from bot.services.outbox import (
    CAPTION_LIMIT,
    Delivery,
    OutboxMessage,
    OutcomeCounts,
    PromotionRules,
    QuietHours,
    Verdict,
)

logger = logging.getLogger(__name__)

UNSUBSCRIBE_LABEL = N_("Unsubscribe from these")
CHAT_INTERVAL_S = 1.0
# A second message for the same chat waits in memory this long at most; later ones go back
# to the queue with a not_before, so one busy chat never holds up a batch.
CHAT_HOLD_S = 2.0
HALT_S = 60.0
LIMITER_BURST = 3
RENDER_CACHE_SIZE = 256


class Unsubscribe(CallbackData, prefix="unsub"):
    """The "Unsubscribe from these" button under a promotional message."""

    topic: str


@dataclass
class Timekeeper:
    """Wall clock (database times, quiet hours), monotonic clock (pacing) and sleep."""

    now: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class Pacer:
    """The global rate (aiolimiter), one message per second per chat, and pauses after 429."""

    def __init__(
        self,
        rate_per_s: float | None,
        *,
        chat_interval: float = CHAT_INTERVAL_S,
        timekeeper: Timekeeper | None = None,
    ) -> None:
        # A bucket of a few sends: evenly spaced at the rate, with just enough slack to make up
        # for timer jitter (Telegram tolerates short bursts; its limit is about 30/s).
        self.limiter = (
            AsyncLimiter(LIMITER_BURST, LIMITER_BURST / rate_per_s) if rate_per_s else None
        )
        self.rate_per_s = rate_per_s
        self.chat_interval = chat_interval
        self.time = timekeeper or Timekeeper()
        self.paused_until = 0.0
        self._last_sent: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        """Stop every send for this long (Telegram's retry_after)."""
        self.paused_until = max(self.paused_until, self.time.monotonic() + seconds)

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may get another message."""
        last = self._last_sent.get(chat_id)
        if last is None:
            return 0.0
        return max(0.0, last + self.chat_interval - self.time.monotonic())

    async def acquire(self) -> None:
        """Wait out a pause, then take a slot from the global limiter."""
        while (wait := self.paused_until - self.time.monotonic()) > 0:
            await self.time.sleep(wait)
        if self.limiter is not None:
            await self.limiter.acquire()

    def sent(self, chat_id: int) -> None:
        """Remember a send to the chat."""
        now = self.time.monotonic()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 10_000:
            cutoff = now - self.chat_interval
            self._last_sent = {chat: at for chat, at in self._last_sent.items() if at > cutoff}


def _label(label: Any, language: str, default: str) -> str:
    if isinstance(label, str):
        return label
    for candidate in (language, default, "zh", "en"):
        if label.get(candidate):
            return str(label[candidate])
    return next(iter(label.values()), "?")


def render_parts(
    message: OutboxMessage,
    *,
    chat_id: int,
    language: str,
    default_language: str,
    i18n: I18n,
    unsubscribe_topic: str | None = None,
) -> list[TelegramMethod[Any]]:
    """The Bot API calls that deliver one outbox message, in order."""
    rows = [
        [
            InlineKeyboardButton(
                text=_label(button.label, language, default_language),
                url=button.url,
                callback_data=button.callback_data,
            )
            for button in row
        ]
        for row in message.buttons
    ]
    if unsubscribe_topic is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=i18n.gettext(UNSUBSCRIBE_LABEL, locale=language),
                    callback_data=Unsubscribe(topic=unsubscribe_topic).pack(),
                )
            ]
        )
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    body = message.text_for(language, default_language)
    parts: list[TelegramMethod[Any]] = []
    attachment = message.attachment
    if attachment is not None:
        caption = body if body and len(body) <= CAPTION_LIMIT else None
        file: str | BufferedInputFile = (
            BufferedInputFile(attachment.content, attachment.filename or "file")
            if attachment.content is not None
            else str(attachment.file)
        )
        own_markup = markup if caption is not None or not body else None
        if attachment.kind == "photo":
            parts.append(
                SendPhoto(chat_id=chat_id, photo=file, caption=caption, reply_markup=own_markup)
            )
        else:
            parts.append(
                SendDocument(
                    chat_id=chat_id, document=file, caption=caption, reply_markup=own_markup
                )
            )
        if caption is None and body:
            parts.append(SendMessage(chat_id=chat_id, text=body, reply_markup=markup))
    elif body:
        parts.append(SendMessage(chat_id=chat_id, text=body, reply_markup=markup))
    if message.location is not None:
        latitude, longitude = message.location
        parts.append(
            SendLocation(
                chat_id=chat_id,
                latitude=latitude,
                longitude=longitude,
                reply_markup=markup if not parts else None,
            )
        )
    return parts


@dataclass
class DrainReport:
    """What one drain did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    retried: int = 0
    rate_limited: int = 0
    blocked: int = 0
    reclaimed: int = 0
    halted: bool = False

    def add(self, other: DrainReport) -> None:
        """Accumulate another report into this one."""
        for name in (
            "sent",
            "failed",
            "skipped",
            "deferred",
            "retried",
            "rate_limited",
            "blocked",
            "reclaimed",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.halted = self.halted or other.halted


class _Halt(Exception):
    """The bot token is refused: stop sending for a while."""


@dataclass
class _Batch:
    claimed: set[int] = field(default_factory=set)
    claimed_at: float = 0.0
    blocked_readers: set[int] = field(default_factory=set)
    promotional_sent: dict[int, int] = field(default_factory=dict)
    chat_booked: dict[int, float] = field(default_factory=dict)
    chat_backlog: float = 0.0


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
        self.halted_until = 0.0
        self.next_reclaim = float("-inf")
        # 429s since start, for the metrics endpoint.
        self.rate_limited_total = 0
        self._rendered: dict[tuple[str, str, str | None], list[TelegramMethod[Any]]] = {}
        self._task: asyncio.Task[DrainReport] | None = None

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
                report.reclaimed = await outbox.reclaim_stale(
                    session,
                    now=self.time.now(),
                    claim_timeout=self.claim_timeout,
                    max_attempts=self.settings.send_max_attempts,
                )
        while True:
            now = self.time.now()
            async with self.sessionmaker() as session:
                batch = await outbox.claim_due(
                    session,
                    worker_id=self.worker_id,
                    now=now,
                    limit=self.batch_size,
                    promotional=not self.rules.quiet.active(now),
                )
            if not batch:
                return report
            try:
                await self._process(batch, report)
            except _Halt:
                self.halted_until = self.time.monotonic() + HALT_S
                report.halted = True
                return report

    async def _process(self, batch: list[Delivery], report: DrainReport) -> None:
        state = _Batch(claimed={d.id for d in batch}, claimed_at=self.time.monotonic())
        # (ready at, claim order, chat slot booked, row): claim order is priority order.
        queue: list[tuple[float, int, bool, Delivery]] = [
            (0.0, n, False, d) for n, d in enumerate(batch)
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
                await self._load_caps(session, batch, state)
                while queue:
                    ready, order, booked, delivery = queue[0]
                    wait = ready - self.time.monotonic()
                    if wait > 0:
                        await self.time.sleep(wait)
                        continue
                    heapq.heappop(queue)
                    if not await self._screen(session, delivery, state, report):
                        continue
                    slot = self._chat_slot(delivery.chat_id, state, booked=booked)
                    if slot is None:
                        await self._release(session, delivery, state, state.chat_backlog)
                        report.deferred += 1
                        continue
                    if slot > 0:
                        heapq.heappush(queue, (self.time.monotonic() + slot, order, True, delivery))
                        continue
                    inflight = delivery.id
                    await self._deliver(session, marks, delivery, state, report)
                    state.claimed.discard(delivery.id)
                    inflight = None
        finally:
            # Cancelled or failed mid-batch: what was never sent goes back to the queue now;
            # the one in flight (maybe delivered) waits for the claim timeout.
            leftover = sorted(state.claimed - {inflight} if inflight else state.claimed)
            if leftover:
                await self._release_leftover(leftover)

    @contextlib.asynccontextmanager
    async def _marking(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> AsyncIterator[AsyncSession]:
        """The session that records each delivery: the batch session, or on PostgreSQL a
        connection in autocommit mode whose commits do not wait for the WAL flush.

        One UPDATE is one round trip there instead of four. A worker that dies still repeats
        at most the message in flight; only a crash of the database server itself could
        forget the last fraction of a second of marks (and repeat those messages), which is
        what SQLite's WAL mode with synchronous=NORMAL gives too.
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
                await outbox.release(session, ids, worker_id=self.worker_id)
        except Exception:
            logger.exception("could not release %d claimed notifications", len(ids))

    async def _load_caps(self, session: AsyncSession, batch: list[Delivery], state: _Batch) -> None:
        readers = {d.reader_id for d in batch if d.promotional}
        if readers and self.rules.cap_count:
            state.promotional_sent = await outbox.sent_promotional_counts(
                session, readers, since=self.rules.cap_window_start(self.time.now())
            )

    async def _screen(
        self, session: AsyncSession, delivery: Delivery, state: _Batch, report: DrainReport
    ) -> bool:
        """Apply the reader protections; False when the row was settled (skipped, released)."""
        if delivery.reader_id in state.blocked_readers:
            if delivery.promotional or delivery.broadcast_id is not None:
                await self._skip(session, delivery, state, f"{outbox.BLOCKED}: 403 earlier")
                report.skipped += 1
            else:
                await self._release(session, delivery, state, None)
                report.deferred += 1
            return False
        now = self.time.now()
        judgement = outbox.judge_promotion(
            delivery,
            now=now,
            rules=self.rules,
            sent_recently=state.promotional_sent.get(delivery.reader_id, 0),
        )
        if judgement.verdict is Verdict.SKIP:
            await self._skip(session, delivery, state, judgement.reason)
            report.skipped += 1
            return False
        if judgement.verdict is Verdict.WAIT:
            assert judgement.until is not None
            await self._release(session, delivery, state, (judgement.until - now).total_seconds())
            report.deferred += 1
            return False
        return True

    def _chat_slot(self, chat_id: int, state: _Batch, *, booked: bool) -> float | None:
        """Seconds until this row may go to its chat; None if that is too long to hold it."""
        if booked:
            return self.pacer.chat_wait(chat_id)
        now = self.time.monotonic()
        earliest = now + self.pacer.chat_wait(chat_id)
        if chat_id in state.chat_booked:
            earliest = max(earliest, state.chat_booked[chat_id] + self.pacer.chat_interval)
        if earliest - now > CHAT_HOLD_S:
            state.chat_backlog = earliest - now
            return None
        if earliest > now:
            state.chat_booked[chat_id] = earliest
        return earliest - now

    async def _skip(
        self, session: AsyncSession, delivery: Delivery, state: _Batch, reason: str
    ) -> None:
        await outbox.skip(session, [delivery.id], worker_id=self.worker_id, reason=reason)
        state.claimed.discard(delivery.id)

    async def _release(
        self, session: AsyncSession, delivery: Delivery, state: _Batch, after: float | None
    ) -> None:
        not_before = self.time.now() + timedelta(seconds=after) if after is not None else None
        await outbox.release(
            session, [delivery.id], worker_id=self.worker_id, not_before=not_before
        )
        state.claimed.discard(delivery.id)

    async def _keep_claims(self, session: AsyncSession, state: _Batch) -> None:
        if self.time.monotonic() - state.claimed_at < self.claim_timeout.total_seconds() / 3:
            return
        await outbox.refresh_claims(
            session, sorted(state.claimed), worker_id=self.worker_id, now=self.time.now()
        )
        state.claimed_at = self.time.monotonic()

    # --- one message -------------------------------------------------------------------

    async def _deliver(
        self,
        session: AsyncSession,
        marks: AsyncSession,
        delivery: Delivery,
        state: _Batch,
        report: DrainReport,
    ) -> None:
        try:
            parts = self._parts(delivery)
        except InvalidInputError as exc:
            await self._fail(session, delivery, str(exc), report)
            return
        done = int(delivery.payload.get("parts_sent", 0))
        first_message_id: int | None = delivery.payload.get("first_message_id")
        for index in range(done, len(parts)):
            try:
                result = await self._send(session, parts[index], delivery, state, report)
            except TelegramForbiddenError as exc:
                await self._blocked(session, delivery, state, exc.message, report)
                return
            except (
                TelegramBadRequest,
                TelegramNotFound,
                TelegramEntityTooLarge,
                TelegramMigrateToChat,
            ) as exc:
                await self._fail(session, delivery, exc.message, report)
                return
            except TelegramUnauthorizedError as exc:
                logger.error("the Bot API refuses the token (%s): delivery paused", exc.message)
                await self._release(session, delivery, state, None)
                raise _Halt from exc
            except (AiogramError, TimeoutError, OSError) as exc:
                await self._transient(session, delivery, _describe(exc), report)
                return
            self.pacer.sent(delivery.chat_id)
            if isinstance(result, Message) and first_message_id is None:
                first_message_id = result.message_id
            if index < len(parts) - 1:
                payload = {
                    **delivery.payload,
                    "parts_sent": index + 1,
                    "first_message_id": first_message_id,
                }
                await outbox.record_parts_sent(
                    session, delivery.id, worker_id=self.worker_id, payload=payload
                )
        if not await outbox.mark_sent(
            marks,
            delivery.id,
            worker_id=self.worker_id,
            now=self.time.now(),
            message_id=first_message_id,
        ):
            logger.warning(
                "notification %s was sent after its claim expired: it may repeat", delivery.id
            )
        report.sent += 1
        if delivery.promotional:
            state.promotional_sent[delivery.reader_id] = (
                state.promotional_sent.get(delivery.reader_id, 0) + 1
            )

    def _parts(self, delivery: Delivery) -> list[TelegramMethod[Any]]:
        """The calls for one row; a broadcast renders once per language, not per reader."""
        language = delivery.language or self.settings.default_language
        topic = delivery.topic if delivery.promotional else None
        key = (json.dumps(delivery.payload, sort_keys=True), language, topic)
        parts = self._rendered.get(key)
        if parts is None:
            parts = render_parts(
                render(delivery.payload, language, translator=self.i18n, settings=self.settings),
                chat_id=0,
                language=language,
                default_language=self.settings.default_language,
                i18n=self.i18n,
                unsubscribe_topic=topic,
            )
            if len(self._rendered) >= RENDER_CACHE_SIZE:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[key] = parts
        return [part.model_copy(update={"chat_id": delivery.chat_id}) for part in parts]

    async def _send(
        self,
        session: AsyncSession,
        method: TelegramMethod[Any],
        delivery: Delivery,
        state: _Batch,
        report: DrainReport,
    ) -> Any:
        """One Bot API call; 429 pauses all sending and tries the same call again."""
        while True:
            await self._keep_claims(session, state)
            await self.pacer.acquire()
            try:
                async with asyncio.timeout(self.settings.send_timeout_s):
                    # Straight to the session: the outbox owns 429 handling, so the
                    # interactive retry middleware (bot.retry) must not sleep in here.
                    return await self.bot.session.make_request(self.bot, method)
            except TelegramRetryAfter as exc:
                report.rate_limited += 1
                self.rate_limited_total += 1
                logger.info(
                    "flood control: pausing all sends for %ss (notification %s)",
                    exc.retry_after,
                    delivery.id,
                )
                self.pacer.pause(exc.retry_after)

    async def _blocked(
        self,
        session: AsyncSession,
        delivery: Delivery,
        state: _Batch,
        description: str,
        report: DrainReport,
    ) -> None:
        await outbox.mark_reader_blocked(
            session, delivery.reader_id, now=self.time.now(), reason=description
        )
        state.blocked_readers.add(delivery.reader_id)
        report.blocked += 1
        if delivery.promotional or delivery.broadcast_id is not None:
            await self._skip(session, delivery, state, f"{outbox.BLOCKED}: {description}")
        else:
            # A notice about the reader's own holds or events waits until they return.
            await self._release(session, delivery, state, None)

    async def _fail(
        self, session: AsyncSession, delivery: Delivery, reason: str, report: DrainReport
    ) -> None:
        await outbox.mark_failed(session, delivery.id, worker_id=self.worker_id, reason=reason)
        report.failed += 1

    async def _transient(
        self, session: AsyncSession, delivery: Delivery, reason: str, report: DrainReport
    ) -> None:
        if delivery.attempts >= self.settings.send_max_attempts:
            await self._fail(
                session, delivery, f"{reason} (gave up after {delivery.attempts} attempts)", report
            )
            return
        delay = outbox.backoff_delay(
            delivery.attempts,
            base=self.settings.send_backoff_s,
            maximum=self.settings.send_backoff_max_s,
        )
        await outbox.retry_later(
            session,
            delivery.id,
            worker_id=self.worker_id,
            not_before=self.time.now() + delay,
            reason=reason,
        )
        report.retried += 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout: no answer from the Bot API in time"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the outbox drain failed", exc_info=task.exception())


async def deliver_all(workers: Iterable[DeliveryWorker]) -> DrainReport:
    """Run several workers' drains side by side (tests and benchmarks)."""
    total = DrainReport()
    for report in await asyncio.gather(*(worker.drain() for worker in workers)):
        total.add(report)
    return total


def localized(i18n: I18n, message: str) -> dict[str, str]:
    """A message translated into every language (for labels stored in payloads)."""
    return {language: i18n.gettext(message, locale=language) for language in i18n.available_locales}


def broadcast_status_text(
    number: int, recipients: int, counts: OutcomeCounts, *, finished: bool
) -> str:
    """The author's status message for a broadcast (call inside an i18n locale context)."""
    if finished:
        head = _("✅ Broadcast #{number} is finished.").format(number=number)
    else:
        head = _("📣 Broadcast #{number} is on its way to {recipients} readers.").format(
            number=number, recipients=recipients
        )
    lines = [
        head,
        "",
        _("Queued: {count}").format(count=counts.queued),
        _("Sent: {count}").format(count=counts.sent),
        _("Failed: {count}").format(count=counts.failed),
        _("Blocked the bot: {count}").format(count=counts.blocked),
        _("Skipped (opted out or frequency cap): {count}").format(count=counts.skipped),
    ]
    if finished:
        lines += [
            "",
            _("Delivered to {sent} of {recipients} readers.").format(
                sent=counts.sent, recipients=recipients
            ),
        ]
    return "\n".join(lines)
