"""The interlibrary lending balance: which member lent copies to which member's readers.

A loan is a hold filled by a copy of another library (the copy's library lends, the pickup
library borrows), counted when the copy set off: in transit, ready or collected. Holds that
let their copy go (cancelled, expired) gave it back and do not count.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import Hold, HoldStatus, Item, Library
from bot.services.bookstores.money import yuan
from bot.services.statistics import Period

FILLED = (HoldStatus.IN_TRANSIT, HoldStatus.READY, HoldStatus.COLLECTED)


@dataclass(frozen=True)
class LendingPair:
    """Copies one member lent to another member's readers in the period."""

    lender: Library
    borrower: Library
    loans: int


@dataclass(frozen=True)
class MemberBalance:
    """One member's loans to others and from others; net > 0 means it lent more."""

    library: Library
    lent: int
    borrowed: int

    @property
    def net(self) -> int:
        """Lent minus borrowed."""
        return self.lent - self.borrowed

    def amount(self, rate: int | None) -> int | None:
        """What the member receives (positive) or pays (negative) at a per-loan rate in fen."""
        return None if rate is None else self.net * rate


@dataclass(frozen=True)
class LendingBalance:
    """Who lent to whom in a period, per pair and net per member (busiest first)."""

    period: Period
    pairs: list[LendingPair]
    members: list[MemberBalance]
    rate: int | None = None

    @property
    def loans(self) -> int:
        """Every interlibrary loan in the period."""
        return sum(pair.loans for pair in self.pairs)


async def lending_balance(
    session: AsyncSession, period: Period, *, rate: int | None = None
) -> LendingBalance:
    """Count holds filled by another library's copy whose copy set off within the period."""
    pickup = aliased(Library)
    started = func.coalesce(Hold.in_transit_at, Hold.ready_at, Hold.collected_at)
    rows = (
        await session.execute(
            select(Item.library_id, Hold.pickup_library_id, func.count(Hold.id))
            .join(Item, Item.id == Hold.item_id)
            .join(pickup, pickup.id == Hold.pickup_library_id)
            .where(
                Item.library_id != Hold.pickup_library_id,
                Hold.status.in_(FILLED),
                started >= period.start,
                started < period.end,
            )
            .group_by(Item.library_id, Hold.pickup_library_id)
        )
    ).all()
    ids = {row[0] for row in rows} | {row[1] for row in rows}
    libraries = {
        library.id: library
        for library in await session.scalars(select(Library).where(Library.id.in_(ids)))
    }
    pairs = sorted(
        (
            LendingPair(libraries[lender], libraries[borrower], int(n))
            for lender, borrower, n in rows
        ),
        key=lambda pair: (-pair.loans, pair.lender.code, pair.borrower.code),
    )
    lent: dict[int, int] = defaultdict(int)
    borrowed: dict[int, int] = defaultdict(int)
    for pair in pairs:
        lent[pair.lender.id] += pair.loans
        borrowed[pair.borrower.id] += pair.loans
    members = sorted(
        (
            MemberBalance(library, lent[library.id], borrowed[library.id])
            for library in libraries.values()
        ),
        key=lambda member: (-member.net, member.library.code),
    )
    return LendingBalance(period, pairs, members, rate)


def lending_csv(balance: LendingBalance) -> str:
    """Pairs, then members: ``row,library,other_library,loans,lent,borrowed,net,amount``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["row", "library", "other_library", "loans", "lent", "borrowed", "net", "amount"]
    )
    rate = balance.rate
    for pair in balance.pairs:
        owed = "" if rate is None else yuan(pair.loans * rate)
        writer.writerow(
            ["pair", pair.lender.code, pair.borrower.code, pair.loans, "", "", "", owed]
        )
    for member in balance.members:
        amount = member.amount(rate)
        writer.writerow(
            [
                "member",
                member.library.code,
                "",
                "",
                member.lent,
                member.borrowed,
                member.net,
                "" if amount is None else yuan(amount),
            ]
        )
    return buffer.getvalue()
