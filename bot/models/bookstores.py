"""Partner bookstores: "you choose, we pay" vouchers, the paying library's rules, settlements."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, Timestamps, display_name, stored_enum, utcnow

if TYPE_CHECKING:
    from bot.models.members import Library


class VoucherStatus(enum.StrEnum):
    ISSUED = "issued"
    CONFIRMED = "confirmed"


class Bookstore(Timestamps, Base):
    """A partner bookstore where readers choose books that a member library pays for."""

    __tablename__ = "bookstores"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    address_en: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # The member library that pays for what readers choose here (its rules apply).
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    library: Mapped[Library] = relationship()

    def display_name(self, language: str) -> str:
        """The store's name in the language: the English one when there is one."""
        return display_name(self.name, self.name_en, language)


class BookstoreStaff(Base):
    """The bookstore role: a reader who confirms vouchers for one store."""

    __tablename__ = "bookstore_staff"
    __table_args__ = (UniqueConstraint("reader_id", "bookstore_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    bookstore_id: Mapped[int] = mapped_column(
        ForeignKey("bookstores.id", ondelete="CASCADE"), index=True
    )
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    bookstore: Mapped[Bookstore] = relationship()


class ChooseRules(Base):
    """What a paying library allows: price cap, quotas, budget, copies already held. Prices
    are in fen (hundredths of a yuan)."""

    __tablename__ = "choose_rules"
    __table_args__ = (
        CheckConstraint("price_cap >= 0", name="price_cap_non_negative"),
        CheckConstraint("reader_quota >= 0", name="reader_quota_non_negative"),
        CheckConstraint("monthly_budget >= 0", name="monthly_budget_non_negative"),
        CheckConstraint("max_copies >= 0", name="max_copies_non_negative"),
        CheckConstraint("loan_days BETWEEN 1 AND 365", name="loan_days_range"),
    )

    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), primary_key=True
    )
    price_cap: Mapped[int] = mapped_column(Integer)
    reader_quota: Mapped[int] = mapped_column(Integer)
    monthly_budget: Mapped[int] = mapped_column(Integer)
    max_copies: Mapped[int] = mapped_column(Integer)
    loan_days: Mapped[int] = mapped_column(Integer, default=30)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("readers.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChooseBudget(Base):
    """What a library has spent on vouchers in one month (raised by a conditional UPDATE)."""

    __tablename__ = "choose_budgets"
    __table_args__ = (
        UniqueConstraint("library_id", "month"),
        CheckConstraint("spent >= 0", name="spent_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    spent: Mapped[int] = mapped_column(Integer, default=0)


class Voucher(Base):
    """A one-time voucher: the reader may take this book; the store is paid on confirmation."""

    __tablename__ = "vouchers"
    __table_args__ = (
        Index("ix_vouchers_reader_id_month", "reader_id", "month"),
        Index("ix_vouchers_library_id_month", "library_id", "month"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id", ondelete="CASCADE"))
    bookstore_id: Mapped[int] = mapped_column(ForeignKey("bookstores.id"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    isbn: Mapped[str] = mapped_column(String(13))
    status: Mapped[VoucherStatus] = mapped_column(
        stored_enum(VoucherStatus, "voucher_status"), default=VoucherStatus.ISSUED
    )
    # The alliance-local month of issue ("2026-12"): quotas and budgets count per month.
    month: Mapped[str] = mapped_column(String(7))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime]
    price: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL")
    )
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None]

    bookstore: Mapped[Bookstore] = relationship()
    library: Mapped[Library] = relationship()


class Settlement(Base):
    """A month's statement for one bookstore and paying library, once admins approved it."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("bookstore_id", "library_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bookstore_id: Mapped[int] = mapped_column(ForeignKey("bookstores.id"))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    month: Mapped[str] = mapped_column(String(7))
    vouchers: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("readers.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
