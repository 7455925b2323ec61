"""Quiet hours, the frequency cap and opt-outs hold promotional messages back, never notices."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Notification, NotificationClass, NotificationStatus, Reader
from bot.services import outbox
from bot.services.outbox import OutboxMessage
from sandbox.core import Sandbox
from tests.outbox.conftest import (
    ZONE,
    FakeTime,
    WorkerFactory,
    add_readers,
    bot_messages,
    next_local,
    rows,
)


async def _queue(
    session: AsyncSession,
    reader: Reader,
    key: str,
    message_class: NotificationClass,
    topic: str | None = None,
) -> None:
    await outbox.enqueue(
        session,
        reader_id=reader.id,
        kind=key,
        message=OutboxMessage(text={"en": key}),
        dedup_key=f"{key}:{reader.id}",
        message_class=message_class,
        topic=topic,
    )
    await session.commit()


def _texts(sandbox: Sandbox, reader: Reader) -> list[str | None]:
    return [m.text for m in bot_messages(sandbox, reader.telegram_id)]


async def test_quiet_hours_hold_promotions_until_morning(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    night = FakeTime(next_local(time(22, 30)))
    [reader] = await add_readers(session, sandbox, 1)
    await _queue(session, reader, "campaign", NotificationClass.PROMOTIONAL, "campaigns")
    await _queue(session, reader, "hold-ready", NotificationClass.TRANSACTIONAL)
    worker = make_worker(timekeeper=night)

    await worker.drain()
    assert _texts(sandbox, reader) == ["hold-ready"]
    night.advance(3600 * 5)  # 03:30: still quiet
    await worker.drain()
    assert _texts(sandbox, reader) == ["hold-ready"]

    night.advance(3600 * 4.5)  # 08:00 sharp
    assert night.wall.astimezone(ZONE).time() == time(8, 0)
    await worker.drain()
    assert _texts(sandbox, reader) == ["hold-ready", "campaign"]


async def test_the_frequency_cap_skips_the_fourth_promotion_of_the_week(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    capped, fresh = await add_readers(session, sandbox, 2)
    # Three promotions already this week (one of them 6 days ago), one older than a week.
    for days_ago, key in ((1, "a"), (3, "b"), (6, "c"), (8, "old")):
        session.add(
            Notification(
                reader_id=capped.id,
                kind="past",
                message_class=NotificationClass.PROMOTIONAL,
                topic="events",
                payload={"text": {"en": key}},
                dedup_key=f"past:{key}",
                status=NotificationStatus.SENT,
                sent_at=fake_time.wall - timedelta(days=days_ago),
            )
        )
    await session.commit()
    for reader in (capped, fresh):
        await _queue(session, reader, "campaign", NotificationClass.PROMOTIONAL, "campaigns")
        await _queue(session, reader, "hold-ready", NotificationClass.TRANSACTIONAL)

    report = await make_worker().drain()

    assert (report.sent, report.skipped) == (3, 1)
    assert _texts(sandbox, capped) == ["hold-ready"]
    assert sorted(_texts(sandbox, fresh), key=str) == ["campaign", "hold-ready"]
    skipped = [row for row in await rows(sessionmaker) if row.status is NotificationStatus.SKIPPED]
    assert [(row.reader_id, row.last_error) for row in skipped] == [
        (capped.id, "frequency cap: 3 promotional messages in 7 days")
    ]


async def test_the_cap_counts_promotions_sent_in_the_same_run(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    [reader] = await add_readers(session, sandbox, 1)
    for n in range(3):
        await _queue(session, reader, f"promo{n}", NotificationClass.PROMOTIONAL, "events")
    report = await make_worker(promo_cap_count=2).drain()
    assert (report.sent, report.skipped) == (2, 1)


async def test_opted_out_topics_are_skipped_others_and_notices_arrive(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
) -> None:
    [reader] = await add_readers(session, sandbox, 1, notify_campaigns=False)
    await _queue(session, reader, "campaign", NotificationClass.PROMOTIONAL, "campaigns")
    await _queue(session, reader, "event-news", NotificationClass.PROMOTIONAL, "events")
    await _queue(session, reader, "event-moved", NotificationClass.TRANSACTIONAL, "campaigns")

    report = await make_worker().drain()

    assert (report.sent, report.skipped) == (2, 1)
    assert sorted(_texts(sandbox, reader), key=str) == ["event-moved", "event-news"]
    campaign = next(row for row in await rows(sessionmaker) if row.kind == "campaign")
    assert campaign.status is NotificationStatus.SKIPPED
    assert campaign.last_error == "opted out: the reader turned off campaigns"


async def test_expired_notices_are_not_sent_late(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Sandbox,
    make_worker: WorkerFactory,
    fake_time: FakeTime,
) -> None:
    [reader] = await add_readers(session, sandbox, 1)
    await outbox.enqueue(
        session,
        reader_id=reader.id,
        kind="reminder",
        message=OutboxMessage(text={"en": "Starts in an hour"}),
        dedup_key="reminder",
        expires_at=fake_time.wall - timedelta(minutes=1),
    )
    await session.commit()
    report = await make_worker().drain()
    assert (report.sent, report.skipped) == (0, 1)
    [row] = await rows(sessionmaker)
    assert row.status is NotificationStatus.SKIPPED
    assert (row.last_error or "").startswith("expired:")
    assert _texts(sandbox, reader) == []
