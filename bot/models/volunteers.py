"""Volunteers: roles with shifts on events, sign-ups, check-in and check-out (hours served)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps

if TYPE_CHECKING:
    from bot.models.events import Event
    from bot.models.readers import Reader


class VolunteerShift(Timestamps, Base):
    """A role (usher, reader guide, photographer…) to fill at an event, for a span of time."""

    __tablename__ = "volunteer_shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("places >= 1", name="places_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(60))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    places: Mapped[int] = mapped_column(Integer)
    # In the QR codes the organiser shows at the venue: check in, and check out.
    token: Mapped[str] = mapped_column(String(32), unique=True)

    event: Mapped[Event] = relationship()


class VolunteerSignup(Base):
    """A reader's place on a shift, and when they checked in and out."""

    __tablename__ = "volunteer_signups"
    __table_args__ = (
        UniqueConstraint("shift_id", "reader_id"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name="out_after_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("volunteer_shifts.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    signed_up_at: Mapped[datetime]
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]

    shift: Mapped[VolunteerShift] = relationship()
    reader: Mapped[Reader] = relationship()
