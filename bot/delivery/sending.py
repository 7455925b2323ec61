"""Sending one claimed row: its parts in order, paced, and the outcome recorded.

Promotions and broadcasts go at most once: the worker records that a send begins
(``attempted_at``) before the request, and a send that may have arrived ends as unknown.
Transactional notices go at least once: an ambiguous failure is tried again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.delivery.batch import Batch
from bot.delivery.failures import Failure, Halt, classify, describe
from bot.delivery.pacing import Pacer, Timekeeper
from bot.delivery.rendering import RenderedParts
from bot.delivery.reports import DrainReport
from bot.services.errors import InvalidInputError
from bot.services.outbox import outcomes
from bot.services.outbox.claiming import Delivery
from bot.services.outbox.reasons import BLOCKED

logger = logging.getLogger(__name__)


class ClaimLost(Exception):
    """Another worker took the row over (its claim timed out): this one must not send it."""


class Sender:
    """Delivers claimed rows one at a time and records each outcome (one worker's)."""

    def __init__(
        self,
        bot: Bot,
        settings: Settings,
        pacer: Pacer,
        rendered: RenderedParts,
        *,
        worker_id: str,
        timekeeper: Timekeeper,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.pacer = pacer
        self.rendered = rendered
        self.worker_id = worker_id
        self.time = timekeeper
        # 429s since start, for the metrics endpoint.
        self.rate_limited_total = 0

    async def deliver(
        self,
        session: AsyncSession,
        marks: AsyncSession,
        delivery: Delivery,
        batch: Batch,
        report: DrainReport,
    ) -> None:
        """Send the row's remaining parts, then record it sent (or what went wrong)."""
        try:
            parts = self.rendered.for_delivery(delivery)
        except InvalidInputError as exc:
            await self._fail(session, delivery, str(exc), report)
            return
        done = int(delivery.payload.get("parts_sent", 0))
        first_message_id: int | None = delivery.payload.get("first_message_id")
        for index in range(done, len(parts)):
            # An at-most-once row records that its send begins, once, before the request.
            attempt = marks if delivery.at_most_once and index == done else None
            try:
                result = await self._send(session, attempt, parts[index], delivery, batch, report)
            except ClaimLost:
                logger.warning("notification %s: claim lost before sending, not sent", delivery.id)
                batch.settled(delivery)
                return
            except Exception as exc:
                if not await self._failed(session, delivery, batch, exc, report):
                    raise
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
                await outcomes.record_parts_sent(
                    session, delivery.id, worker_id=self.worker_id, payload=payload
                )
        await self._sent(marks, delivery, batch, first_message_id, report)

    async def _sent(
        self,
        marks: AsyncSession,
        delivery: Delivery,
        batch: Batch,
        message_id: int | None,
        report: DrainReport,
    ) -> None:
        if not await outcomes.mark_sent(
            marks, delivery.id, worker_id=self.worker_id, now=self.time.now(), message_id=message_id
        ):
            logger.warning(
                "notification %s was sent after its claim expired: it may repeat", delivery.id
            )
        report.sent += 1
        if delivery.promotional:
            batch.promotional_sent[delivery.reader_id] = (
                batch.promotional_sent.get(delivery.reader_id, 0) + 1
            )

    async def _send(
        self,
        session: AsyncSession,
        attempt: AsyncSession | None,
        method: TelegramMethod[Any],
        delivery: Delivery,
        batch: Batch,
        report: DrainReport,
    ) -> Any:
        """One Bot API call; 429 pauses all sending and tries the same call again.

        With an ``attempt`` session, the send is first recorded as begun (ClaimLost if the
        claim was taken over meanwhile).
        """
        while True:
            await batch.keep_claims(session)
            await self.pacer.acquire()
            if attempt is not None:
                if not await outcomes.mark_attempted(
                    attempt, delivery.id, worker_id=self.worker_id, now=self.time.now()
                ):
                    raise ClaimLost(delivery.id)
                attempt = None
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

    async def _failed(
        self,
        session: AsyncSession,
        delivery: Delivery,
        batch: Batch,
        exc: Exception,
        report: DrainReport,
    ) -> bool:
        """Record what a failed send means for the row; False for an error not handled here."""
        failure = classify(exc)
        if failure is None:
            return False
        if failure is Failure.BLOCKED:
            await self._blocked(session, delivery, batch, getattr(exc, "message", str(exc)), report)
        elif failure is Failure.REFUSED:
            await self._fail(session, delivery, getattr(exc, "message", str(exc)), report)
        elif failure is Failure.UNAUTHORIZED:
            logger.error("the Bot API refuses the token (%s): delivery paused", describe(exc))
            await batch.release(session, delivery, None)
            raise Halt from exc
        elif failure is Failure.AMBIGUOUS and delivery.at_most_once:
            await outcomes.mark_unknown(
                session, delivery.id, worker_id=self.worker_id, reason=describe(exc)
            )
            report.unknown += 1
        else:
            await self._transient(session, delivery, describe(exc), report)
        return True

    async def _blocked(
        self,
        session: AsyncSession,
        delivery: Delivery,
        batch: Batch,
        description: str,
        report: DrainReport,
    ) -> None:
        await outcomes.mark_reader_blocked(
            session, delivery.reader_id, now=self.time.now(), reason=description
        )
        batch.blocked_readers.add(delivery.reader_id)
        report.blocked += 1
        if delivery.promotional or delivery.broadcast_id is not None:
            await batch.skip(session, delivery, f"{BLOCKED}: {description}")
        else:
            # A notice about the reader's own holds or events waits until they return.
            await batch.release(session, delivery, None)

    async def _fail(
        self, session: AsyncSession, delivery: Delivery, reason: str, report: DrainReport
    ) -> None:
        await outcomes.mark_failed(session, delivery.id, worker_id=self.worker_id, reason=reason)
        report.failed += 1

    async def _transient(
        self, session: AsyncSession, delivery: Delivery, reason: str, report: DrainReport
    ) -> None:
        if delivery.attempts >= self.settings.send_max_attempts:
            await self._fail(
                session, delivery, f"{reason} (gave up after {delivery.attempts} attempts)", report
            )
            return
        delay = outcomes.backoff_delay(
            delivery.attempts,
            base=self.settings.send_backoff_s,
            maximum=self.settings.send_backoff_max_s,
        )
        await outcomes.retry_later(
            session,
            delivery.id,
            worker_id=self.worker_id,
            not_before=self.time.now() + delay,
            reason=reason,
        )
        report.retried += 1
