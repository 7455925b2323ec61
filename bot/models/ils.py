"""How Bookbridge reaches a member library's own system (ILS): SIP2, a status feed, or by hand."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Timestamps, stored_enum


class IlsKind(enum.StrEnum):
    MANUAL = "manual"  # librarians tell the bot (/checkin, /missing ...): the default
    SIP2 = "sip2"
    FEED = "feed"  # a CSV the library's system publishes: barcode,status,due date


class IlsConnection(Timestamps, Base):
    """One library's connector. The password is stored for the connector only: it is never
    logged, never shown back, and never part of an export."""

    __tablename__ = "ils_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[IlsKind] = mapped_column(stored_enum(IlsKind, "ils_kind"), default=IlsKind.MANUAL)
    host: Mapped[str] = mapped_column(String(255), default="")
    port: Mapped[int] = mapped_column(Integer, default=0)
    username: Mapped[str] = mapped_column(String(255), default="")
    password: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(String(255), default="")
    institution: Mapped[str] = mapped_column(String(255), default="")
    use_tls: Mapped[bool] = mapped_column(Boolean, default=False)
    encoding: Mapped[str] = mapped_column(String(32), default="utf-8")
    feed_url: Mapped[str] = mapped_column(String(1000), default="")

    def __repr__(self) -> str:
        return f"IlsConnection(library_id={self.library_id}, kind={self.kind})"


class RelayStatus(enum.StrEnum):
    PENDING = "pending"  # not yet answered (the system was down): tried again by the job
    PLACED = "placed"  # the library's system holds the copy for the reader
    REFUSED = "refused"  # the system said no: the librarians' flow of today applies
    NO_CARD = "no_card"  # the reader has no linked card there: the librarians' flow
    CANCELLED = "cancelled"  # placed, then withdrawn: the hold ended or took another copy


class IlsHoldRelay(Timestamps, Base):
    """A hold's copy, as placed (or not) in the owning library's own system."""

    __tablename__ = "ils_hold_relays"

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    status: Mapped[RelayStatus] = mapped_column(
        stored_enum(RelayStatus, "ils_relay_status"), default=RelayStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # What the system said (its screen message), or why nothing was sent; never a card or PIN.
    message: Mapped[str] = mapped_column(String(300), default="")
    __table_args__ = (UniqueConstraint("hold_id", "item_id"),)


class IlsPatronLink(Timestamps, Base):
    """A reader's own card at a member library, checked with the library's system.
    The PIN is never stored."""

    __tablename__ = "ils_patron_links"
    __table_args__ = (UniqueConstraint("reader_id", "library_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    card_number: Mapped[str] = mapped_column(String(64))
