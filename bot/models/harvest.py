"""Harvesting member catalogues over OAI-PMH: each library's source, and what it sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, Timestamps


class HarvestSource(Timestamps, Base):
    """A library's OAI-PMH repository and how far its catalogue has been harvested.

    ``harvested_from`` is the ``from`` of the next incremental harvest (at the repository's
    granularity); ``resume_token`` and ``pending_from`` carry a harvest that stopped part way
    to the next run; ``claimed_until`` is the lease of the harvest running now, if any. The
    counts are those of the last harvest that ran.
    """

    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(String(500))
    metadata_prefix: Mapped[str] = mapped_column(String(32))
    set_spec: Mapped[str | None] = mapped_column(String(200))
    granularity: Mapped[str | None] = mapped_column(String(32))
    harvested_from: Mapped[str | None] = mapped_column(String(32))
    pending_from: Mapped[str | None] = mapped_column(String(32))
    resume_token: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    records_harvested: Mapped[int] = mapped_column(Integer, default=0)
    records_deleted: Mapped[int] = mapped_column(Integer, default=0)
    records_skipped: Mapped[int] = mapped_column(Integer, default=0)
    last_error_kind: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]


class HarvestRecord(Base):
    """One OAI record a source sent: its datestamp and the copies it brought."""

    __tablename__ = "harvest_records"
    __table_args__ = (UniqueConstraint("source_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(500))
    datestamp: Mapped[str] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(default=False)
    barcodes: Mapped[list[str]] = mapped_column(JSON, default=list)
