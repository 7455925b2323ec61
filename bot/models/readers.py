"""Readers, their roles, follows and the audit log of what staff did."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, stored_enum, utcnow
from bot.models.enums import AgeGroup, Role

if TYPE_CHECKING:
    from bot.models.members import District, Library


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
    age_group: Mapped[AgeGroup | None] = mapped_column(stored_enum(AgeGroup, "age_group"))
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
    role: Mapped[Role] = mapped_column(stored_enum(Role, "role"))
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    reader: Mapped[Reader] = relationship(back_populates="roles", foreign_keys=[reader_id])
    library: Mapped[Library | None] = relationship()


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
