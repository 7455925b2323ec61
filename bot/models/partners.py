"""Partners: colleges, departments, the student union, bookstores, museums, publishers."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, display_name, stored_enum

if TYPE_CHECKING:
    from bot.models.events import Event
    from bot.models.readers import Reader


class PartnerKind(enum.StrEnum):
    """What kind of organisation a partner is."""

    COLLEGE = "college"
    DEPARTMENT = "department"
    STUDENT_UNION = "student_union"
    BOOKSTORE = "bookstore"
    MUSEUM = "museum"
    PUBLISHER = "publisher"
    OTHER = "other"


class Partner(Timestamps, Base):
    """An organisation that co-hosts events with the alliance."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[PartnerKind] = mapped_column(stored_enum(PartnerKind, "partner_kind"))
    description: Mapped[str] = mapped_column(Text, default="")

    def display(self, language: str) -> str:
        """The name in the language."""
        return display_name(self.name, self.name_en, language)


class PartnerInstitution(Base):
    """A college or department belongs to a school or university (its library): readers of
    that institution pick their department among these (/settings)."""

    __tablename__ = "partner_institutions"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), index=True
    )


class PartnerOrganiser(Base):
    """An organiser account bound to a partner: they host events in its name."""

    __tablename__ = "partner_organisers"
    __table_args__ = (UniqueConstraint("partner_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)

    partner: Mapped[Partner] = relationship()
    reader: Mapped[Reader] = relationship()


class EventHost(Base):
    """A partner co-hosting an event."""

    __tablename__ = "event_hosts"
    __table_args__ = (UniqueConstraint("event_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )

    event: Mapped[Event] = relationship()
    partner: Mapped[Partner] = relationship()
