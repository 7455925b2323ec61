"""Sends that may have arrived: promotions and broadcasts at most once, notices at least once.

The sandbox refuses calls as Telegram does; ``bench.faults.FaultySession`` loses answers
(a timeout after delivery) or requests (a timeout before it) on the bot's side of the wire.
"""

from __future__ import annotations

from collections import Counter

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.faults import FaultySession
from bot.app import create_bot
from bot.delivery.failures import Failure, classify
from bot.models import Broadcast, NotificationClass, NotificationStatus, utcnow
from bot.services.outbox import claiming, outcomes
from jobs.broadcasts import BroadcastReporter
from sandbox.core import Sandbox
from sandbox.session import SandboxSession
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.harness import BotHarness
from tests.outbox.conftest import (
    FakeTime,
    WorkerFactory,
    add_readers,
    bot_messages,
    drain_until_settled,
    queue_for,
    received,
    rows,
)

LOST_ANSWER = "unknown: TelegramNetworkError: Request timeout error"


def faulty_bot(sandbox: Sandbox) -> tuple[Bot, FaultySession]:
    """A bot like the app's whose numbered sendMessage calls can time out."""
    session = FaultySession(SandboxSession(sandbox))
    return create_bot(sandbox.token, session=session), session


async def test_a_broadcast_in_doubt_is_not_sent_twice_and_its_report_says_unknown(
    harness: BotHarness,
    sessionmaker: async_sessionmaker[AsyncSession],
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Admin")
    readers = [harness.user(400 + n, f"R{n}") for n in range(5)]
    for user in (admin, *readers):
        await user.onboard()
    await admin.send("/broadcast")
    await admin.tap("Everyone")
    await admin.tap("Skip")
    await admin.send("Reading night on Friday.")
    await admin.tap("Skip")
    [status] = await admin.tap("✅ Send")
    assert "on its way to 6 readers" in (status.text or "")
    for user in (admin, *readers):
        user.new_bot_messages()

    bot, wire = faulty_bot(harness.sandbox)
    # Call 1 meets a 502 (not delivered: tried again later), calls 2 and 4 are delivered
    # but their answers are lost, call 5 is lost before it reaches Telegram.
    harness.sandbox.add_fault("sendMessage", 502)
    wire.time_out(after={2, 4}, before={5})
    worker = make_worker(bot_=bot, send_backoff_s=10)
    report = await drain_until_settled(worker, fake_time, sessionmaker)

    assert (report.sent, report.unknown, report.retried) == (3, 3, 1)
    got = Counter(len(user.new_bot_messages()) for user in (admin, *readers))
    assert got == Counter({1: 5, 0: 1})  # no one twice; the request lost on the way is lost
    ended = Counter((row.status, row.last_error) for row in await rows(sessionmaker))
    assert ended[(NotificationStatus.FAILED, LOST_ANSWER)] == 3
    assert ended[(NotificationStatus.SENT, "TelegramServerError: Bad Gateway")] == 1

    reporter = BroadcastReporter(sessionmaker, harness.bot, harness.app.i18n, worker.pacer)
    assert await reporter.report() == 1
    final = harness.sandbox.message(ADMIN_TELEGRAM_ID, status.message_id)
    assert final.text == (
        "✅ Broadcast #1 is finished.\n\n"
        "Queued: 0\nSent: 3\nFailed: 0\nBlocked the bot: 0\n"
        "Skipped (opted out or frequency cap): 0\n"
        "Unknown (no answer from Telegram, not sent again): 3\n\n"
        "Delivered to 3 of 6 readers."
    )
    async with sessionmaker() as session:
        broadcast = await session.scalar(select(Broadcast))
        assert broadcast is not None
        assert broadcast.reported["unknown"] == 3
        counts = await outcomes.outcome_counts(session, broadcast_id=broadcast.id)
    assert (counts.sent, counts.unknown, counts.failed, counts.total) == (3, 3, 0, 6)


async def test_a_promotion_whose_answer_was_lost_is_not_sent_again(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    readers = await add_readers(session, sandbox, 3)
    await queue_for(session, readers, message_class=NotificationClass.PROMOTIONAL)
    bot, wire = faulty_bot(sandbox)
    wire.time_out(after={1})
    report = await drain_until_settled(make_worker(bot_=bot), fake_time, sessionmaker)

    assert (report.sent, report.unknown, report.retried) == (2, 1, 0)
    assert received(sandbox, readers) == Counter({r.id: 1 for r in readers})
    first, *rest = await rows(sessionmaker)
    assert (first.status, first.last_error, first.attempts) == (
        NotificationStatus.FAILED,
        LOST_ANSWER,
        1,
    )
    assert first.attempted_at is not None
    assert all(row.status is NotificationStatus.SENT for row in rest)


async def test_a_notice_whose_answer_was_lost_is_sent_again(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    readers = await add_readers(session, sandbox, 2)
    await queue_for(session, readers)  # transactional: a hold is ready, an event changed
    bot, wire = faulty_bot(sandbox)
    wire.time_out(after={1}, before={2})
    report = await drain_until_settled(make_worker(bot_=bot), fake_time, sessionmaker)

    assert (report.sent, report.unknown, report.retried) == (2, 0, 2)
    first, second = readers
    # At least once: the first reader may get it twice, the second gets it in the end.
    assert received(sandbox, readers) == Counter({first.id: 2, second.id: 1})
    assert all(row.status is NotificationStatus.SENT for row in await rows(sessionmaker))
    assert [row.attempted_at for row in await rows(sessionmaker)] == [None, None]


async def test_a_dead_workers_promotions_end_unknown_only_once_their_send_began(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    readers = await add_readers(session, sandbox, 4)
    await queue_for(session, readers[:3], message_class=NotificationClass.PROMOTIONAL)
    await queue_for(session, readers[3:], prefix="notice")
    async with sessionmaker() as s:
        claimed = await claiming.claim_due(s, worker_id="dead", now=fake_time.wall, limit=10)
    assert len(claimed) == 4
    in_flight = next(d for d in claimed if d.reader_id == readers[0].id)
    notice = next(d for d in claimed if d.reader_id == readers[3].id)
    for delivery in (in_flight, notice):
        async with sessionmaker() as s:
            assert await outcomes.mark_attempted(
                s, delivery.id, worker_id="dead", now=fake_time.wall
            )
    async with sessionmaker() as s:  # another worker's claim is not "dead"'s to mark
        assert not await outcomes.mark_attempted(
            s, in_flight.id, worker_id="other", now=fake_time.wall
        )

    worker = make_worker()
    fake_time.advance(worker.settings.claim_timeout_s + 1)
    report = await worker.drain()

    assert (report.reclaimed, report.sent) == (4, 3)
    by_reader = {row.reader_id: row for row in await rows(sessionmaker)}
    assert by_reader[readers[0].id].status is NotificationStatus.FAILED
    assert by_reader[readers[0].id].last_error == (
        "unknown: the worker sending it stopped; it may have arrived"
    )
    for reader in readers[1:]:
        assert by_reader[reader.id].status is NotificationStatus.SENT
    assert received(sandbox, readers) == Counter({r.id: 1 for r in readers[1:]})
    assert bot_messages(sandbox, readers[0].telegram_id) == []


def test_only_answers_that_may_have_been_lost_are_in_doubt() -> None:
    method = SendMessage(chat_id=1, text="x")
    lost = TelegramNetworkError(method=method, message="Request timeout error")
    lost.__cause__ = TimeoutError()
    never_connected = TelegramNetworkError(method=method, message="ClientConnectorError")
    never_connected.__cause__ = ConnectionRefusedError()
    cases = {
        Failure.AMBIGUOUS: [
            lost,
            TimeoutError(),
            ConnectionResetError(),
            ClientDecodeError("Failed to decode object", ValueError(), "<html>"),
        ],
        Failure.TRANSIENT: [
            never_connected,
            ConnectionRefusedError(),
            TelegramServerError(method=method, message="Bad Gateway"),
        ],
        Failure.REFUSED: [TelegramBadRequest(method=method, message="Bad Request: chat not found")],
        Failure.BLOCKED: [TelegramForbiddenError(method=method, message="Forbidden")],
    }
    for failure, errors in cases.items():
        for error in errors:
            assert classify(error) is failure, error
    assert classify(ValueError()) is None


@pytest.mark.parametrize("urgent", [False, True])
async def test_every_broadcast_row_goes_at_most_once(urgent: bool) -> None:
    delivery = claiming.Delivery(
        id=1,
        reader_id=1,
        chat_id=1,
        language="en",
        kind="broadcast",
        message_class=NotificationClass.TRANSACTIONAL if urgent else NotificationClass.PROMOTIONAL,
        topic="announcements",
        priority=100,
        payload={},
        attempts=1,
        not_before=utcnow(),
        expires_at=None,
        broadcast_id=7,
        opted_in=True,
    )
    assert delivery.at_most_once
