"""The notification outbox: enqueue messages for readers, claim due ones, record what happened.

Everything Bookbridge sends on its own is one ``Notification`` row per message and reader.
Feature code enqueues inside its own transaction (``enqueue`` does not commit), so a hold
that becomes ready and its notice are committed together or not at all. The delivery
worker (``bot.delivery``) claims due rows, sends them and records the outcome with the
functions below; each of those is its own short transaction.

Row life cycle: ``pending`` -> ``sending`` (claimed by one worker) -> ``sent``, or back to
``pending`` with a later ``not_before`` (transient error, quiet hours, chat pacing), or
``failed`` (permanent error, too many attempts) or ``skipped`` (opted out, frequency cap,
reader blocked the bot, expired). ``last_error`` always says why, starting with a reason
code (``blocked:``, ``opted out:``, ``frequency cap:``, ``expired:``...).
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Literal, cast

from sqlalchemy import Insert, Table, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.functions import count

from bot.models import (
    Notification,
    NotificationClass,
    NotificationStatus,
    Reader,
    UTCDateTime,
    utcnow,
)
from bot.notices.intents import Notice
from bot.services.errors import InvalidInputError
from bot.services.readers import NOTIFICATION_TOPICS

__all__ = [
    "Attachment",
    "Button",
    "Delivery",
    "Judgement",
    "OutboxMessage",
    "OutcomeCounts",
    "Outgoing",
    "Priority",
    "PromotionRules",
    "QuietHours",
    "Verdict",
    "backoff_delay",
    "claim_due",
    "enqueue",
    "enqueue_many",
    "enqueue_notices",
    "judge_promotion",
    "mark_failed",
    "mark_reader_blocked",
    "mark_sent",
    "outcome_counts",
    "reclaim_stale",
    "record_parts_sent",
    "refresh_claims",
    "release",
    "retry_later",
    "sent_promotional_counts",
    "skip",
    "skip_broadcast_rows_of_blocked_readers",
]

LANGUAGES = ("zh", "en")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CONTENT_LIMIT = 512 * 1024
KIND_LIMIT = 40
DEDUP_LIMIT = 200
REASON_LIMIT = 500
INSERT_CHUNK = 500

# Reason codes at the start of last_error.
BLOCKED = "blocked"
OPTED_OUT = "opted out"
CAPPED = "frequency cap"
EXPIRED = "expired"


class Priority(enum.IntEnum):
    """Delivery order: lower values go first."""

    URGENT = 10
    HIGH = 50
    NORMAL = 100
    BULK = 200


@dataclass(frozen=True)
class Button:
    """An inline button under a message: a link or callback data; its label per language."""

    label: Mapping[str, str] | str
    url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A document or photo: a Telegram file_id or http(s) URL, or the (small) file itself."""

    kind: Literal["document", "photo"]
    file: str | None = None
    content: bytes | None = None
    filename: str | None = None


@dataclass(frozen=True)
class OutboxMessage:
    """What one reader receives: HTML text per language (one is enough) and extras."""

    text: Mapping[str, str]
    buttons: Sequence[Sequence[Button]] = ()
    attachment: Attachment | None = None
    location: tuple[float, float] | None = None

    def to_payload(self) -> dict[str, Any]:
        """The JSON stored in ``Notification.payload``."""
        payload: dict[str, Any] = {"text": dict(self.text)}
        if self.buttons:
            payload["buttons"] = [
                [
                    {
                        "label": button.label
                        if isinstance(button.label, str)
                        else dict(button.label),
                        **({"url": button.url} if button.url else {}),
                        **({"callback_data": button.callback_data} if button.callback_data else {}),
                    }
                    for button in row
                ]
                for row in self.buttons
            ]
        if self.attachment is not None:
            attachment: dict[str, Any] = {"kind": self.attachment.kind}
            if self.attachment.file:
                attachment["file"] = self.attachment.file
            if self.attachment.content is not None:
                attachment["content_b64"] = base64.b64encode(self.attachment.content).decode()
            if self.attachment.filename:
                attachment["filename"] = self.attachment.filename
            payload["attachment"] = attachment
        if self.location is not None:
            payload["location"] = [self.location[0], self.location[1]]
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> OutboxMessage:
        """Read a stored payload back (raises InvalidInputError if it is malformed)."""
        try:
            buttons = tuple(
                tuple(
                    Button(
                        label=item["label"],
                        url=item.get("url"),
                        callback_data=item.get("callback_data"),
                    )
                    for item in row
                )
                for row in payload.get("buttons", ())
            )
            attachment = None
            if raw := payload.get("attachment"):
                content = raw.get("content_b64")
                attachment = Attachment(
                    kind=raw["kind"],
                    file=raw.get("file"),
                    content=base64.b64decode(content, validate=True) if content else None,
                    filename=raw.get("filename"),
                )
            location = payload.get("location")
            return cls(
                text=dict(payload["text"]),
                buttons=buttons,
                attachment=attachment,
                location=(float(location[0]), float(location[1])) if location else None,
            )
        except (KeyError, TypeError, ValueError, IndexError, binascii.Error) as exc:
            raise InvalidInputError(f"malformed outbox payload: {exc}") from exc

    def text_for(self, language: str | None, default: str) -> str:
        """The text in the reader's language, else the default language, else any."""
        for candidate in (language, default, *LANGUAGES):
            if candidate and self.text.get(candidate):
                return self.text[candidate]
        return next(iter(self.text.values()), "")


def _check_message(message: OutboxMessage) -> None:
    texts = {lang: body for lang, body in message.text.items() if body}
    if not texts and message.attachment is None and message.location is None:
        raise InvalidInputError("an outbox message needs text, an attachment or a location")
    unknown = set(message.text) - set(LANGUAGES)
    if unknown:
        raise InvalidInputError(f"unknown language(s) {sorted(unknown)}")
    for body in texts.values():
        if len(body) > TEXT_LIMIT:
            raise InvalidInputError(f"text longer than {TEXT_LIMIT} characters")
    for row in message.buttons:
        for button in row:
            if (button.url is None) == (button.callback_data is None):
                raise InvalidInputError("a button needs exactly one of url and callback_data")
            if button.callback_data is not None and len(button.callback_data.encode()) > 64:
                raise InvalidInputError("callback data longer than 64 bytes")
            if button.url is not None and not button.url.startswith(
                ("https://", "http://", "tg://")
            ):
                raise InvalidInputError("a button link must be http(s) or tg://")
    attachment = message.attachment
    if attachment is not None:
        if attachment.kind not in ("document", "photo"):
            raise InvalidInputError(f"unknown attachment kind {attachment.kind!r}")
        if (attachment.file is None) == (attachment.content is None):
            raise InvalidInputError("an attachment needs exactly one of file and content")
        if attachment.content is not None and len(attachment.content) > CONTENT_LIMIT:
            raise InvalidInputError(f"attached content larger than {CONTENT_LIMIT} bytes")
    if message.location is not None:
        latitude, longitude = message.location
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidInputError("location out of range")


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
        if payload is None:
            if self.message is None:
                raise InvalidInputError("an outgoing row needs a message or a payload")
            _check_message(self.message)
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


def _insert(session: AsyncSession) -> Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Notification).on_conflict_do_nothing(index_elements=["dedup_key"])
    return sqlite.insert(Notification).on_conflict_do_nothing(index_elements=["dedup_key"])


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
    payloads: dict[int, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for item in outgoing:
        if item.message is None:
            raise InvalidInputError("enqueue_many takes messages; intents go to enqueue_notices")
        # Broadcasts queue one message object for thousands of readers: check it once.
        payload = payloads.get(id(item.message))
        if payload is None:
            _check_message(item.message)
            payload = payloads[id(item.message)] = item.message.to_payload()
        rows.append(item.values(now, payload))
    return await _insert_rows(session, rows)


async def enqueue_notices(
    session: AsyncSession, notices: Iterable[Notice], *, now: datetime | None = None
) -> int:
    """Queue typed notice intents in the caller's transaction; returns how many were new.

    They are rendered in each reader's language when they are sent (``bot.notices.render``).
    """
    now = now or utcnow()
    rows = [
        Outgoing(
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
        ).values(now, notice.payload())
        for notice in notices
    ]
    return await _insert_rows(session, rows)


async def _insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    inserted = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        await _skip_for_blocked_readers(session, chunk)
        result = await session.execute(_insert(session).returning(Notification.id), chunk)
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


# --- claiming --------------------------------------------------------------------------


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


def _opted_in(reader_flags: Mapping[str, bool], topic: str | None) -> bool:
    return True if topic is None else reader_flags.get(topic, True)


async def claim_due(
    session: AsyncSession,
    *,
    worker_id: str,
    now: datetime,
    limit: int,
    promotional: bool = True,
) -> list[Delivery]:
    """Claim up to ``limit`` due rows in priority order (skipping rows others hold locked)."""
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
        # PostgreSQL: two workers never take the same row; SQLite: BEGIN IMMEDIATE serialises.
        .with_for_update(of=Notification, skip_locked=True)
    )
    if not promotional:
        query = query.where(Notification.message_class == NotificationClass.TRANSACTIONAL)
    try:
        rows = (await session.execute(query)).all()
        if not rows:
            await session.commit()
            return []
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
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return [
        Delivery(
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
        for row in rows
    ]


def _mine(notification_id: int, worker_id: str) -> Any:
    # A claim that timed out may have been taken over; then the outcome is not ours to record.
    return (
        (Notification.id == notification_id)
        & (Notification.status == NotificationStatus.SENDING)
        & (Notification.claimed_by == worker_id)
    )


def _reason(text_: str) -> str:
    return text_[:REASON_LIMIT]


async def _apply(session: AsyncSession, statement: Any) -> int:
    try:
        result = await session.execute(statement.execution_options(synchronize_session=False))
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return int(getattr(result, "rowcount", 0) or 0)


_NOTIFICATIONS = cast(Table, Notification.__table__)
# Built once: marking a row sent is the one statement run for every message delivered.
_MARK_SENT = (
    update(_NOTIFICATIONS)
    .where(
        _NOTIFICATIONS.c.id == bindparam("row_id"),
        _NOTIFICATIONS.c.status == NotificationStatus.SENDING,
        _NOTIFICATIONS.c.claimed_by == bindparam("worker_id"),
    )
    .values(
        status=NotificationStatus.SENT,
        sent_at=bindparam("sent_at", type_=UTCDateTime()),
        telegram_message_id=bindparam("message_id"),
        claimed_at=None,
    )
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
    try:
        result = await session.execute(
            _MARK_SENT,
            {
                "row_id": notification_id,
                "worker_id": worker_id,
                "sent_at": now,
                "message_id": message_id,
            },
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def record_parts_sent(
    session: AsyncSession, notification_id: int, *, worker_id: str, payload: dict[str, Any]
) -> None:
    """Remember how far a multi-part message got, so a retry does not repeat its parts."""
    await _apply(
        session,
        update(Notification).where(_mine(notification_id, worker_id)).values(payload=payload),
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
    await _apply(
        session,
        update(Notification)
        .where(_mine(notification_id, worker_id))
        .values(
            status=NotificationStatus.PENDING,
            not_before=not_before,
            last_error=_reason(reason),
            claimed_at=None,
            claimed_by=None,
        ),
    )


async def mark_failed(
    session: AsyncSession, notification_id: int, *, worker_id: str, reason: str
) -> None:
    """A permanent failure, with the reason."""
    await _apply(
        session,
        update(Notification)
        .where(_mine(notification_id, worker_id))
        .values(
            status=NotificationStatus.FAILED,
            last_error=_reason(reason),
            claimed_at=None,
        ),
    )


async def skip(
    session: AsyncSession, notification_ids: Sequence[int], *, worker_id: str, reason: str
) -> None:
    """Claimed rows that must not be sent (opted out, capped, expired...), with the reason."""
    if not notification_ids:
        return
    await _apply(
        session,
        update(Notification)
        .where(
            Notification.id.in_(list(notification_ids)),
            Notification.status == NotificationStatus.SENDING,
            Notification.claimed_by == worker_id,
        )
        .values(status=NotificationStatus.SKIPPED, last_error=_reason(reason), claimed_at=None),
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
        "attempts": Notification.attempts - 1,
    }
    if not_before is not None:
        values["not_before"] = not_before
    await _apply(
        session,
        update(Notification)
        .where(
            Notification.id.in_(list(notification_ids)),
            Notification.status == NotificationStatus.SENDING,
            Notification.claimed_by == worker_id,
            Notification.attempts > 0,
        )
        .values(**values),
    )


async def refresh_claims(
    session: AsyncSession, notification_ids: Sequence[int], *, worker_id: str, now: datetime
) -> None:
    """Keep a long-held batch from looking abandoned."""
    if not notification_ids:
        return
    await _apply(
        session,
        update(Notification)
        .where(
            Notification.id.in_(list(notification_ids)),
            Notification.status == NotificationStatus.SENDING,
            Notification.claimed_by == worker_id,
        )
        .values(claimed_at=now),
    )


async def reclaim_stale(
    session: AsyncSession, *, now: datetime, claim_timeout: timedelta, max_attempts: int
) -> int:
    """Claims older than the timeout (their worker died) return to the queue, or fail."""
    cutoff = now - claim_timeout
    stale = (Notification.status == NotificationStatus.SENDING) & (Notification.claimed_at < cutoff)
    failed = await _apply(
        session,
        update(Notification)
        .where(stale, Notification.attempts >= max_attempts)
        .values(
            status=NotificationStatus.FAILED,
            last_error=f"the worker sending it stopped {max_attempts} times",
            claimed_at=None,
        ),
    )
    returned = await _apply(
        session,
        update(Notification)
        .where(stale)
        .values(status=NotificationStatus.PENDING, claimed_at=None, claimed_by=None),
    )
    return failed + returned


async def mark_reader_blocked(
    session: AsyncSession, reader_id: int, *, now: datetime, reason: str
) -> int:
    """The reader blocked the bot: mark them, skip their pending promotional and broadcast rows.

    Their transactional notices wait (they are about the reader's own holds and events)
    until the reader writes again, which clears the flag.
    """
    try:
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
            .values(status=NotificationStatus.SKIPPED, last_error=_reason(f"{BLOCKED}: {reason}"))
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return int(getattr(result, "rowcount", 0) or 0)


async def sent_promotional_counts(
    session: AsyncSession, reader_ids: Iterable[int], *, since: datetime
) -> dict[int, int]:
    """How many promotional messages each reader received since a moment."""
    ids = sorted(set(reader_ids))
    counts: dict[int, int] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        rows = await session.execute(
            select(Notification.reader_id, count())
            .where(
                Notification.reader_id.in_(ids[start : start + INSERT_CHUNK]),
                Notification.status == NotificationStatus.SENT,
                Notification.message_class == NotificationClass.PROMOTIONAL,
                Notification.sent_at >= since,
            )
            .group_by(Notification.reader_id)
        )
        counts.update(dict(rows.all()))
    await session.commit()
    return counts


# --- the rules for promotional messages ------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """Hours in the alliance time zone when promotional messages wait (start == end: none)."""

    start: time
    end: time
    zone: tzinfo

    def active(self, now: datetime) -> bool:
        """Whether ``now`` falls in the quiet hours."""
        local = now.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, now: datetime) -> datetime:
        """The next moment the quiet hours end (the morning after a quiet evening)."""
        local = now.astimezone(self.zone)
        candidate = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if candidate <= local:
            candidate = datetime.combine(
                local.date() + timedelta(days=1), self.end, tzinfo=self.zone
            )
        return candidate


@dataclass(frozen=True)
class PromotionRules:
    """Quiet hours, and at most ``cap_count`` promotional messages per ``cap_days`` (0: no cap)."""

    quiet: QuietHours
    cap_count: int
    cap_days: int

    def cap_window_start(self, now: datetime) -> datetime:
        """Promotional messages sent after this count towards the cap."""
        return now - timedelta(days=self.cap_days)


class Verdict(enum.StrEnum):
    SEND = "send"
    WAIT = "wait"
    SKIP = "skip"


@dataclass(frozen=True)
class Judgement:
    """What to do with a claimed row: send, wait until a moment, or skip with a reason."""

    verdict: Verdict
    reason: str = ""
    until: datetime | None = None


SEND = Judgement(Verdict.SEND)


def judge_promotion(
    delivery: Delivery, *, now: datetime, rules: PromotionRules, sent_recently: int
) -> Judgement:
    """Apply expiry, and for promotional rows opt-outs, the cap and quiet hours."""
    if delivery.expires_at is not None and delivery.expires_at <= now:
        return Judgement(Verdict.SKIP, f"{EXPIRED}: not sent before {delivery.expires_at}")
    if not delivery.promotional:
        return SEND
    if not delivery.opted_in:
        return Judgement(Verdict.SKIP, f"{OPTED_OUT}: the reader turned off {delivery.topic}")
    if rules.cap_count and sent_recently >= rules.cap_count:
        return Judgement(
            Verdict.SKIP,
            f"{CAPPED}: {sent_recently} promotional messages in {rules.cap_days} days",
        )
    if rules.quiet.active(now):
        return Judgement(Verdict.WAIT, "quiet hours", rules.quiet.next_end(now))
    return SEND


def backoff_delay(attempts: int, *, base: float, maximum: float) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2 base, 4 base... capped."""
    return timedelta(seconds=min(maximum, base * 2 ** max(0, attempts - 1)))


@dataclass
class OutcomeCounts:
    """Rows of one broadcast (or any selection) by outcome."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every row counted."""
        return self.queued + self.sent + self.failed + self.blocked + self.skipped

    @property
    def finished(self) -> bool:
        """Nothing is waiting or being sent."""
        return self.queued == 0


async def outcome_counts(session: AsyncSession, *, broadcast_id: int) -> OutcomeCounts:
    """A broadcast's rows: queued (pending or sending), sent, failed, blocked, skipped."""
    blocked_row = Notification.last_error.like(f"{BLOCKED}:%").label("blocked")
    rows = await session.execute(
        select(Notification.status, blocked_row, count())
        .where(Notification.broadcast_id == broadcast_id)
        .group_by(Notification.status, blocked_row)
    )
    counts = OutcomeCounts()
    for status, blocked, number in rows.all():
        if status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            counts.queued += number
        elif status is NotificationStatus.SENT:
            counts.sent += number
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
    return await _apply(
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
