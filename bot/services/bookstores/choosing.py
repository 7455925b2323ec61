"""A reader in a partner bookstore chooses a book: the paying library's rules say yes (a
one-time voucher for the day) or no (why, and where the nearest copy is)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import write
from bot.geo import haversine_km
from bot.models import (
    Bookstore,
    ChooseBudget,
    ChooseRules,
    Item,
    ItemStatus,
    Library,
    Reader,
    Voucher,
    VoucherStatus,
    Work,
    WorkIsbn,
)
from bot.services.bookstores.money import end_of_day, month_of, new_code
from bot.services.bookstores.refusals import NotABookError, Refusal, UnknownStoreError
from bot.services.holds.access import lock_reader
from search.isbn import isbn13

MAX_CODE_TRIES = 5


@dataclass(frozen=True)
class NearestCopy:
    """The alliance copy of the work nearest to the store."""

    library: Library
    distance_km: float
    on_shelf: bool


@dataclass(frozen=True)
class ChooseAnswer:
    """Yes (``voucher``) or no (``refusal``), with what the reader is told around it."""

    store: Bookstore
    isbn: str
    work: Work | None
    copies: int
    nearest: NearestCopy | None
    rules: ChooseRules | None
    voucher: Voucher | None = None
    refusal: Refusal | None = None
    used: int = 0  # vouchers the reader has this month (with this one)


async def active_stores(session: AsyncSession) -> list[Bookstore]:
    """The partner bookstores taking part, by code."""
    rows = await session.scalars(
        select(Bookstore)
        .where(Bookstore.active.is_(True))
        .options(selectinload(Bookstore.library))
        .order_by(Bookstore.code)
    )
    return list(rows)


async def store_by_code(session: AsyncSession, code: str) -> Bookstore:
    """An active bookstore by its code (case-insensitive)."""
    store = await session.scalar(
        select(Bookstore)
        .where(func.lower(Bookstore.code) == code.strip().lower()[:32], Bookstore.active.is_(True))
        .options(selectinload(Bookstore.library))
    )
    if store is None:
        raise UnknownStoreError(code[:32])
    return store


async def store_by_id(session: AsyncSession, store_id: int) -> Bookstore:
    """An active bookstore by id."""
    store = await session.scalar(
        select(Bookstore)
        .where(Bookstore.id == store_id, Bookstore.active.is_(True))
        .options(selectinload(Bookstore.library))
    )
    if store is None:
        raise UnknownStoreError(str(store_id))
    return store


def book_isbn(text: str) -> str:
    """The ISBN-13 of a typed ISBN, or NotABookError (an EAN of something else, a typo)."""
    isbn = isbn13(text.strip()[:40])
    if isbn is None or isbn.startswith("9790"):  # 979-0 is music (ISMN), not a book
        raise NotABookError(text.strip()[:40])
    return isbn


async def _work(session: AsyncSession, isbn: str) -> Work | None:
    return await session.scalar(
        select(Work).join(WorkIsbn, WorkIsbn.work_id == Work.id).where(WorkIsbn.isbn == isbn)
    )


async def _copies(session: AsyncSession, work: Work | None) -> list[tuple[Library, ItemStatus]]:
    if work is None:
        return []
    rows = await session.execute(
        select(Library, Item.status)
        .join(Item, Item.library_id == Library.id)
        .where(Item.work_id == work.id, Item.status != ItemStatus.MISSING)
    )
    return [(library, status) for library, status in rows.all()]


def _nearest(store: Bookstore, copies: list[tuple[Library, ItemStatus]]) -> NearestCopy | None:
    """The nearest copy on a shelf, else the nearest copy at all."""
    best: NearestCopy | None = None
    for library, status in copies:
        distance = haversine_km(
            store.latitude, store.longitude, library.latitude, library.longitude
        )
        candidate = NearestCopy(library, distance, status is ItemStatus.AVAILABLE)
        if best is None or (candidate.on_shelf, -candidate.distance_km) > (
            best.on_shelf,
            -best.distance_km,
        ):
            best = candidate
    return best


async def in_good_standing(session: AsyncSession, reader: Reader, now: datetime) -> bool:
    """An onboarded, not forgotten reader with no overdue book bought on a voucher."""
    if reader.onboarded_at is None or reader.forgotten_at is not None:
        return False
    overdue = await session.scalar(
        select(func.count(Voucher.id))
        .join(Item, Item.id == Voucher.item_id)
        .where(
            Voucher.reader_id == reader.id,
            Item.status == ItemStatus.ON_LOAN,
            Voucher.due_at < now,
        )
    )
    return not overdue


def _counting(now: datetime) -> ColumnElement[bool]:
    """Vouchers that count against a quota: confirmed, or issued and still valid."""
    return or_(Voucher.status == VoucherStatus.CONFIRMED, Voucher.valid_until > now)


async def used_this_month(session: AsyncSession, reader_id: int, month: str, now: datetime) -> int:
    """The reader's vouchers this month that count against the quota."""
    count = await session.scalar(
        select(func.count(Voucher.id)).where(
            Voucher.reader_id == reader_id, Voucher.month == month, _counting(now)
        )
    )
    return int(count or 0)


async def spent_this_month(session: AsyncSession, library_id: int, month: str) -> int:
    """What the library has paid for vouchers this month, in fen."""
    spent = await session.scalar(
        select(ChooseBudget.spent).where(
            ChooseBudget.library_id == library_id, ChooseBudget.month == month
        )
    )
    return int(spent or 0)


async def _open_voucher(
    session: AsyncSession, reader: Reader, store: Bookstore, isbn: str, now: datetime
) -> Voucher | None:
    """The reader's still valid voucher for this book at this store (asked twice: same one)."""
    return await session.scalar(
        select(Voucher).where(
            Voucher.reader_id == reader.id,
            Voucher.bookstore_id == store.id,
            Voucher.isbn == isbn,
            Voucher.status == VoucherStatus.ISSUED,
            Voucher.valid_until > now,
        )
    )


async def _refusal(
    session: AsyncSession,
    reader: Reader,
    rules: ChooseRules,
    copies: int,
    month: str,
    now: datetime,
) -> Refusal | None:
    if not await in_good_standing(session, reader, now):
        return Refusal.CARD
    if copies >= rules.max_copies:
        return Refusal.ENOUGH_COPIES
    if await used_this_month(session, reader.id, month, now) >= rules.reader_quota:
        return Refusal.QUOTA
    if await spent_this_month(session, rules.library_id, month) >= rules.monthly_budget:
        return Refusal.BUDGET
    return None


async def _unused_code(session: AsyncSession) -> str:
    for _ in range(MAX_CODE_TRIES):
        code = new_code()
        if await session.scalar(select(Voucher.id).where(Voucher.code == code)) is None:
            return code
    raise RuntimeError("no free voucher code")  # pragma: no cover - 10¹² codes


async def choose(
    session: AsyncSession,
    reader: Reader,
    store: Bookstore,
    isbn: str,
    *,
    now: datetime,
    zone: tzinfo,
) -> ChooseAnswer:
    """Check the paying library's rules for this book; issue a voucher when they allow it."""
    month = month_of(now, zone)
    async with write(session):
        await lock_reader(session, reader.id)  # the quota is counted, then a voucher added
        work = await _work(session, isbn)
        copies = await _copies(session, work)
        rules = await session.get(ChooseRules, store.library_id)
        answer = ChooseAnswer(store, isbn, work, len(copies), _nearest(store, copies), rules)
        if rules is None:
            return replace(answer, refusal=Refusal.NO_SCHEME)
        existing = await _open_voucher(session, reader, store, isbn, now)
        if existing is not None:
            used = await used_this_month(session, reader.id, month, now)
            return replace(answer, voucher=existing, used=used)
        refusal = await _refusal(session, reader, rules, len(copies), month, now)
        if refusal is not None:
            return replace(answer, refusal=refusal)
        voucher = Voucher(
            code=await _unused_code(session),
            reader_id=reader.id,
            bookstore_id=store.id,
            library_id=store.library_id,
            isbn=isbn,
            month=month,
            issued_at=now,
            valid_until=end_of_day(now, zone),
        )
        session.add(voucher)
        await session.flush()
        used = await used_this_month(session, reader.id, month, now)
        return replace(answer, voucher=voucher, used=used)
