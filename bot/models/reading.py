"""Reading life: what readers read, their reading preferences, lists and challenges."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, utcnow
from bot.models.holds import Hold

if TYPE_CHECKING:
    from bot.models.catalogue import Work

# "Readers who reserved this also reserved…" and the recommendations join holds on the
# reader: this index keeps that join on the index instead of the table.
Index("ix_holds_reader_id_work_id", Hold.reader_id, Hold.work_id)


class ReadingLog(Base):
    """A reader marked a work read, with an optional 1-5 rating and a short note."""

    __tablename__ = "reading_log"
    __table_args__ = (
        # Marking a work read again updates the entry: one per reader and work.
        UniqueConstraint("reader_id", "work_id"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_reading_log_read_at", "read_at"),
        Index("ix_reading_log_work_id_read_at", "work_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    # The library the copy came from, when it was marked from a collected hold.
    library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    work: Mapped[Work] = relationship()


class ReadingPreference(Base):
    """A reader's reading-life choices; no row means the defaults."""

    __tablename__ = "reading_preferences"

    reader_id: Mapped[int] = mapped_column(
        ForeignKey("readers.id", ondelete="CASCADE"), primary_key=True
    )
    # Personal recommendations (/foryou, the digest's pick) are on unless turned off.
    recommendations: Mapped[bool] = mapped_column(Boolean, default=True)
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_sent_at: Mapped[datetime | None]
    # The college or department (a partner of their school or university) the reader chose
    # in /settings: their team in department challenges.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlsoReservedPair(Base):
    """How many readers reserved both works (only pairs of at least five readers are kept).

    Kept by the reading job (and refreshed for a reader's works when they are forgotten), so
    the work card reads its "readers who reserved this also reserved" block with one lookup.
    """

    __tablename__ = "also_reserved"
    __table_args__ = (Index("ix_also_reserved_work_id_readers", "work_id", "readers"),)

    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    other_work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    readers: Mapped[int] = mapped_column(Integer)


class ReadingList(Base):
    """A reading list (书单) built by a librarian or organiser, in Chinese and English."""

    __tablename__ = "reading_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReadingListEntry(Base):
    """One book on a list, at a position, with an optional short note."""

    __tablename__ = "reading_list_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "work_id"),
        Index("ix_reading_list_entries_list_id_position", "list_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("reading_lists.id", ondelete="CASCADE"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200))


class ListFollow(Base):
    """A reader follows a reading list."""

    __tablename__ = "list_follows"
    __table_args__ = (UniqueConstraint("list_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("reading_lists.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadingListLink(Base):
    """A published reading list linked to an event or to a campaign (one list for each).

    Unpublishing the list takes its links away; deleting it, the event or the campaign
    deletes them with it.
    """

    __tablename__ = "reading_list_links"
    __table_args__ = (
        CheckConstraint("(event_id IS NULL) <> (campaign_id IS NULL)", name="one_target"),
        UniqueConstraint("event_id"),
        UniqueConstraint("campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("reading_lists.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchedWork(Base):
    """A reader reached a work from search results (opened its card from them), once a day.

    What "most searched-for" counts: the works searches led readers to, not the words typed.
    """

    __tablename__ = "searched_works"
    __table_args__ = (Index("ix_searched_works_day_work_id", "day", "work_id"),)

    reader_id: Mapped[int] = mapped_column(
        ForeignKey("readers.id", ondelete="CASCADE"), primary_key=True
    )
    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class Challenge(Base):
    """A reading challenge set by an organiser: read ``goal`` books between two moments."""

    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint("goal BETWEEN 1 AND 1000", name="goal_range"),
        CheckConstraint("ends_at > starts_at", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    goal: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # "none": everyone alone; "district", "school" (their school or university) or
    # "department" (their college or department): each participant's team, fixed when they
    # join (``ChallengeEntry.team_id``); the leaderboard shows counts only.
    team_kind: Mapped[str] = mapped_column(String(12), default="none", server_default="none")
    # "books": any ``goal`` books; "list": every book on ``list_id``; "clc": ``goal`` books
    # whose work has a CLC number in top class ``clc_class`` (A-Z).
    kind: Mapped[str] = mapped_column(String(8), default="books", server_default="books")
    list_id: Mapped[int | None] = mapped_column(ForeignKey("reading_lists.id", ondelete="SET NULL"))
    clc_class: Mapped[str | None] = mapped_column(String(1))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChallengeEntry(Base):
    """A reader taking part in a challenge, and when they completed it."""

    __tablename__ = "challenge_entries"
    __table_args__ = (UniqueConstraint("challenge_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # The participant's team when they joined, by the challenge's ``team_kind``: a district,
    # a library (their school or university) or a partner (their college or department).
    # None: they take part alone.
    team_id: Mapped[int | None] = mapped_column(Integer)


class ChallengeBook(Base):
    """A book of a "finish this list" challenge: the list's books frozen when it was set,
    so editing the list later changes neither the target nor what counts."""

    __tablename__ = "challenge_books"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ReaderBadge(Base):
    """A badge a reader earned (each at most once), in the transaction of the read that
    earned it."""

    __tablename__ = "reader_badges"
    __table_args__ = (UniqueConstraint("reader_id", "badge"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    badge: Mapped[str] = mapped_column(String(24))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
