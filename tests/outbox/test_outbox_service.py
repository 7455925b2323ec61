"""The outbox service: enqueueing, dedup, claims, stale claims, the promotional rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Notification, NotificationClass, NotificationStatus, Reader, utcnow
from bot.notices import intents
from bot.notices.intents import Notice, NoticeData, notice_kind
from bot.services import outbox
from bot.services.errors import InvalidInputError
from bot.services.outbox import (
    Attachment,
    Button,
    OutboxMessage,
    Outgoing,
    Priority,
    PromotionRules,
    QuietHours,
    Verdict,
)
from tests.factories import make_reader
from tests.outbox.conftest import rows


@notice_kind("test.outbox-closed")
class LibraryClosed(NoticeData):
    """A test kind: a library closes for a number of readers."""

    library: str
    readers: int = 0


HELLO = OutboxMessage(text={"en": "Hello", "zh": "你好"})


async def test_enqueue_is_idempotent_by_dedup_key(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await make_reader(session)
    first = await outbox.enqueue(
        session, reader_id=reader.id, kind="hold_ready", message=HELLO, dedup_key="hold:1:ready"
    )
    second = await outbox.enqueue(
        session,
        reader_id=reader.id,
        kind="hold_ready",
        message=OutboxMessage(text={"en": "Different"}),
        dedup_key="hold:1:ready",
    )
    await session.commit()
    assert (first, second) == (True, False)
    [row] = await rows(sessionmaker)
    assert row.payload == {"text": {"en": "Hello", "zh": "你好"}}
    assert row.status is NotificationStatus.PENDING
    assert row.message_class is NotificationClass.TRANSACTIONAL


async def test_enqueue_joins_the_callers_transaction(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await make_reader(session)
    await session.commit()
    await outbox.enqueue(session, reader_id=reader.id, kind="k", message=HELLO, dedup_key="a")
    await session.rollback()
    assert await rows(sessionmaker) == []


async def test_enqueue_many_counts_only_new_rows(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    readers = [await make_reader(session) for _ in range(3)]
    items = [
        Outgoing(reader_id=r.id, kind="news", message=HELLO, dedup_key=f"news:{r.id}")
        for r in readers
    ]
    assert await outbox.enqueue_many(session, items[:2]) == 2
    assert await outbox.enqueue_many(session, items) == 1
    await session.commit()
    assert len(await rows(sessionmaker)) == 3


async def test_a_fan_out_of_one_intent_builds_its_payload_once(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readers = [await make_reader(session) for _ in range(30)]
    built: list[str] = []
    original = intents.payload_of

    def counted(data: NoticeData) -> dict[str, Any]:
        built.append(data.kind)
        return original(data)

    monkeypatch.setattr(intents, "payload_of", counted)
    closed, opened = LibraryClosed(library="Central", readers=30), LibraryClosed(library="East")
    notices = [
        Notice(reader_id=r.id, data=closed if n % 3 else opened, dedup_key=f"closed:{r.id}")
        for n, r in enumerate(readers)
    ]
    assert await outbox.enqueue_notices(session, notices) == 30
    await session.commit()
    assert len(built) == 2  # once per data object, not once per reader
    payloads = Counter(row.payload["data"]["library"] for row in await rows(sessionmaker))
    assert payloads == {"Central": 20, "East": 10}


async def test_messages_made_one_by_one_each_keep_their_own_payload(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    readers = [await make_reader(session) for _ in range(20)]
    # A generator drops each message once queued: a new one may take its memory (and id).
    await outbox.enqueue_many(
        session,
        (
            Outgoing(
                reader_id=r.id,
                kind="news",
                message=OutboxMessage(text={"en": f"For {r.id}"}),
                dedup_key=f"news:{r.id}",
            )
            for r in readers
        ),
    )
    await session.commit()
    assert all(
        row.payload["text"]["en"] == f"For {row.reader_id}" for row in await rows(sessionmaker)
    )


def test_payload_round_trips_every_part() -> None:
    message = OutboxMessage(
        text={"zh": "<b>闭馆</b>", "en": "<b>Closed</b>"},
        buttons=[
            [Button(label={"en": "Map", "zh": "地图"}, url="https://example.org/map")],
            [Button(label="OK", callback_data="ok:1")],
        ],
        attachment=Attachment(kind="document", content=b"BEGIN:VCALENDAR", filename="e.ics"),
        location=(37.5, 121.4),
    )
    again = OutboxMessage.from_payload(message.to_payload())
    assert again == OutboxMessage(
        text=dict(message.text),
        buttons=tuple(tuple(row) for row in message.buttons),
        attachment=message.attachment,
        location=message.location,
    )
    assert again.text_for("fr", "zh") == "<b>闭馆</b>"
    assert OutboxMessage(text={"en": "only"}).text_for("zh", "zh") == "only"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": ""}, "kind"),
        ({"dedup_key": "x" * 201}, "dedup_key"),
        ({"message_class": NotificationClass.PROMOTIONAL}, "topic"),
        ({"topic": "gossip"}, "topic"),
        ({"message": OutboxMessage(text={})}, "needs text"),
        ({"message": OutboxMessage(text={"fr": "Bonjour"})}, "language"),
        ({"message": OutboxMessage(text={"en": "x" * 4097})}, "longer"),
        (
            {"message": OutboxMessage(text={"en": "x"}, buttons=[[Button(label="b")]])},
            "exactly one",
        ),
        (
            {
                "message": OutboxMessage(
                    text={"en": "x"}, buttons=[[Button(label="b", url="javascript:alert(1)")]]
                )
            },
            "link",
        ),
        ({"not_before": datetime(2030, 1, 1)}, "timezone"),
    ],
)
async def test_enqueue_refuses_malformed_messages(
    session: AsyncSession, fields: dict[str, object], problem: str
) -> None:
    reader = await make_reader(session)
    values: dict[str, object] = {
        "reader_id": reader.id,
        "kind": "k",
        "message": HELLO,
        "dedup_key": "d",
        **fields,
    }
    with pytest.raises(InvalidInputError, match=problem):
        await outbox.enqueue(session, **values)  # type: ignore[arg-type]


async def test_promotional_rows_for_a_blocked_reader_are_skipped_at_once(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    blocked = await make_reader(session, is_blocked=True, blocked_at=utcnow())
    for key, message_class in (
        ("promo", NotificationClass.PROMOTIONAL),
        ("notice", NotificationClass.TRANSACTIONAL),
    ):
        await outbox.enqueue(
            session,
            reader_id=blocked.id,
            kind="k",
            message=HELLO,
            dedup_key=key,
            message_class=message_class,
            topic="campaigns",
        )
    await session.commit()
    promo, notice = await rows(sessionmaker)
    assert promo.status is NotificationStatus.SKIPPED
    assert promo.last_error == "blocked: the reader has blocked the bot"
    assert notice.status is NotificationStatus.PENDING


async def test_claims_follow_priority_then_time_and_exclude_blocked_readers(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await make_reader(session)
    blocked = await make_reader(session, is_blocked=True)
    now = utcnow()
    plan = [
        ("bulk", Priority.BULK, now - timedelta(minutes=5), reader.id),
        ("later", Priority.HIGH, now + timedelta(minutes=5), reader.id),
        ("normal-old", Priority.NORMAL, now - timedelta(minutes=2), reader.id),
        ("high", Priority.HIGH, now - timedelta(minutes=1), reader.id),
        ("normal-new", Priority.NORMAL, now - timedelta(minutes=1), reader.id),
        ("blocked", Priority.URGENT, now - timedelta(minutes=1), blocked.id),
    ]
    for key, priority, not_before, reader_id in plan:
        await outbox.enqueue(
            session,
            reader_id=reader_id,
            kind="k",
            message=HELLO,
            dedup_key=key,
            priority=priority,
            not_before=not_before,
        )
    await session.commit()
    async with sessionmaker() as claim_session:
        first = await outbox.claim_due(claim_session, worker_id="w1", now=now, limit=2)
    async with sessionmaker() as claim_session:
        second = await outbox.claim_due(claim_session, worker_id="w2", now=now, limit=10)
    keys = {row.id: row.dedup_key for row in await rows(sessionmaker)}
    assert [keys[d.id] for d in first] == ["high", "normal-old"]
    assert [keys[d.id] for d in second] == ["normal-new", "bulk"]
    assert all(d.attempts == 1 for d in first + second)
    claimed = {row.dedup_key: row for row in await rows(sessionmaker)}
    assert claimed["high"].claimed_by == "w1"
    assert claimed["high"].status is NotificationStatus.SENDING
    assert claimed["later"].status is NotificationStatus.PENDING
    assert claimed["blocked"].status is NotificationStatus.PENDING


async def test_stale_claims_return_to_the_queue_after_the_timeout(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await make_reader(session)
    for key in ("a", "b"):
        await outbox.enqueue(session, reader_id=reader.id, kind="k", message=HELLO, dedup_key=key)
    await session.commit()
    now = utcnow()
    async with sessionmaker() as s:
        claimed = await outbox.claim_due(s, worker_id="dead", now=now, limit=10)
    assert len(claimed) == 2
    # One of them has already been tried too often: it fails instead of looping forever.
    async with sessionmaker() as s:
        row = await s.get(Notification, claimed[1].id)
        assert row is not None
        row.attempts = 5
        await s.commit()
    timeout = timedelta(seconds=120)
    async with sessionmaker() as s:
        assert (
            await outbox.reclaim_stale(
                s, now=now + timedelta(seconds=60), claim_timeout=timeout, max_attempts=5
            )
            == 0
        )
        assert (
            await outbox.reclaim_stale(
                s, now=now + timedelta(seconds=121), claim_timeout=timeout, max_attempts=5
            )
            == 2
        )
    returned, failed = await rows(sessionmaker)
    assert returned.status is NotificationStatus.PENDING
    assert returned.claimed_by is None
    assert failed.status is NotificationStatus.FAILED
    assert failed.last_error == "the worker sending it stopped 5 times"


def test_quiet_hours_span_midnight_in_the_alliance_zone() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    quiet = QuietHours(time(21, 0), time(8, 0), zone)

    def local(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, 23, hour, minute, tzinfo=zone)

    assert not quiet.active(local(20, 59))
    assert quiet.active(local(21, 0))
    assert quiet.active(local(2, 0))
    assert not quiet.active(local(8, 0))
    assert quiet.next_end(local(22, 30)) == datetime(2026, 11, 24, 8, 0, tzinfo=zone)
    assert quiet.next_end(local(6, 0)) == datetime(2026, 11, 23, 8, 0, tzinfo=zone)
    # The same instant in UTC is judged in the alliance zone.
    assert quiet.active(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai
    assert not QuietHours(time(9, 0), time(9, 0), zone).active(local(9, 0))
    daytime = QuietHours(time(12, 0), time(14, 0), zone)
    assert daytime.active(local(13, 0))
    assert not daytime.active(local(14, 0))


def test_promotion_rules() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    rules = PromotionRules(QuietHours(time(21, 0), time(8, 0), zone), cap_count=3, cap_days=7)
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=zone)
    night = datetime(2026, 11, 23, 23, 0, tzinfo=zone)

    def delivery(
        message_class: NotificationClass = NotificationClass.PROMOTIONAL,
        opted_in: bool = True,
        expires_at: datetime | None = None,
    ) -> outbox.Delivery:
        return outbox.Delivery(
            id=1,
            reader_id=1,
            chat_id=1,
            language="en",
            kind="k",
            message_class=message_class,
            topic="events",
            priority=100,
            payload={},
            attempts=1,
            not_before=noon,
            expires_at=expires_at,
            broadcast_id=None,
            opted_in=opted_in,
        )

    judge = outbox.judge_promotion
    assert judge(delivery(), now=noon, rules=rules, sent_recently=2).verdict is Verdict.SEND
    capped = judge(delivery(), now=noon, rules=rules, sent_recently=3)
    assert (capped.verdict, capped.reason) == (
        Verdict.SKIP,
        "frequency cap: 3 promotional messages in 7 days",
    )
    opted_out = judge(delivery(opted_in=False), now=noon, rules=rules, sent_recently=0)
    assert opted_out.reason == "opted out: the reader turned off events"
    waiting = judge(delivery(), now=night, rules=rules, sent_recently=0)
    assert waiting.verdict is Verdict.WAIT
    assert waiting.until == datetime(2026, 11, 24, 8, 0, tzinfo=zone)
    transactional = delivery(NotificationClass.TRANSACTIONAL, opted_in=False)
    assert judge(transactional, now=night, rules=rules, sent_recently=9).verdict is Verdict.SEND
    expired = judge(
        delivery(NotificationClass.TRANSACTIONAL, expires_at=noon),
        now=noon,
        rules=rules,
        sent_recently=0,
    )
    assert expired.verdict is Verdict.SKIP
    assert expired.reason.startswith("expired:")
    no_cap = PromotionRules(rules.quiet, cap_count=0, cap_days=7)
    assert judge(delivery(), now=noon, rules=no_cap, sent_recently=50).verdict is Verdict.SEND


def test_backoff_doubles_up_to_the_maximum() -> None:
    delays = [outbox.backoff_delay(n, base=5, maximum=60).total_seconds() for n in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]


async def test_mark_reader_blocked_skips_only_promotional_and_broadcast_rows(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    reader = await make_reader(session)
    await outbox.enqueue(
        session,
        reader_id=reader.id,
        kind="k",
        message=HELLO,
        dedup_key="promo",
        message_class=NotificationClass.PROMOTIONAL,
        topic="events",
    )
    await outbox.enqueue(session, reader_id=reader.id, kind="k", message=HELLO, dedup_key="hold")
    await session.commit()
    now = utcnow()
    skipped = await outbox.mark_reader_blocked(session, reader.id, now=now, reason="Forbidden")
    assert skipped == 1
    promo, hold = await rows(sessionmaker)
    assert (promo.status, promo.last_error) == (NotificationStatus.SKIPPED, "blocked: Forbidden")
    assert hold.status is NotificationStatus.PENDING
    async with sessionmaker() as s:
        stored = await s.scalar(select(Reader).where(Reader.id == reader.id))
        assert stored is not None
        assert stored.is_blocked
        assert stored.blocked_at == now
