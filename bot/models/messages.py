"""What the bot sends on its own: the outbox, broadcasts, campaigns and reach snapshots."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, stored_enum, utcnow
from bot.models.enums import CampaignStatus, NotificationClass, NotificationStatus

if TYPE_CHECKING:
    from bot.models.readers import Reader


_PENDING_SQL = "status = 'pending'"


class Notification(Base):
    """The outbox: one message for one reader, sent at most once."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_notifications_status_not_before_priority", "status", "not_before", "priority"),
        Index("ix_notifications_reader_id_status", "reader_id", "status"),
        # The delivery queue: pending rows in the order the worker takes them.
        Index(
            "ix_notifications_queue",
            "priority",
            "not_before",
            "id",
            sqlite_where=text(_PENDING_SQL),
            postgresql_where=text(_PENDING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message_class: Mapped[NotificationClass] = mapped_column(
        stored_enum(NotificationClass, "notification_class"),
        default=NotificationClass.TRANSACTIONAL,
    )
    topic: Mapped[str | None] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[NotificationStatus] = mapped_column(
        stored_enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # When the send of a row that goes at most once began: if its worker dies, it may have arrived.
    attempted_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), index=True
    )
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    reader: Mapped[Reader] = relationship()


class Campaign(Timestamps, Base):
    """A reading campaign pushed to a targeted audience, with a random holdout."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("holdout_share >= 0 AND holdout_share < 1", name="holdout_share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    message: Mapped[dict[str, Any]] = mapped_column(default=dict)
    targeting: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holdout_share: Mapped[float] = mapped_column(Float, default=0.1)
    status: Mapped[CampaignStatus] = mapped_column(
        stored_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    launched_at: Mapped[datetime | None]
    # Campaigns (reach): the linked event, when the next wave is due, waves sent so far.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    waves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CampaignRecipient(Base):
    """A reader fixed in a campaign's audience at launch: treated, or held out and never sent."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "reader_id"),
        Index("ix_campaign_recipients_campaign_id_holdout", "campaign_id", "holdout"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]


class ReachSnapshot(Base):
    """One district's reach over one period (the weekly job stores them for trends)."""

    __tablename__ = "reach_snapshots"
    __table_args__ = (
        UniqueConstraint("district_id", "period_end"),
        Index("ix_reach_snapshots_period_end", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    population: Mapped[int] = mapped_column(Integer)
    active_readers: Mapped[int] = mapped_column(Integer)
    searches: Mapped[int] = mapped_column(Integer)
    holds: Mapped[int] = mapped_column(Integer)
    registrations: Mapped[int] = mapped_column(Integer)
    attendance: Mapped[int] = mapped_column(Integer)
    reach_index: Mapped[float | None] = mapped_column(Float)
    under_reached: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class BroadcastAudience(enum.StrEnum):
    FOLLOWERS = "followers"
    DISTRICTS = "districts"
    EVERYONE = "everyone"


class BroadcastStatus(enum.StrEnum):
    SENDING = "sending"
    DONE = "done"


class Broadcast(Timestamps, Base):
    """An announcement an organiser or admin sent to an audience through the outbox."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    draft_key: Mapped[str] = mapped_column(String(32), unique=True)
    audience: Mapped[BroadcastAudience] = mapped_column(
        stored_enum(BroadcastAudience, "broadcast_audience")
    )
    target_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    text: Mapped[dict[str, Any]] = mapped_column(default=dict)
    button_url: Mapped[str | None] = mapped_column(String(500))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[BroadcastStatus] = mapped_column(
        stored_enum(BroadcastStatus, "broadcast_status"), default=BroadcastStatus.SENDING
    )
    status_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    status_message_id: Mapped[int | None] = mapped_column(BigInteger)
    status_language: Mapped[str | None] = mapped_column(String(8))
    reported: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finished_at: Mapped[datetime | None]
