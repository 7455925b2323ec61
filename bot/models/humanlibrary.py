"""The human library: living books at an event, their conversation slots, waitlists, feedback."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, utcnow

if TYPE_CHECKING:
    from bot.models.events import Event
    from bot.models.readers import Reader


class LivingBook(Timestamps, Base):
    """A person readers can "borrow" for a conversation: a name, a topic and a short blurb."""

    __tablename__ = "living_books"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # The living book's own account, when they talk to the bot (they see their schedule).
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(200))
    blurb: Mapped[str] = mapped_column(Text, default="")
    slot_minutes: Mapped[int] = mapped_column(Integer)

    event: Mapped[Event] = relationship()
    person: Mapped[Reader | None] = relationship()


class LivingBookSlot(Base):
    """One conversation with a living book; one reader per slot, one slot per reader and book."""

    __tablename__ = "living_book_slots"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        UniqueConstraint("book_id", "starts_at"),
        # NULLs are distinct on SQLite and PostgreSQL: many free slots, one booked per reader.
        UniqueConstraint("book_id", "reader_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("living_books.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reader_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    booked_at: Mapped[datetime | None]

    book: Mapped[LivingBook] = relationship()
    reader: Mapped[Reader | None] = relationship()


class LivingBookWait(Base):
    """A reader waiting for a slot of a fully booked living book (first come, first served)."""

    __tablename__ = "living_book_waits"
    __table_args__ = (UniqueConstraint("book_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("living_books.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LivingBookFeedback(Base):
    """A 1–5 rating of a conversation, by its reader or by the living book."""

    __tablename__ = "living_book_feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        UniqueConstraint("slot_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("living_book_slots.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
