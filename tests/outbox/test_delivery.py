"""The delivery worker on the sandbox: faults, blocked readers, pacing, crashes, two workers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.delivery.pacing import LIMITER_BURST, Timekeeper
from bot.delivery.rendering import Unsubscribe
from bot.delivery.worker import deliver_all
from bot.models import NotificationClass, NotificationStatus, Reader
from bot.services import outbox
from bot.services.outbox import Attachment, Button, OutboxMessage
from sandbox.core import Sandbox, SandboxAPIError
from tests.conftest import POSTGRES_URL
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

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


async def test_every_part_of_a_message_arrives_in_the_readers_language(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    [zh_reader] = await add_readers(session, sandbox, 1, language="zh")
    [en_reader] = await add_readers(session, sandbox, 1, language="en")
    message = OutboxMessage(
        text={"zh": "<b>闭馆通知</b>", "en": "<b>Closing notice</b>"},
        buttons=[[Button(label={"zh": "地图", "en": "Map"}, url="https://example.org/map")]],
        attachment=Attachment(kind="photo", content=PNG, filename="map.png"),
        location=(37.52, 121.39),
    )
    for reader in (zh_reader, en_reader):
        await outbox.enqueue(
            session,
            reader_id=reader.id,
            kind="closure",
            message=message,
            dedup_key=f"closure:{reader.id}",
        )
    ics = OutboxMessage(
        text={"en": "Your ticket"},
        attachment=Attachment(kind="document", content=b"BEGIN:VCALENDAR", filename="event.ics"),
    )
    await outbox.enqueue(
        session, reader_id=en_reader.id, kind="ticket", message=ics, dedup_key="ticket"
    )
    await session.commit()

    report = await make_worker().drain()

    assert report.sent == 3
    photo, location = bot_messages(sandbox, zh_reader.telegram_id)
    assert photo.caption == "闭馆通知"
    assert photo.photo is not None
    assert photo.reply_markup is not None
    assert [b.text for b in photo.reply_markup.inline_keyboard[0]] == ["地图"]
    assert location.location is not None
    assert location.location.latitude == pytest.approx(37.52)
    en_messages = bot_messages(sandbox, en_reader.telegram_id)
    assert en_messages[0].caption == "Closing notice"
    assert en_messages[2].document is not None
    assert en_messages[2].document.file_name == "event.ics"
    assert en_messages[2].caption == "Your ticket"
    assert all(row.status is NotificationStatus.SENT for row in await rows(sessionmaker))
    assert [row.telegram_message_id for row in await rows(sessionmaker)] == [
        photo.message_id,
        en_messages[0].message_id,
        en_messages[2].message_id,
    ]


async def test_promotional_messages_carry_an_unsubscribe_button(
    session: AsyncSession,
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    [reader] = await add_readers(session, sandbox, 1)
    await queue_for(session, [reader], message_class=NotificationClass.PROMOTIONAL, prefix="p")
    await queue_for(session, [reader], prefix="t")
    await make_worker().drain()
    promo, notice = bot_messages(sandbox, reader.telegram_id)
    assert promo.reply_markup is not None
    [[button]] = promo.reply_markup.inline_keyboard
    assert button.text == "Unsubscribe from these"
    assert button.callback_data == Unsubscribe(topic="announcements").pack()
    assert notice.reply_markup is None


async def test_a_429_storm_pauses_all_sending_and_loses_nothing(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    readers = await add_readers(session, sandbox, 12)
    await queue_for(session, readers)
    sandbox.add_fault("sendMessage", 429, retry_after=3, count=4)
    worker = make_worker()
    sends: list[float] = []
    original = sandbox.call

    async def timed(method: str, params: Any, files: Any = None, **kw: Any) -> Any:
        sends.append(fake_time.mono)
        return await original(method, params, files, **kw)

    sandbox.call = timed  # type: ignore[method-assign]
    report = await worker.drain()
    # A second storm in the middle of the run.
    sandbox.add_fault("*", 429, retry_after=7, count=2)
    await queue_for(session, readers, prefix="second", text="Again")
    report.add(await worker.drain())

    assert report.rate_limited == 6
    assert report.sent == 24
    assert received(sandbox, readers) == Counter({r.id: 2 for r in readers})
    assert fake_time.sleeps.count(3.0) == 4
    assert fake_time.sleeps.count(7.0) == 2
    # Nothing was sent during a pause: every retry waited retry_after after the refusal.
    refused = [r for r in sandbox.requests if r.error_code == 429]
    assert len(refused) == 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(sends)]
    assert sorted(gaps, reverse=True)[:6] == [7.0, 7.0, 3.0, 3.0, 3.0, 3.0]
    assert all(row.attempts == 1 for row in await rows(sessionmaker))


async def test_server_errors_are_retried_with_backoff_then_fail_with_the_reason(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    doomed, flaky, steady = await add_readers(session, sandbox, 3)
    await queue_for(session, [doomed, flaky, steady])
    # Two 502s for whoever comes next, and a chat whose every send meets a 500.
    sandbox.add_fault("sendMessage", 502, description="Bad Gateway", count=2)
    original = sandbox.call

    async def broken_for_one_chat(method: str, params: Any, files: Any = None, **kw: Any) -> Any:
        if int(params.get("chat_id", 0)) == doomed.telegram_id:
            raise SandboxAPIError(500, "Internal Server Error")
        return await original(method, params, files, **kw)

    sandbox.call = broken_for_one_chat  # type: ignore[method-assign]
    worker = make_worker(send_max_attempts=4, send_backoff_s=10, send_backoff_max_s=25)
    started = fake_time.wall
    report = await drain_until_settled(worker, fake_time, sessionmaker)

    assert (report.sent, report.failed, report.retried) == (2, 1, 5)
    by_reader = {row.reader_id: row for row in await rows(sessionmaker)}
    failed = by_reader[doomed.id]
    assert failed.status is NotificationStatus.FAILED
    assert failed.attempts == 4
    assert failed.last_error == (
        "TelegramServerError: Internal Server Error (gave up after 4 attempts)"
    )
    # Backoff 10 s, 20 s, then capped at 25 s.
    assert fake_time.wall - started >= timedelta(seconds=10 + 20 + 25)
    for reader in (flaky, steady):
        assert by_reader[reader.id].status is NotificationStatus.SENT
        assert by_reader[reader.id].attempts == 2
        assert by_reader[reader.id].last_error == "TelegramServerError: Bad Gateway"
    assert received(sandbox, [doomed, flaky, steady]) == Counter({flaky.id: 1, steady.id: 1})


async def test_timeouts_are_retried(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    readers = await add_readers(session, sandbox, 4)
    await queue_for(session, readers)
    original = sandbox.call
    slow = {"left": 2}

    # The sandbox has no "slow answer" fault: hold the first two sends past the timeout.
    async def sluggish(method: str, params: Any, files: Any = None, **kw: Any) -> Any:
        if method == "sendMessage" and slow["left"] > 0:
            slow["left"] -= 1
            await asyncio.sleep(5)
        return await original(method, params, files, **kw)

    sandbox.call = sluggish  # type: ignore[method-assign]
    worker = make_worker(send_timeout_s=0.05)
    report = await drain_until_settled(worker, fake_time, sessionmaker)

    assert report.retried == 2
    assert received(sandbox, readers) == Counter({r.id: 1 for r in readers})
    retried = [row for row in await rows(sessionmaker) if row.attempts == 2]
    assert len(retried) == 2
    assert all(row.last_error == "timeout: no answer from the Bot API in time" for row in retried)


async def test_blocked_readers_are_marked_and_their_promotions_skipped(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    blocker, other = await add_readers(session, sandbox, 2)
    sandbox.block(blocker.telegram_id)
    # Promotional first (lower priority number goes first), then a notice about a hold.
    await queue_for(
        session,
        [blocker, other],
        message_class=NotificationClass.PROMOTIONAL,
        prefix="promo",
        priority=outbox.Priority.HIGH,
    )
    await queue_for(session, [blocker, other], prefix="hold")
    await queue_for(
        session,
        [blocker],
        message_class=NotificationClass.PROMOTIONAL,
        prefix="promo2",
        priority=outbox.Priority.BULK,
    )
    report = await make_worker().drain()

    assert report.blocked == 1
    assert received(sandbox, [other]) == Counter({other.id: 2})
    by_key = {row.dedup_key: row for row in await rows(sessionmaker)}
    assert by_key[f"promo:{blocker.id}"].status is NotificationStatus.SKIPPED
    assert by_key[f"promo:{blocker.id}"].last_error == (
        "blocked: Forbidden: bot was blocked by the user"
    )
    assert by_key[f"promo2:{blocker.id}"].status is NotificationStatus.SKIPPED
    # The hold notice waits for the reader to come back.
    assert by_key[f"hold:{blocker.id}"].status is NotificationStatus.PENDING
    async with sessionmaker() as s:
        stored = await s.get(Reader, blocker.id)
        assert stored is not None
        assert stored.is_blocked
        assert stored.blocked_at is not None
    # Nothing more is tried while they are blocked.
    tried = len(sandbox.requests)
    assert (await make_worker().drain()).sent == 0
    assert len(sandbox.requests) == tried


async def test_chat_not_found_fails_for_good_with_the_reason(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    ghost = (await add_readers(session, None, 1))[0]  # never talked to this bot's sandbox
    [reader] = await add_readers(session, sandbox, 1)
    await queue_for(session, [ghost, reader])
    report = await make_worker().drain()
    assert (report.sent, report.failed) == (1, 1)
    failed, sent = await rows(sessionmaker)
    assert failed.status is NotificationStatus.FAILED
    assert failed.last_error == "Bad Request: chat not found"
    assert failed.attempts == 1
    assert sent.status is NotificationStatus.SENT


async def test_one_message_per_second_per_chat(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    busy, quiet = await add_readers(session, sandbox, 2)
    for n in range(5):
        await queue_for(session, [busy], prefix=f"busy{n}", text=f"Part {n}")
    await queue_for(session, [quiet], prefix="quiet")
    sent_at: dict[int, list[float]] = {}
    original = sandbox.call

    async def record(method: str, params: Any, files: Any = None, **kw: Any) -> Any:
        sent_at.setdefault(int(params["chat_id"]), []).append(fake_time.mono)
        return await original(method, params, files, **kw)

    sandbox.call = record  # type: ignore[method-assign]
    report = await drain_until_settled(make_worker(), fake_time, sessionmaker)

    assert report.sent == 6
    assert report.deferred >= 1  # the later parts went back to the queue instead of blocking
    busy_times = sent_at[busy.telegram_id]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(busy_times))
    # The quiet chat did not wait behind the busy one.
    assert sent_at[quiet.telegram_id][0] - busy_times[0] < 1.0
    texts = [m.text for m in bot_messages(sandbox, busy.telegram_id)]
    assert texts == [f"Part {n} {busy.id}" for n in range(5)]


async def test_global_pacing_keeps_telegram_flood_control_quiet(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    sandbox.flood_limits = True
    readers = await add_readers(session, sandbox, 40)
    await queue_for(session, readers)
    worker = make_worker(rate=25.0, timekeeper=Timekeeper())  # real time
    started = time.monotonic()
    report = await worker.drain()
    elapsed = time.monotonic() - started
    assert report.sent == 40
    assert report.rate_limited == 0
    assert not [r for r in sandbox.requests if r.error_code == 429]
    assert elapsed >= (40 - LIMITER_BURST) / 25


@pytest.mark.parametrize(
    ("message_class", "repeated"),
    [(NotificationClass.PROMOTIONAL, 0), (NotificationClass.TRANSACTIONAL, 1)],
)
async def test_cancelled_mid_send_then_restarted_loses_nothing(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
    settings: Settings,
    message_class: NotificationClass,
    repeated: int,
) -> None:
    readers = await add_readers(session, sandbox, 30)
    await queue_for(session, readers, message_class=message_class)
    worker = make_worker(outbox_batch_size=8)
    task = asyncio.create_task(worker.drain())
    original = sandbox.call
    delivered = {"count": 0}

    # Cancel the worker while its 12th message is in flight: Telegram has stored it, the
    # worker never hears back.
    async def cut(method: str, params: Any, files: Any = None, **kw: Any) -> Any:
        result = await original(method, params, files, **kw)
        if method == "sendMessage":
            delivered["count"] += 1
            if delivered["count"] == 12:
                task.cancel()
                await asyncio.sleep(0)
        return result

    sandbox.call = cut  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await task
    sandbox.call = original  # type: ignore[method-assign]
    statuses = Counter(row.status for row in await rows(sessionmaker))
    # The unsent rest of the batch went straight back; only the one in flight stays claimed.
    assert statuses == {
        NotificationStatus.SENT: 11,
        NotificationStatus.SENDING: 1,
        NotificationStatus.PENDING: 18,
    }

    restarted = make_worker()
    await restarted.drain()
    # Every reader has it once; the row in flight stays claimed until its claim times out.
    assert received(sandbox, readers) == Counter({r.id: 1 for r in readers})
    assert NotificationStatus.SENDING in {row.status for row in await rows(sessionmaker)}
    fake_time.advance(settings.claim_timeout_s + 1)
    report = await restarted.drain()
    assert report.reclaimed == 1

    # A promotion in doubt is not sent again (at most once); a notice is (at least once).
    counts = received(sandbox, readers)
    assert set(counts) == {r.id for r in readers}
    assert sum(n - 1 for n in counts.values()) == repeated
    outcomes = Counter((row.status, row.last_error) for row in await rows(sessionmaker))
    if repeated:
        assert outcomes == {(NotificationStatus.SENT, None): 30}
    else:
        assert outcomes == {
            (NotificationStatus.SENT, None): 29,
            (
                NotificationStatus.FAILED,
                "unknown: the worker sending it stopped; it may have arrived",
            ): 1,
        }


async def test_a_worker_killed_without_cleanup_is_covered_by_the_claim_timeout(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
    settings: Settings,
) -> None:
    readers = await add_readers(session, sandbox, 6)
    await queue_for(session, readers)
    async with sessionmaker() as s:  # a worker that claimed a batch and died at once
        await outbox.claim_due(s, worker_id="killed", now=fake_time.wall, limit=4)
    worker = make_worker()
    assert (await worker.drain()).sent == 2
    fake_time.advance(settings.claim_timeout_s + 1)
    assert (await worker.drain()).sent == 4
    assert received(sandbox, readers) == Counter({r.id: 1 for r in readers})


@pytest.mark.skipif(
    not POSTGRES_URL,
    reason="two workers racing for rows needs PostgreSQL (FOR UPDATE SKIP LOCKED): "
    "set BOOKBRIDGE_TEST_DATABASE_URL",
)
async def test_two_workers_on_postgresql_never_send_a_row_twice(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    database_url: str,
) -> None:
    readers = await add_readers(session, sandbox, 150)
    await queue_for(session, readers)
    second_engine = create_engine(database_url)
    try:
        first = make_worker(outbox_batch_size=7)
        second = make_worker(outbox_batch_size=7, maker=create_sessionmaker(second_engine))
        report = await deliver_all([first, second])
    finally:
        await second_engine.dispose()
    assert report.sent == 150
    assert received(sandbox, readers) == Counter({r.id: 1 for r in readers})
    outbox_rows = await rows(sessionmaker)
    assert all(row.status is NotificationStatus.SENT for row in outbox_rows)
    # Both really took part.
    sent_by = Counter(row.claimed_by for row in outbox_rows)
    assert set(sent_by) == {first.worker_id, second.worker_id}
    assert all(count > 10 for count in sent_by.values())
