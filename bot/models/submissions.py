"""Essay, poetry and photo contests: entries before a deadline, judged anonymously 1–10."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, stored_enum

if TYPE_CHECKING:
    from bot.models.readers import Reader


class ContestKind(enum.StrEnum):
    """What a contest takes: essays and poems as text or a document, photos as photos."""

    ESSAY = "essay"
    POETRY = "poetry"
    PHOTO = "photo"


class SubmissionContest(Timestamps, Base):
    """A 征文 / 诗词 / photo contest: what it takes, until when, judged by a panel."""

    __tablename__ = "submission_contests"
    __table_args__ = (CheckConstraint("entries_per_reader >= 1", name="entries_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ContestKind] = mapped_column(stored_enum(ContestKind, "contest_kind"))
    organiser_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL"), index=True
    )
    deadline: Mapped[datetime]
    entries_per_reader: Mapped[int] = mapped_column(Integer, default=1)
    results_published: Mapped[bool] = mapped_column(Boolean, default=False)


class ContestJudge(Base):
    """A member of a contest's panel."""

    __tablename__ = "contest_judges"
    __table_args__ = (UniqueConstraint("contest_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("submission_contests.id", ondelete="CASCADE")
    )
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))


class ContestEntry(Base):
    """An entry: text, or a Telegram file (document or photo); judges never see its author."""

    __tablename__ = "contest_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("submission_contests.id", ondelete="CASCADE"), index=True
    )
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_kind: Mapped[str | None] = mapped_column(String(16))
    submitted_at: Mapped[datetime]
    # The author's answer when asked to be named among the winners (None: not asked).
    consent: Mapped[bool | None] = mapped_column(Boolean)

    reader: Mapped[Reader] = relationship()


class EntryScore(Base):
    """One judge's 1–10 score of one entry."""

    __tablename__ = "entry_scores"
    __table_args__ = (
        UniqueConstraint("entry_id", "judge_id"),
        CheckConstraint("score BETWEEN 1 AND 10", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("contest_entries.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime]
