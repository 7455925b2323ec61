"""Holds: a reader's request for a work, and the copy it takes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, stored_enum, utcnow
from bot.models.enums import HoldStatus

if TYPE_CHECKING:
    from bot.models.catalogue import Item, Work
    from bot.models.members import Library
    from bot.models.readers import Reader


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
        stored_enum(HoldStatus, "hold_status"), default=HoldStatus.QUEUED
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
