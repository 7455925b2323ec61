"""Claiming due rows for one worker, keeping the claims fresh, and taking back abandoned ones.

A claimed row is ``sending`` and names its worker (``claimed_by``); every outcome is recorded
only while that worker still holds it. Each function here is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Notification, NotificationClass, NotificationStatus, Reader
from bot.services.outbox.reasons import UNKNOWN


@dataclass(frozen=True)
class Delivery:
    """A claimed row with what the sender needs to know about its reader."""

    id: int
    reader_id: int
    chat_id: int
    language: str | None
    kind: str
    message_class: NotificationClass
    topic: str | None
    priority: int
    payload: dict[str, Any]
    attempts: int
    not_before: datetime
    expires_at: datetime | None
    broadcast_id: int | None
    opted_in: bool

    @property
    def promotional(self) -> bool:
        """Whether quiet hours, the frequency cap and opt-outs apply."""
        return self.message_class is NotificationClass.PROMOTIONAL

    @property
    def at_most_once(self) -> bool:
        """Promotions and broadcasts are never sent twice: a send that may have arrived ends
        as unknown. Transactional notices are sent again instead (at least once)."""
        return self.promotional or self.broadcast_id is not None


def at_most_once_rows() -> ColumnElement[bool]:
    """The rows ``Delivery.at_most_once`` holds for, in SQL."""
    return (Notification.message_class == NotificationClass.PROMOTIONAL) | (
        Notification.broadcast_id.is_not(None)
    )


def held_by(notification_id: int, worker_id: str) -> ColumnElement[bool]:
    """The row, while this worker holds its claim.

    A claim that timed out may have been taken over; then the outcome is not ours to record.
    """
    return (
        (Notification.id == notification_id)
        & (Notification.status == NotificationStatus.SENDING)
        & (Notification.claimed_by == worker_id)
    )


def all_held_by(notification_ids: Sequence[int], worker_id: str) -> ColumnElement[bool]:
    """The rows among these that this worker still holds."""
    return (
        Notification.id.in_(list(notification_ids))
        & (Notification.status == NotificationStatus.SENDING)
        & (Notification.claimed_by == worker_id)
    )


async def apply(session: AsyncSession, statement: Any) -> int:
    """Run one statement as its own unit of work; how many rows it changed."""
    async with write(session):
        result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def _opted_in(reader_flags: Mapping[str, bool], topic: str | None) -> bool:
    return True if topic is None else reader_flags.get(topic, True)


def _due(now: datetime, limit: int, *, promotional: bool) -> Select[Any]:
    query = (
        select(
            Notification.id,
            Notification.reader_id,
            Notification.kind,
            Notification.message_class,
            Notification.topic,
            Notification.priority,
            Notification.payload,
            Notification.attempts,
            Notification.not_before,
            Notification.expires_at,
            Notification.broadcast_id,
            Reader.chat_id,
            Reader.language,
            Reader.notify_events,
            Reader.notify_announcements,
            Reader.notify_campaigns,
        )
        .join(Reader, Reader.id == Notification.reader_id)
        # A literal (not a bound value) lets SQLite use the partial queue index.
        .where(text("notifications.status = 'pending'"), Notification.not_before <= now)
        .where(Reader.is_blocked.is_(False))
        .order_by(Notification.priority, Notification.not_before, Notification.id)
        .limit(limit)
        # PostgreSQL: two workers never take the same row; SQLite: the write lock serialises.
        .with_for_update(of=Notification, skip_locked=True)
    )
    if not promotional:
        query = query.where(Notification.message_class == NotificationClass.TRANSACTIONAL)
    return query


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        reader_id=row.reader_id,
        chat_id=row.chat_id,
        language=row.language,
        kind=row.kind,
        message_class=row.message_class,
        topic=row.topic,
        priority=row.priority,
        payload=row.payload,
        attempts=row.attempts + 1,
        not_before=row.not_before,
        expires_at=row.expires_at,
        broadcast_id=row.broadcast_id,
        opted_in=_opted_in(
            {
                "events": row.notify_events,
                "announcements": row.notify_announcements,
                "campaigns": row.notify_campaigns,
            },
            row.topic,
        ),
    )


async def claim_due(
    session: AsyncSession,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    promotional: bool = True,
) -> list[Delivery]:
    """Claim up to ``limit`` due rows in priority order (skipping rows others hold locked)."""
    async with write(session):
        rows = (await session.execute(_due(now, limit, promotional=promotional))).all()
        if rows:
            await session.execute(
                update(Notification)
                .where(Notification.id.in_([row.id for row in rows]))
                .values(
                    status=NotificationStatus.SENDING,
                    claimed_at=now,
                    claimed_by=worker_id,
                    attempts=Notification.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
    return [_delivery(row) for row in rows]


async def refresh_claims(
    session: AsyncSession, notification_ids: Sequence[int], *, worker_id: str, now: datetime
) -> None:
    """Keep a long-held batch from looking abandoned."""
    if not notification_ids:
        return
    await apply(
        session,
        update(Notification).where(all_held_by(notification_ids, worker_id)).values(claimed_at=now),
    )


async def release(
    session: AsyncSession,
    notification_ids: Sequence[int],
    *,
    worker_id: str,
    not_before: datetime | None = None,
) -> None:
    """Unsent claimed rows back to the queue (the claim's attempt is given back)."""
    if not notification_ids:
        return
    values: dict[str, Any] = {
        "status": NotificationStatus.PENDING,
        "claimed_at": None,
        "claimed_by": None,
        "attempted_at": None,
        "attempts": Notification.attempts - 1,
    }
    if not_before is not None:
        values["not_before"] = not_before
    await apply(
        session,
        update(Notification)
        .where(all_held_by(notification_ids, worker_id), Notification.attempts > 0)
        .values(**values),
    )


async def reclaim_stale(
    session: AsyncSession, *, now: datetime, claim_timeout: timedelta, max_attempts: int
) -> int:
    """Claims older than the timeout (their worker died) return to the queue, or end.

    A promotion or broadcast whose send had begun may have arrived: it ends as unknown and is
    not sent again. A row claimed ``max_attempts`` times fails. The rest are sent again.
    """
    cutoff = now - claim_timeout
    stale = (Notification.status == NotificationStatus.SENDING) & (Notification.claimed_at < cutoff)
    async with write(session):
        unknown = await session.execute(
            update(Notification)
            .where(stale, at_most_once_rows(), Notification.attempted_at.is_not(None))
            .values(
                status=NotificationStatus.FAILED,
                last_error=f"{UNKNOWN}: the worker sending it stopped; it may have arrived",
                claimed_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        failed = await session.execute(
            update(Notification)
            .where(stale, Notification.attempts >= max_attempts)
            .values(
                status=NotificationStatus.FAILED,
                last_error=f"the worker sending it stopped {max_attempts} times",
                claimed_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        returned = await session.execute(
            update(Notification)
            .where(stale)
            .values(
                status=NotificationStatus.PENDING,
                claimed_at=None,
                claimed_by=None,
                attempted_at=None,
            )
            .execution_options(synchronize_session=False)
        )
    return sum(int(getattr(result, "rowcount", 0) or 0) for result in (unknown, failed, returned))
