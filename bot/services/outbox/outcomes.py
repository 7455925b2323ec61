"""What became of a claimed row: sent, tried again later, failed, unknown, or skipped.

Each function is its own short transaction and changes the row only while the worker that
records the outcome still holds its claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.functions import count

from bot.db import write
from bot.models import (
    Notification,
    NotificationClass,
    NotificationStatus,
    Reader,
    UTCDateTime,
)
from bot.services.outbox.claiming import all_held_by, apply, held_by
from bot.services.outbox.reasons import BLOCKED, UNKNOWN, stored_reason

_NOTIFICATIONS = cast(Table, Notification.__table__)


def _held(table: Table) -> Any:
    return (
        (table.c.id == bindparam("row_id"))
        & (table.c.status == NotificationStatus.SENDING)
        & (table.c.claimed_by == bindparam("worker_id"))
    )


# Built once: these run for every message delivered.
_MARK_ATTEMPTED = (
    update(_NOTIFICATIONS)
    .where(_held(_NOTIFICATIONS))
    .values(attempted_at=bindparam("attempted_at", type_=UTCDateTime()))
)
_MARK_SENT = (
    update(_NOTIFICATIONS)
    .where(_held(_NOTIFICATIONS))
    .values(
        status=NotificationStatus.SENT,
        sent_at=bindparam("sent_at", type_=UTCDateTime()),
        telegram_message_id=bindparam("message_id"),
        claimed_at=None,
    )
)


async def _run(session: AsyncSession, statement: Any, parameters: dict[str, Any]) -> bool:
    async with write(session):
        result = await session.execute(statement, parameters)
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def mark_attempted(
    session: AsyncSession, notification_id: int, *, worker_id: str, now: datetime
) -> bool:
    """Record, before the request, that a send of an at-most-once row begins.

    False if this worker no longer holds the claim (then it must not send).
    """
    return await _run(
        session,
        _MARK_ATTEMPTED,
        {"row_id": notification_id, "worker_id": worker_id, "attempted_at": now},
    )


async def mark_sent(
    session: AsyncSession,
    notification_id: int,
    *,
    worker_id: str,
    now: datetime,
    message_id: int | None,
) -> bool:
    """Record a delivered message; False if this worker no longer held the claim."""
    return await _run(
        session,
        _MARK_SENT,
        {
            "row_id": notification_id,
            "worker_id": worker_id,
            "sent_at": now,
            "message_id": message_id,
        },
    )


async def record_parts_sent(
    session: AsyncSession, notification_id: int, *, worker_id: str, payload: dict[str, Any]
) -> None:
    """Remember how far a multi-part message got, so a retry does not repeat its parts."""
    await apply(
        session,
        update(Notification).where(held_by(notification_id, worker_id)).values(payload=payload),
    )


async def retry_later(
    session: AsyncSession,
    notification_id: int,
    *,
    worker_id: str,
    not_before: datetime,
    reason: str,
) -> None:
    """A transient failure: back to the queue after the backoff, with the reason."""
    await apply(
        session,
        update(Notification)
        .where(held_by(notification_id, worker_id))
        .values(
            status=NotificationStatus.PENDING,
            not_before=not_before,
            last_error=stored_reason(reason),
            claimed_at=None,
            claimed_by=None,
            attempted_at=None,
        ),
    )


async def mark_failed(
    session: AsyncSession, notification_id: int, *, worker_id: str, reason: str
) -> None:
    """A permanent failure, with the reason."""
    await apply(
        session,
        update(Notification)
        .where(held_by(notification_id, worker_id))
        .values(
            status=NotificationStatus.FAILED, last_error=stored_reason(reason), claimed_at=None
        ),
    )


async def mark_unknown(
    session: AsyncSession, notification_id: int, *, worker_id: str, reason: str
) -> None:
    """A send of an at-most-once row that may have arrived: it ends here, never sent again."""
    await mark_failed(session, notification_id, worker_id=worker_id, reason=f"{UNKNOWN}: {reason}")


async def skip(
    session: AsyncSession, notification_ids: Sequence[int], *, worker_id: str, reason: str
) -> None:
    """Claimed rows that must not be sent (opted out, capped, expired...), with the reason."""
    if not notification_ids:
        return
    await apply(
        session,
        update(Notification)
        .where(all_held_by(notification_ids, worker_id))
        .values(
            status=NotificationStatus.SKIPPED, last_error=stored_reason(reason), claimed_at=None
        ),
    )


async def mark_reader_blocked(
    session: AsyncSession, reader_id: int, *, now: datetime, reason: str
) -> int:
    """The reader blocked the bot: mark them, skip their pending promotional and broadcast rows.

    Their transactional notices wait (they are about the reader's own holds and events)
    until the reader writes again, which clears the flag.
    """
    async with write(session):
        await session.execute(
            update(Reader)
            .where(Reader.id == reader_id)
            .values(is_blocked=True, blocked_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            update(Notification)
            .where(
                Notification.reader_id == reader_id,
                Notification.status == NotificationStatus.PENDING,
                (Notification.message_class == NotificationClass.PROMOTIONAL)
                | Notification.broadcast_id.is_not(None),
            )
            .values(
                status=NotificationStatus.SKIPPED, last_error=stored_reason(f"{BLOCKED}: {reason}")
            )
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)


def backoff_delay(attempts: int, *, base: float, maximum: float) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2 base, 4 base... capped."""
    return timedelta(seconds=min(maximum, base * 2 ** max(0, attempts - 1)))


@dataclass
class OutcomeCounts:
    """Rows of one broadcast (or any selection) by outcome.

    ``unknown``: sends that may or may not have arrived (a timeout after the request was
    written, a worker that died mid-send); they are not sent again.
    """

    queued: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    unknown: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every row counted."""
        return self.queued + self.sent + self.failed + self.blocked + self.skipped + self.unknown

    @property
    def finished(self) -> bool:
        """Nothing is waiting or being sent."""
        return self.queued == 0


async def outcome_counts(session: AsyncSession, *, broadcast_id: int) -> OutcomeCounts:
    """A broadcast's rows: queued (pending or sending), sent, failed, blocked, skipped, unknown."""
    blocked_row = Notification.last_error.like(f"{BLOCKED}:%").label("blocked")
    unknown_row = Notification.last_error.like(f"{UNKNOWN}:%").label("unknown")
    rows = await session.execute(
        select(Notification.status, blocked_row, unknown_row, count())
        .where(Notification.broadcast_id == broadcast_id)
        .group_by(Notification.status, blocked_row, unknown_row)
    )
    counts = OutcomeCounts()
    for status, blocked, unknown, number in rows.all():
        if status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            counts.queued += number
        elif status is NotificationStatus.SENT:
            counts.sent += number
        elif status is NotificationStatus.FAILED and unknown:
            counts.unknown += number
        elif status is NotificationStatus.FAILED:
            counts.failed += number
        elif blocked:
            counts.blocked += number
        else:
            counts.skipped += number
    return counts


async def skip_broadcast_rows_of_blocked_readers(
    session: AsyncSession, *, broadcast_id: int
) -> int:
    """Pending rows of a broadcast whose readers have blocked the bot are skipped."""
    return await apply(
        session,
        update(Notification)
        .where(
            Notification.broadcast_id == broadcast_id,
            Notification.status == NotificationStatus.PENDING,
            Notification.reader_id.in_(select(Reader.id).where(Reader.is_blocked.is_(True))),
        )
        .values(
            status=NotificationStatus.SKIPPED,
            last_error=f"{BLOCKED}: the reader has blocked the bot",
        ),
    )
