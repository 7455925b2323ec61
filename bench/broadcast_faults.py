"""The fault phase of ``bench.broadcast``: a broadcast and some notices delivered through faults.

Every fault strikes at a fixed ``sendMessage`` call number, so a run is repeatable:

* 429s and 5xx from the sandbox (``POST /sandbox/faults`` just after a given call): Telegram's
  own answers, so the message was certainly not delivered and is tried again;
* timeouts before the request reaches the Bot API, and after the Bot API delivered the
  message (``bench.faults.FaultySession``): both leave the worker in doubt;
* two kills of the worker mid-send: the drain task is cancelled right after the sandbox
  stored a message, and a new worker (a new claim id) carries on.

Promotional broadcasts must reach no reader twice and lose nothing but the sends in doubt
(counted as unknown); transactional notices must reach everyone (duplicates allowed).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time as clock_time
from typing import Any, Protocol

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.faults import FaultySession
from bot.config import Settings
from bot.delivery.pacing import Pacer
from bot.delivery.reports import DrainReport
from bot.delivery.worker import DeliveryWorker
from bot.i18n import create_i18n
from bot.models import Notification, NotificationStatus, Reader
from bot.services.outbox import outcomes, queueing
from bot.services.outbox.messages import OutboxMessage
from bot.services.outbox.queueing import Outgoing
from bot.services.outbox.reasons import UNKNOWN

BROADCAST_MARKER = "[faults]"
NOTICE_MARKER = "[faults-notice]"
NOTICE_EVERY = 10  # one reader in ten also gets a transactional notice
NOTICE_KIND = "bench.notice"


class FaultHost(Protocol):
    """What the phase needs of the sandbox host."""

    async def add_fault(self, error_code: int, *, retry_after: int | None = None) -> None:
        """The next sendMessage call fails with this error."""

    async def send_requests(self) -> list[dict[str, Any]]:
        """Every sendMessage call: chat, text, outcome."""


@dataclass(frozen=True)
class FaultPlan:
    """The ``sendMessage`` call numbers (1, 2, ...) at which each fault strikes."""

    rate_limited: tuple[int, ...]
    server_errors: tuple[int, ...]
    timeouts_before: tuple[int, ...]
    timeouts_after: tuple[int, ...]
    kills: tuple[int, ...]

    @classmethod
    def spread(cls, messages: int) -> FaultPlan:
        """Faults spread over a run of about ``messages`` sends: about 1 % time out each
        way (as in the report that found duplicates), a handful of 429s and 5xx, and two
        kills: one among the notices (sent first) and one in the middle of the broadcast."""
        notices = max(1, messages // (NOTICE_EVERY + 1))
        kills = (max(2, notices // 2) + 1, notices + (messages - notices) // 2 + 1)
        taken = set(kills)

        def pick(numbers: range) -> tuple[int, ...]:
            chosen = tuple(n for n in numbers if n not in taken and n <= messages)
            taken.update(chosen)
            return chosen

        return cls(
            timeouts_after=pick(range(89, messages, 89)),
            timeouts_before=pick(range(97, messages, 97)),
            rate_limited=pick(range(messages // 6, messages, max(1, messages // 6))),
            server_errors=pick(range(messages // 11 + 3, messages, max(1, messages // 11))),
            kills=kills,
        )


@dataclass
class FaultOutcome:
    """What the fault phase found, in the sandbox and in the outbox."""

    recipients: int
    notices: int
    broadcast_delivered: int
    promotional_duplicates: int
    notice_duplicates: int
    lost: int
    unknown: int
    unknown_delivered: int
    failed: int
    refused_429: int
    refused_5xx: int
    timeouts_before: int
    timeouts_after: int
    kills: int
    seconds: float

    def result(self) -> dict[str, Any]:
        """The figures for the RESULT line."""
        return {
            "faults_recipients": self.recipients,
            "faults_notices": self.notices,
            "faults_broadcast_delivered": self.broadcast_delivered,
            "faults_lost": self.lost,
            "faults_promotional_duplicates": self.promotional_duplicates,
            "faults_notice_duplicates": self.notice_duplicates,
            "faults_unknown": self.unknown,
            "faults_unknown_delivered": self.unknown_delivered,
            "faults_failed": self.failed,
            "faults_429s": self.refused_429,
            "faults_5xx": self.refused_5xx,
            "faults_timeouts_before": self.timeouts_before,
            "faults_timeouts_after": self.timeouts_after,
            "faults_kills": self.kills,
            "faults_seconds": round(self.seconds, 1),
        }


def fault_settings(url: str, token: str) -> Settings:
    """Fast retries and the shortest claim timeout, so a killed worker's row returns soon."""
    return Settings(
        _env_file=None,
        bot_token=token,
        database_url=url,
        quiet_hours_start=clock_time(0, 0),
        quiet_hours_end=clock_time(0, 0),
        # The phase measures sends in doubt, not the frequency cap (earlier phases count).
        promo_cap_count=0,
        send_backoff_s=0.2,
        send_backoff_max_s=2.0,
        send_max_attempts=20,
        claim_timeout_s=10,
    )


async def queue_notices(
    sessionmaker: async_sessionmaker[AsyncSession], reader_ids: list[int]
) -> int:
    """A transactional notice (a hold is ready) for each of these readers."""
    message = OutboxMessage(text={"en": f"{NOTICE_MARKER} Your hold is ready for pickup."})
    async with sessionmaker() as session:
        queued = await queueing.enqueue_many(
            session,
            (
                Outgoing(
                    reader_id=reader_id,
                    kind=NOTICE_KIND,
                    message=message,
                    dedup_key=f"bench-notice:{reader_id}",
                )
                for reader_id in reader_ids
            ),
        )
        await session.commit()
    return queued


async def _anything_left(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    async with sessionmaker() as session:
        waiting = (NotificationStatus.PENDING, NotificationStatus.SENDING)
        left = await session.scalar(
            select(Notification.id).where(Notification.status.in_(waiting)).limit(1)
        )
    return left is not None


async def drain_through_kills(
    new_worker: Callable[[], DeliveryWorker],
    sessionmaker: async_sessionmaker[AsyncSession],
    wire: FaultySession,
    kills: tuple[int, ...],
) -> tuple[DrainReport, int]:
    """Drain until nothing is left; at each kill the worker is cancelled and replaced."""
    running: dict[str, asyncio.Task[DrainReport]] = {}

    async def kill() -> None:
        running["drain"].cancel()
        await asyncio.sleep(0)  # the cancellation lands here, before the answer is read

    for number in kills:
        wire.on_delivered[number] = kill
    report, killed, worker = DrainReport(), 0, new_worker()
    while True:
        running["drain"] = task = asyncio.create_task(worker.drain())
        await asyncio.wait({task})
        if task.cancelled():
            killed += 1
            worker = new_worker()  # a new process would have a new claim id too
            continue
        report.add(task.result())
        if not await _anything_left(sessionmaker):
            return report, killed
        await asyncio.sleep(0.05)  # retries waiting for their backoff, claims for their timeout


def _wire_faults(wire: FaultySession, host: FaultHost, plan: FaultPlan) -> None:
    wire.time_out(before=plan.timeouts_before, after=plan.timeouts_after)

    def inject(error_code: int, retry_after: int | None = None) -> Callable[[], Awaitable[None]]:
        async def strike() -> None:
            await host.add_fault(error_code, retry_after=retry_after)

        return strike

    for number in plan.rate_limited:
        wire.on_delivered[number] = inject(429, retry_after=1)
    for n, number in enumerate(plan.server_errors):
        wire.on_delivered[number] = inject((502, 500, 503)[n % 3])


async def _unknown_chats(
    sessionmaker: async_sessionmaker[AsyncSession], broadcast_id: int
) -> set[int]:
    async with sessionmaker() as session:
        chats = await session.scalars(
            select(Reader.chat_id)
            .join(Notification, Notification.reader_id == Reader.id)
            .where(
                Notification.broadcast_id == broadcast_id,
                Notification.last_error.like(f"{UNKNOWN}:%"),
            )
        )
        return set(chats)


def _per_chat(records: list[dict[str, Any]], marker: str) -> tuple[Counter[int], Counter[int]]:
    """Deliveries per chat of the calls carrying the marker, and refusals by error code."""
    delivered: Counter[int] = Counter()
    refused: Counter[int] = Counter()
    for record in records:
        if marker not in record["text"]:
            continue
        if record["ok"]:
            delivered[int(record["chat_id"])] += 1
        elif record["error_code"] is not None:
            refused[int(record["error_code"])] += 1
    return delivered, refused


async def run_fault_phase(
    *,
    host: FaultHost,
    base: str,
    token: str,
    url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue_broadcast: Callable[[str], Awaitable[tuple[int, int]]],
    expected_chats: set[int],
) -> FaultOutcome:
    """Queue notices and a broadcast, deliver them through the faults, count what arrived."""
    settings = fault_settings(url, token)
    noticed = notice_chats(expected_chats)
    async with sessionmaker() as session:
        notice_readers = list(
            await session.scalars(
                select(Reader.id).where(Reader.chat_id.in_(sorted(noticed))).order_by(Reader.id)
            )
        )
    notices = await queue_notices(sessionmaker, notice_readers)
    broadcast_id, recipients = await queue_broadcast(BROADCAST_MARKER)
    plan = FaultPlan.spread(recipients + notices)
    wire = FaultySession(AiohttpSession(api=TelegramAPIServer.from_base(base)))
    bot = Bot(token, session=wire, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    _wire_faults(wire, host, plan)
    i18n = create_i18n(settings.default_language)
    print(
        f"faults: {recipients} broadcast messages and {notices} notices; {len(plan.rate_limited)} "
        f"429s, {len(plan.server_errors)} 5xx, {len(plan.timeouts_before)} timeouts before and "
        f"{len(plan.timeouts_after)} after delivery, kills at calls {plan.kills}",
        flush=True,
    )
    started = time.perf_counter()
    try:
        _report, killed = await drain_through_kills(
            lambda: DeliveryWorker(sessionmaker, bot, i18n, settings, pacer=Pacer(None)),
            sessionmaker,
            wire,
            plan.kills,
        )
    finally:
        await bot.session.close()
    seconds = time.perf_counter() - started
    return await _count(
        host,
        sessionmaker,
        broadcast_id,
        expected_chats,
        noticed,
        wire=wire,
        killed=killed,
        seconds=seconds,
        notices=notices,
    )


def notice_chats(expected_chats: set[int]) -> set[int]:
    """The chats that also get a notice."""
    return set(sorted(expected_chats)[::NOTICE_EVERY])


async def _count(
    host: FaultHost,
    sessionmaker: async_sessionmaker[AsyncSession],
    broadcast_id: int,
    expected: set[int],
    noticed: set[int],
    *,
    wire: FaultySession,
    killed: int,
    seconds: float,
    notices: int,
) -> FaultOutcome:
    records = await host.send_requests()
    delivered, refused = _per_chat(records, BROADCAST_MARKER)
    notice_delivered, notice_refused = _per_chat(records, NOTICE_MARKER)
    unknown = await _unknown_chats(sessionmaker, broadcast_id)
    async with sessionmaker() as session:
        counts = await outcomes.outcome_counts(session, broadcast_id=broadcast_id)
        failed_notices = await session.scalar(
            select(func.count()).where(
                Notification.kind == NOTICE_KIND, Notification.status == NotificationStatus.FAILED
            )
        )
    refused += notice_refused
    # Lost: a reader who got nothing although their row does not say the send was in doubt.
    lost = len(expected - set(delivered) - unknown) + len(noticed - set(notice_delivered))
    return FaultOutcome(
        recipients=len(expected),
        notices=notices,
        broadcast_delivered=sum(delivered.values()),
        promotional_duplicates=sum(n - 1 for n in delivered.values() if n > 1),
        notice_duplicates=sum(n - 1 for n in notice_delivered.values() if n > 1),
        lost=lost,
        unknown=counts.unknown,
        unknown_delivered=len(unknown & set(delivered)),
        failed=counts.failed + (failed_notices or 0),
        refused_429=refused[429],
        refused_5xx=sum(n for code, n in refused.items() if code >= 500),
        timeouts_before=wire.lost_before,
        timeouts_after=wire.lost_after,
        kills=killed,
        seconds=seconds,
    )
