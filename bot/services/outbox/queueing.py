"""Queueing: one row per message and reader, in the caller's transaction, deduplicated by key."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import insert_new
from bot.models import Notification, NotificationClass, NotificationStatus, Reader, utcnow
from bot.notices.intents import Notice, NoticeData
from bot.services.errors import InvalidInputError
from bot.services.outbox.messages import OutboxMessage, check_message
from bot.services.outbox.reasons import BLOCKED, EXPIRED
from bot.services.readers import NOTIFICATION_TOPICS

KIND_LIMIT = 40
DEDUP_LIMIT = 200
INSERT_CHUNK = 500


class Priority(enum.IntEnum):
    """Delivery order: lower values go first."""

    URGENT = 10
    HIGH = 50
    NORMAL = 100
    BULK = 200


@dataclass(frozen=True)
class Outgoing:
    """One message for one reader, as ``enqueue_many`` takes it (see ``enqueue``)."""

    reader_id: int
    kind: str
    message: OutboxMessage | None
    dedup_key: str
    message_class: NotificationClass = NotificationClass.TRANSACTIONAL
    topic: str | None = None
    priority: int = Priority.NORMAL
    not_before: datetime | None = None
    expires_at: datetime | None = None
    campaign_id: int | None = None
    broadcast_id: int | None = None

    def values(self, now: datetime, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """The row to insert, after checking every field."""
        self._check()
        if payload is None:
            if self.message is None:
                raise InvalidInputError("an outgoing row needs a message or a payload")
            check_message(self.message)
            payload = self.message.to_payload()
        return {
            "reader_id": self.reader_id,
            "kind": self.kind,
            "message_class": self.message_class,
            "topic": self.topic,
            "priority": int(self.priority),
            "payload": payload,
            "dedup_key": self.dedup_key,
            "not_before": self.not_before or now,
            "expires_at": self.expires_at,
            "status": NotificationStatus.PENDING,
            "attempts": 0,
            "last_error": None,
            "campaign_id": self.campaign_id,
            "broadcast_id": self.broadcast_id,
            "created_at": now,
        }

    def _check(self) -> None:
        if not self.kind or len(self.kind) > KIND_LIMIT:
            raise InvalidInputError(f"kind must be 1-{KIND_LIMIT} characters")
        if not self.dedup_key or len(self.dedup_key) > DEDUP_LIMIT:
            raise InvalidInputError(f"dedup_key must be 1-{DEDUP_LIMIT} characters")
        if self.topic is not None and self.topic not in NOTIFICATION_TOPICS:
            raise InvalidInputError(f"unknown topic {self.topic!r}")
        if self.message_class is NotificationClass.PROMOTIONAL and self.topic is None:
            raise InvalidInputError("a promotional message needs a topic the reader can opt out of")
        for moment in (self.not_before, self.expires_at):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInputError("not_before and expires_at must be timezone-aware")


async def enqueue(
    session: AsyncSession,
    *,
    reader_id: int,
    kind: str,
    message: OutboxMessage,
    dedup_key: str,
    message_class: NotificationClass = NotificationClass.TRANSACTIONAL,
    topic: str | None = None,
    priority: int = Priority.NORMAL,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    campaign_id: int | None = None,
    broadcast_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one message for one reader in the caller's transaction; False if the key exists."""
    outgoing = Outgoing(
        reader_id=reader_id,
        kind=kind,
        message=message,
        dedup_key=dedup_key,
        message_class=message_class,
        topic=topic,
        priority=priority,
        not_before=not_before,
        expires_at=expires_at,
        campaign_id=campaign_id,
        broadcast_id=broadcast_id,
    )
    return await enqueue_many(session, [outgoing], now=now) == 1


async def enqueue_many(
    session: AsyncSession, outgoing: Iterable[Outgoing], *, now: datetime | None = None
) -> int:
    """Queue many messages in the caller's transaction; returns how many were new."""
    now = now or utcnow()
    # Broadcasts queue one message object for thousands of readers: check and store it once.
    # Each cached message is kept alive with its payload, so its id is never reused meanwhile.
    payloads: dict[int, tuple[OutboxMessage, dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for item in outgoing:
        if item.message is None:
            raise InvalidInputError("enqueue_many takes messages; intents go to enqueue_notices")
        cached = payloads.get(id(item.message))
        if cached is None:
            check_message(item.message)
            cached = payloads[id(item.message)] = (item.message, item.message.to_payload())
        rows.append(item.values(now, cached[1]))
    return await _insert_rows(session, rows)


async def enqueue_notices(
    session: AsyncSession, notices: Iterable[Notice], *, now: datetime | None = None
) -> int:
    """Queue typed notice intents in the caller's transaction; returns how many were new.

    They are rendered in each reader's language when they are sent (``bot.notices.render``).
    A fan-out that shares one data object among many readers stores its payload built once.
    """
    now = now or utcnow()
    payloads: dict[int, tuple[NoticeData, dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for notice in notices:
        cached = payloads.get(id(notice.data))
        if cached is None:
            cached = payloads[id(notice.data)] = (notice.data, notice.payload())
        outgoing = Outgoing(
            reader_id=notice.reader_id,
            kind=notice.kind,
            message=None,
            dedup_key=notice.dedup_key,
            message_class=notice.message_class,
            topic=notice.topic,
            priority=notice.priority,
            not_before=notice.not_before,
            expires_at=notice.expires_at,
            campaign_id=notice.campaign_id,
            broadcast_id=notice.broadcast_id,
        )
        rows.append(outgoing.values(now, cached[1]))
    return await _insert_rows(session, rows)


async def _insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    inserted = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        await _skip_for_blocked_readers(session, chunk)
        statement = insert_new(session, Notification, ["dedup_key"])
        result = await session.execute(statement.returning(Notification.id), chunk)
        inserted += len(result.all())
    return inserted


async def _skip_for_blocked_readers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Promotional and broadcast messages for readers who blocked the bot are skipped at once."""
    candidates = {
        row["reader_id"]
        for row in rows
        if row["message_class"] is NotificationClass.PROMOTIONAL or row["broadcast_id"]
    }
    if not candidates:
        return
    blocked = set(
        await session.scalars(
            select(Reader.id).where(Reader.id.in_(candidates), Reader.is_blocked.is_(True))
        )
    )
    for row in rows:
        if row["reader_id"] in blocked and (
            row["message_class"] is NotificationClass.PROMOTIONAL or row["broadcast_id"]
        ):
            row["status"] = NotificationStatus.SKIPPED
            row["last_error"] = f"{BLOCKED}: the reader has blocked the bot"


async def skip_pending(session: AsyncSession, key_prefix: str, reason: str) -> None:
    """Queued notices whose dedup key starts with ``key_prefix`` no longer apply: skipped
    (an event moved or was cancelled, a booking given back, a quiz called off)."""
    await session.execute(
        update(Notification)
        .where(
            Notification.dedup_key.startswith(key_prefix, autoescape=True),
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.SKIPPED, last_error=f"{EXPIRED}: {reason}")
        .execution_options(synchronize_session=False)
    )
