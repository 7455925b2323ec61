"""Monthly settlement: per bookstore and paying library, the confirmed vouchers and their
total against the library's budget; admins approve a finished month's statement."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.models import (
    Bookstore,
    ChooseBudget,
    ChooseRules,
    Library,
    Reader,
    Settlement,
    Voucher,
    VoucherStatus,
)
from bot.services import audit
from bot.services.bookstores.money import month_of, yuan
from bot.services.errors import DomainError, InvalidInputError

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class BadMonthError(InvalidInputError):
    """Not a month written YYYY-MM, or one that has not begun."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class MonthNotOverError(DomainError):
    """A month is approved once it is over."""


class NothingToApproveError(DomainError):
    """No confirmed voucher of that store and library in the month."""


class AlreadyApprovedError(DomainError):
    """The statement was approved already."""


@dataclass(frozen=True)
class StatementLine:
    """One bookstore and paying library in a month."""

    store: Bookstore
    library: Library
    vouchers: list[Voucher]
    budget: int | None  # the library's monthly budget (fen), if it has rules
    spent: int  # everything the library paid in the month, at every store
    approval: Settlement | None

    @property
    def total(self) -> int:
        """What the library owes the store for the month, in fen."""
        return sum(voucher.price or 0 for voucher in self.vouchers)


@dataclass(frozen=True)
class MonthStatement:
    """Every store and library with confirmed vouchers in one month."""

    month: str
    over: bool
    lines: list[StatementLine]

    @property
    def total(self) -> int:
        """All the vouchers of the month, in fen."""
        return sum(line.total for line in self.lines)


def parse_month(text: str | None, *, now: datetime, zone: tzinfo) -> str:
    """``YYYY-MM`` (no text: this month); refuses months that have not begun."""
    cleaned = (text or "").strip()
    if not cleaned:
        return month_of(now, zone)
    match = _MONTH.fullmatch(cleaned)
    if match is None or not 1 <= int(match[2]) <= 12 or cleaned > month_of(now, zone):
        raise BadMonthError(cleaned[:20])
    return cleaned


async def statement(
    session: AsyncSession, month: str, *, now: datetime, zone: tzinfo
) -> MonthStatement:
    """The month's confirmed vouchers per store and library, with budgets and approvals."""
    vouchers = list(
        await session.scalars(
            select(Voucher)
            .where(Voucher.month == month, Voucher.status == VoucherStatus.CONFIRMED)
            .options(selectinload(Voucher.bookstore), selectinload(Voucher.library))
            .order_by(Voucher.confirmed_at, Voucher.id)
        )
    )
    grouped: dict[tuple[int, int], list[Voucher]] = {}
    for voucher in vouchers:
        grouped.setdefault((voucher.bookstore_id, voucher.library_id), []).append(voucher)
    lines = []
    for (store_id, library_id), group in sorted(
        grouped.items(), key=lambda kv: (kv[1][0].bookstore.code, kv[1][0].library.code)
    ):
        rules = await session.get(ChooseRules, library_id)
        spent = await session.scalar(
            select(ChooseBudget.spent).where(
                ChooseBudget.library_id == library_id, ChooseBudget.month == month
            )
        )
        approval = await session.scalar(
            select(Settlement).where(
                Settlement.bookstore_id == store_id,
                Settlement.library_id == library_id,
                Settlement.month == month,
            )
        )
        lines.append(
            StatementLine(
                group[0].bookstore,
                group[0].library,
                group,
                rules.monthly_budget if rules else None,
                int(spent or 0),
                approval,
            )
        )
    return MonthStatement(month, month < month_of(now, zone), lines)


def statement_csv(month_statement: MonthStatement) -> str:
    """One row per confirmed voucher, then one total row per store and library."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["month", "bookstore", "library", "voucher", "isbn", "price", "confirmed_at", "item_id"]
    )
    for line in month_statement.lines:
        for voucher in line.vouchers:
            confirmed = voucher.confirmed_at.isoformat() if voucher.confirmed_at else ""
            writer.writerow(
                [
                    month_statement.month,
                    line.store.code,
                    line.library.code,
                    voucher.code,
                    voucher.isbn,
                    yuan(voucher.price or 0),
                    confirmed,
                    voucher.item_id or "",
                ]
            )
        writer.writerow(
            [
                month_statement.month,
                line.store.code,
                line.library.code,
                f"total of {len(line.vouchers)}",
                "",
                yuan(line.total),
                "",
                "",
            ]
        )
    return buffer.getvalue()


async def record_statement(
    session: AsyncSession, actor: Reader, month_statement: MonthStatement
) -> None:
    """The audit log notes who drew the statement and what it said."""
    async with write(session):
        audit.record(
            session,
            actor,
            "settlement.statement",
            month=month_statement.month,
            lines=len(month_statement.lines),
            total=month_statement.total,
        )


async def approve(
    session: AsyncSession,
    actor: Reader,
    store_id: int,
    library_id: int,
    month: str,
    *,
    now: datetime,
    zone: tzinfo,
) -> Settlement:
    """Approve a finished month's statement for one store and library (once)."""
    if month >= month_of(now, zone):
        raise MonthNotOverError(month)
    current = await statement(session, month, now=now, zone=zone)
    line = next(
        (
            line
            for line in current.lines
            if line.store.id == store_id and line.library.id == library_id
        ),
        None,
    )
    if line is None:
        raise NothingToApproveError(month)
    if line.approval is not None:
        raise AlreadyApprovedError(month)
    row = Settlement(
        bookstore_id=store_id,
        library_id=library_id,
        month=month,
        vouchers=len(line.vouchers),
        total=line.total,
        approved_by_id=actor.id,
        approved_at=now,
    )
    try:
        async with write(session):
            session.add(row)
            await session.flush()
            audit.record(
                session,
                actor,
                "settlement.approve",
                target_type="settlement",
                target_id=row.id,
                month=month,
                store=line.store.code,
                library=line.library.code,
                vouchers=len(line.vouchers),
                total=line.total,
            )
    except IntegrityError:
        raise AlreadyApprovedError(month) from None
    return row
