"""The catalogue: works, their ISBNs, copies, changes, searches, purchases and watches."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, stored_enum, utcnow
from bot.models.enums import ItemStatus, SuggestionStatus

if TYPE_CHECKING:
    from bot.models.members import Library


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
    # From CNMARC/UNIMARC: parallel, variant and pinyin titles (searched, not shown), the
    # Chinese Library Classification numbers (690), edition (205) and series (225).
    variant_titles: Mapped[list[str]] = mapped_column(default=list)
    clc_numbers: Mapped[list[str]] = mapped_column(default=list)
    edition: Mapped[str | None] = mapped_column(String(300))
    series: Mapped[str | None] = mapped_column(String(500))
    # Titles the record gives besides its own (uniform, parallel, original, other editions').
    other_titles: Mapped[list[str]] = mapped_column(default=list)
    # Works with one family key are editions or translations of one work (null: not yet
    # known, for works imported before it was read; a re-import fills it).
    family_key: Mapped[str | None] = mapped_column(String(255), index=True)

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
        stored_enum(ItemStatus, "item_status"), default=ItemStatus.AVAILABLE
    )
    due_at: Mapped[datetime | None]

    work: Mapped[Work] = relationship(back_populates="items")
    library: Mapped[Library] = relationship()


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
        stored_enum(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.OPEN
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
