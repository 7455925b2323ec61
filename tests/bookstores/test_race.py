"""Two confirmations at once never overspend the budget or use a voucher twice (SQLite, and
PostgreSQL with BOOKBRIDGE_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    BookstoreStaff,
    ChooseBudget,
    ChooseRules,
    Item,
    Reader,
    Voucher,
    VoucherStatus,
    utcnow,
)
from bot.services.bookstores import choosing, confirming
from bot.services.bookstores.confirming import Confirmation
from bot.services.errors import DomainError
from tests.factories import make_reader

from .conftest import NEW_BOOK, OTHER_NEW_BOOK, build_city

ZONE = ZoneInfo("Asia/Shanghai")


async def _setup(
    maker: async_sessionmaker[AsyncSession],
) -> tuple[Reader, list[str]]:
    async with maker() as session:
        city = await build_city(session)
        staff = await make_reader(session)
        session.add(BookstoreStaff(reader_id=staff.id, bookstore_id=city.store.id))
        readers = [await make_reader(session), await make_reader(session)]
        rules = await session.get(ChooseRules, city.city.id)
        assert rules is not None
        rules.price_cap = 15000
        await session.commit()
        codes = []
        now = utcnow()
        for reader, isbn in zip(readers, (NEW_BOOK, OTHER_NEW_BOOK), strict=True):
            answer = await choosing.choose(session, reader, city.store, isbn, now=now, zone=ZONE)
            assert answer.voucher is not None
            codes.append(answer.voucher.code)
        return staff, codes


async def _confirm(
    maker: async_sessionmaker[AsyncSession], staff: Reader, code: str, price: str
) -> Confirmation | DomainError:
    async with maker() as session:
        try:
            return await confirming.confirm(session, staff, code, price, now=utcnow())
        except DomainError as exc:
            return exc


async def test_two_vouchers_at_once_cannot_overspend(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff, codes = await _setup(sessionmaker)
    # The budget is ¥200: one book at ¥120 fits, two do not.
    results = await asyncio.gather(*(_confirm(sessionmaker, staff, code, "120") for code in codes))
    done = [r for r in results if isinstance(r, Confirmation)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(done) == 1 and len(refused) == 1
    assert isinstance(refused[0], confirming.OverBudgetError) and refused[0].left == 8000
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ChooseBudget.spent))) == [12000]
        statuses = sorted(v.status for v in await session.scalars(select(Voucher)))
        assert statuses == [VoucherStatus.CONFIRMED, VoucherStatus.ISSUED]
        assert (
            await session.scalar(select(func.count(Item.id)).where(Item.barcode.like("V-%"))) == 1
        )


async def test_one_voucher_confirmed_twice_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    staff, codes = await _setup(sessionmaker)
    results = await asyncio.gather(
        *(_confirm(sessionmaker, staff, codes[0], "30") for _ in range(2))
    )
    assert sum(isinstance(r, Confirmation) for r in results) == 1
    assert sum(isinstance(r, confirming.VoucherUsedError) for r in results) == 1
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ChooseBudget.spent))) == [3000]
        assert (
            await session.scalar(select(func.count(Item.id)).where(Item.barcode.like("V-%"))) == 1
        )
        assert (await session.scalar(select(Voucher.price).where(Voucher.code == codes[0]))) == 3000
        assert utcnow() - timedelta(minutes=5) < (
            await session.scalar(select(Voucher.confirmed_at).where(Voucher.code == codes[0]))
            or utcnow() - timedelta(days=1)
        )
