"""Reading events, their series, registrations and feedback."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, display_name, stored_enum, utcnow
from bot.models.enums import (
    EventAudience,
    EventCategory,
    EventRecurrence,
    EventStatus,
    RegistrationStatus,
)

if TYPE_CHECKING:
    from bot.models.members import District, Library
    from bot.models.readers import Reader


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
    # The English title when the organiser gave one (English readers see it).
    title_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[EventCategory] = mapped_column(stored_enum(EventCategory, "event_category"))
    audience: Mapped[EventAudience] = mapped_column(
        stored_enum(EventAudience, "event_audience"), default=EventAudience.EVERYONE
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue_library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL")
    )
    place_name: Mapped[str | None] = mapped_column(String(200))
    place_name_en: Mapped[str | None] = mapped_column(String(200))
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
        stored_enum(EventStatus, "event_status"), default=EventStatus.PUBLISHED
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

    def display_title(self, language: str) -> str:
        """The title in the language: the English one when there is one."""
        return display_name(self.title, self.title_en, language)

    def display_place(self, language: str) -> str | None:
        """The named place (not a member library) in the language."""
        if self.place_name is None:
            return None
        return display_name(self.place_name, self.place_name_en, language)


class EventSeries(Timestamps, Base):
    """A weekly or monthly run of sessions of one event; readers join one or all."""

    __tablename__ = "event_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    recurrence: Mapped[EventRecurrence] = mapped_column(
        stored_enum(EventRecurrence, "event_recurrence")
    )
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
        stored_enum(RegistrationStatus, "registration_status")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    offer_expires_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    attended_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    reader: Mapped[Reader] = relationship()


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
