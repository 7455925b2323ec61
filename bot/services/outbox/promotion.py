"""The rules for promotional messages: expiry, opt-outs, a frequency cap and quiet hours."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.functions import count

from bot.models import Notification, NotificationClass, NotificationStatus
from bot.services.outbox.claiming import Delivery
from bot.services.outbox.queueing import INSERT_CHUNK
from bot.services.outbox.reasons import CAPPED, EXPIRED, OPTED_OUT


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
    # Only read: end the transaction so the batch's connection holds no snapshot meanwhile.
    await session.commit()
    return counts
