"""The data model: typed SQLAlchemy 2 models for every entity in the design."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a tz-aware column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention migrations rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as VARCHAR with a CHECK constraint: portable and easy to extend in a migration.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Timestamps:
    """created_at / updated_at, kept by the database and the ORM."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class LibraryKind(enum.StrEnum):
    UNIVERSITY = "university"
    PUBLIC = "public"
    SCHOOL = "school"
    PARTNER = "partner"


class ItemStatus(enum.StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    HELD = "held"
    IN_TRANSIT = "in_transit"
    MISSING = "missing"


class HoldStatus(enum.StrEnum):
    QUEUED = "queued"
    IN_TRANSIT = "in_transit"
    READY = "ready"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ACTIVE_HOLD_STATUSES = (HoldStatus.QUEUED, HoldStatus.IN_TRANSIT, HoldStatus.READY)


class Role(enum.StrEnum):
    READER = "reader"
    LIBRARIAN = "librarian"
    ORGANISER = "organiser"
    ADMIN = "admin"


class AgeGroup(enum.StrEnum):
    CHILDREN = "children"
    STUDENTS = "students"
    ADULTS = "adults"
    SENIORS = "seniors"


class EventCategory(enum.StrEnum):
    LECTURE = "lecture"
    BOOK_CLUB = "book_club"
    HUMAN_LIBRARY = "human_library"
    CLASSICS_READING = "classics_reading"
    CONTEST = "contest"
    EXHIBITION = "exhibition"
    VOLUNTEERING = "volunteering"
    WORKSHOP = "workshop"
    OTHER = "other"


class EventAudience(enum.StrEnum):
    EVERYONE = "everyone"
    CHILDREN = "children"
    STUDENTS = "students"
    ADULTS = "adults"
    SENIORS = "seniors"


class EventStatus(enum.StrEnum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class EventRecurrence(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    CANCELLED = "cancelled"
    ATTENDED = "attended"


class NotificationClass(enum.StrEnum):
    TRANSACTIONAL = "transactional"
    PROMOTIONAL = "promotional"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SuggestionStatus(enum.StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    DECLINED = "declined"


def display_name(name: str, name_en: str | None, language: str) -> str:
    """A bilingual name in the language: the English one for English when there is one."""
    return name_en if language == "en" and name_en else name


class District(Base):
    """A district of the alliance's city or region: the unit of reach."""

    __tablename__ = "districts"
    __table_args__ = (
        CheckConstraint("population >= 0", name="population_non_negative"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    population: Mapped[int] = mapped_column(Integer)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    libraries: Mapped[list[Library]] = relationship(back_populates="district")

    def display_name(self, language: str) -> str:
        """The district's name in the language: the English one when there is one."""
        return display_name(self.name, self.name_en, language)


class Library(Timestamps, Base):
    """A member library (university, public, school) or partner organisation."""

    __tablename__ = "libraries"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[LibraryKind] = mapped_column(_enum(LibraryKind, "library_kind"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    opening_hours: Mapped[str] = mapped_column(String(300), default="")
    is_pickup_point: Mapped[bool] = mapped_column(Boolean, default=True)

    district: Mapped[District] = relationship(back_populates="libraries")

    def display_name(self, language: str) -> str:
        """The library's name in the language: the English one when there is one."""
        return display_name(self.name, self.name_en, language)


class Work(Timestamps, Base):
    """One bibliographic work; editions with the same ISBN merge into it."""

    __tablename__ = "works"
    __table_args__ = (
        CheckConstraint("year IS NULL OR year BETWEEN 0 AND 2999", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(1000))
    original_title: Mapped[str | None] = mapped_column(String(1000))
    authors: Mapped[list[str]] = mapped_column(default=list)
    original_authors: Mapped[list[str]] = mapped_column(default=list)
    subjects: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    year: Mapped[int | None] = mapped_column(Integer)
    publisher: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    work_key: Mapped[str] = mapped_column(String(255), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")

    isbns: Mapped[list[WorkIsbn]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="WorkIsbn.position"
    )
    items: Mapped[list[Item]] = relationship(back_populates="work")


class WorkIsbn(Base):
    """An ISBN-13 that identifies one work (the merge key across libraries)."""

    __tablename__ = "work_isbns"

    isbn: Mapped[str] = mapped_column(String(13), primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    work: Mapped[Work] = relationship(back_populates="isbns")


class Item(Timestamps, Base):
    """A physical copy of a work held by one library."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_work_id_status", "work_id", "status"),
        Index("ix_items_library_id_status", "library_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    call_number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[ItemStatus] = mapped_column(
        _enum(ItemStatus, "item_status"), default=ItemStatus.AVAILABLE
    )
    due_at: Mapped[datetime | None]

    work: Mapped[Work] = relationship(back_populates="items")
    library: Mapped[Library] = relationship()


class Reader(Timestamps, Base):
    """Somebody who talks to the bot; everyone is a reader, some have further roles."""

    __tablename__ = "readers"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), index=True
    )
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    age_group: Mapped[AgeGroup | None] = mapped_column(_enum(AgeGroup, "age_group"))
    interests: Mapped[list[str]] = mapped_column(default=list)
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    notify_events: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_announcements: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_campaigns: Mapped[bool] = mapped_column(Boolean, default=True)
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_at: Mapped[datetime | None]
    onboarded_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    # Privacy: set when the reader asked to be forgotten; the row stays as an anonymous tombstone.
    forgotten_at: Mapped[datetime | None]

    district: Mapped[District | None] = relationship()
    roles: Mapped[list[RoleGrant]] = relationship(
        back_populates="reader", cascade="all, delete-orphan", foreign_keys="RoleGrant.reader_id"
    )


class RoleGrant(Base):
    """A role beyond reader: librarian of a library, organiser (maybe for libraries), admin."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("reader_id", "role", "library_id"),
        CheckConstraint(
            "role <> 'librarian' OR library_id IS NOT NULL", name="librarian_has_library"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    reader: Mapped[Reader] = relationship(back_populates="roles", foreign_keys=[reader_id])
    library: Mapped[Library | None] = relationship()


_ACTIVE_HOLD_SQL = "status IN ('queued', 'in_transit', 'ready')"
_ITEM_ASSIGNED_SQL = "item_id IS NOT NULL AND status IN ('in_transit', 'ready')"


class Hold(Timestamps, Base):
    """A reader's title-level request for a work, to be picked up at a library."""

    __tablename__ = "holds"
    __table_args__ = (
        # One active hold per reader per work.
        Index(
            "uq_holds_active_reader_work",
            "reader_id",
            "work_id",
            unique=True,
            sqlite_where=text(_ACTIVE_HOLD_SQL),
            postgresql_where=text(_ACTIVE_HOLD_SQL),
        ),
        # No copy is ever assigned to two active holds.
        Index(
            "uq_holds_assigned_item",
            "item_id",
            unique=True,
            sqlite_where=text(_ITEM_ASSIGNED_SQL),
            postgresql_where=text(_ITEM_ASSIGNED_SQL),
        ),
        Index("ix_holds_work_id_status_queued_at", "work_id", "status", "queued_at"),
        Index("ix_holds_status_ready_until", "status", "ready_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    pickup_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    status: Mapped[HoldStatus] = mapped_column(
        _enum(HoldStatus, "hold_status"), default=HoldStatus.QUEUED
    )
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    in_transit_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    ready_until: Mapped[datetime | None]
    collected_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    suspended_until: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(300))
    # Holds: the assigned copy was taken off the shelf (pull list), the reader was reminded
    # of the ready-until date, warned that an unfilled hold is about to expire.
    pulled_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]

    reader: Mapped[Reader] = relationship()
    work: Mapped[Work] = relationship()
    pickup_library: Mapped[Library] = relationship()
    item: Mapped[Item | None] = relationship()


class Event(Timestamps, Base):
    """A reading activity: lecture, book club, human library, contest, exhibition..."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[EventCategory] = mapped_column(_enum(EventCategory, "event_category"))
    audience: Mapped[EventAudience] = mapped_column(
        _enum(EventAudience, "event_audience"), default=EventAudience.EVERYONE
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL")
    )
    place_name: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), index=True
    )
    capacity: Mapped[int] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None]
    registration_closes_at: Mapped[datetime | None]
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    partners: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[EventStatus] = mapped_column(
        _enum(EventStatus, "event_status"), default=EventStatus.PUBLISHED
    )
    checkin_token: Mapped[str] = mapped_column(String(32), unique=True)
    # Sessions of a weekly or monthly series share a series row.
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_series.id", ondelete="SET NULL"), index=True
    )

    venue_library: Mapped[Library | None] = relationship()
    district: Mapped[District | None] = relationship()
    organiser: Mapped[Reader | None] = relationship()
    series: Mapped[EventSeries | None] = relationship()


class EventSeries(Timestamps, Base):
    """A weekly or monthly run of sessions of one event; readers join one or all."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    recurrence: Mapped[EventRecurrence] = mapped_column(_enum(EventRecurrence, "event_recurrence"))
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )


class Registration(Timestamps, Base):
    """A reader's place at an event: confirmed, waitlisted (with a position) or offered."""

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "reader_id"),
        Index("ix_registrations_event_id_status_position", "event_id", "status", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "registration_status")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    offer_expires_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    attended_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    reader: Mapped[Reader] = relationship()


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
        _enum(NotificationClass, "notification_class"), default=NotificationClass.TRANSACTIONAL
    )
    topic: Mapped[str | None] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
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
        _enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
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


class CatalogueChange(Base):
    """The works one import batch created or changed, for every instance's index to catch up."""

    __tablename__ = "catalogue_changes"
    __table_args__ = (Index("ix_catalogue_changes_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchLog(Base):
    """One catalogue search, kept for unmet-demand and reach statistics."""

    __tablename__ = "search_logs"
    __table_args__ = (Index("ix_search_logs_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    query: Mapped[str] = mapped_column(String(300))
    hit_count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="chat")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurchaseSuggestion(Timestamps, Base):
    """'You choose, the library buys': a title readers asked for; duplicates merge as votes."""

    __tablename__ = "purchase_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_key: Mapped[str] = mapped_column(String(300), unique=True)
    query: Mapped[str] = mapped_column(String(300))
    isbn: Mapped[str | None] = mapped_column(String(13))
    votes: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[SuggestionStatus] = mapped_column(
        _enum(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.OPEN
    )
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]


class PurchaseVote(Base):
    """One reader's vote for a purchase suggestion."""

    __tablename__ = "purchase_votes"
    __table_args__ = (UniqueConstraint("suggestion_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_suggestions.id", ondelete="CASCADE")
    )
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """A reader's rating (1–5) and comment, for an event or for the service."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        UniqueConstraint("event_id", "reader_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Who did what: every admin, librarian and organiser action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LibraryFollow(Base):
    """A reader follows a library: they hear its announcements."""

    __tablename__ = "library_follows"
    __table_args__ = (UniqueConstraint("reader_id", "library_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    library: Mapped[Library] = relationship()


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
        _enum(BroadcastAudience, "broadcast_audience")
    )
    target_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    text: Mapped[dict[str, Any]] = mapped_column(default=dict)
    button_url: Mapped[str | None] = mapped_column(String(500))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[BroadcastStatus] = mapped_column(
        _enum(BroadcastStatus, "broadcast_status"), default=BroadcastStatus.SENDING
    )
    status_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    status_message_id: Mapped[int | None] = mapped_column(BigInteger)
    status_language: Mapped[str | None] = mapped_column(String(8))
    reported: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finished_at: Mapped[datetime | None]


class WorkWatch(Base):
    """A reader asked to be told when a copy of a work nobody holds arrives in the alliance."""

    __tablename__ = "work_watches"
    __table_args__ = (UniqueConstraint("reader_id", "work_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    arrived_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
