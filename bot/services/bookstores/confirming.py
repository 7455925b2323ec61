"""Bookstore staff confirm a voucher with the price: the library pays (never beyond its
budget), the book joins its catalogue and is lent to the reader at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db import insert_new, write
from bot.models import (
    AuditLog,
    Bookstore,
    BookstoreStaff,
    CatalogueChange,
    ChooseBudget,
    ChooseRules,
    Item,
    ItemStatus,
    Reader,
    Voucher,
    VoucherStatus,
    Work,
    WorkIsbn,
)
from bot.services import audit
from bot.services.bookstores import notices
from bot.services.bookstores.money import clean_code, parse_price
from bot.services.bookstores.refusals import (
    NotStaffError,
    OtherStoreError,
    OverBudgetError,
    OverPriceCapError,
    TooManyGuessesError,
    UnknownVoucherError,
    VoucherExpiredError,
    VoucherUsedError,
)

GUESS_WINDOW = timedelta(minutes=10)
GUESSES_ALLOWED = 5
BAD_CODE_ACTION = "voucher.bad_code"
MAX_TITLE = 300


@dataclass(frozen=True)
class Confirmation:
    """A confirmed voucher: the new copy, lent until ``due_at``, and the budget left."""

    voucher: Voucher
    work: Work
    item: Item
    reader: Reader
    budget_left: int


async def staff_stores(session: AsyncSession, reader: Reader) -> list[Bookstore]:
    """The bookstores this person confirms vouchers for."""
    rows = await session.scalars(
        select(Bookstore)
        .join(BookstoreStaff, BookstoreStaff.bookstore_id == Bookstore.id)
        .where(BookstoreStaff.reader_id == reader.id)
        .order_by(Bookstore.code)
    )
    return list(rows)


async def _recent_guesses(session: AsyncSession, reader: Reader, now: datetime) -> int:
    count = await session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.actor_id == reader.id,
            AuditLog.action == BAD_CODE_ACTION,
            AuditLog.created_at > now - GUESS_WINDOW,
        )
    )
    return int(count or 0)


async def _bad_code(
    session: AsyncSession, reader: Reader, now: datetime, code: str, other_store: str | None = None
) -> None:
    """Record a code that named no voucher of the store (it counts towards the rate limit)."""
    async with write(session):
        entry = audit.record(session, reader, BAD_CODE_ACTION, code=code, other_store=other_store)
        entry.created_at = now


async def find_voucher(
    session: AsyncSession, reader: Reader, code_text: str, *, now: datetime
) -> Voucher:
    """The store's voucher by its code, checked: refuses other stores', used and expired ones.

    Unknown codes and other stores' codes count as guesses: after GUESSES_ALLOWED within
    GUESS_WINDOW the staff member must wait.
    """
    stores = {store.id for store in await staff_stores(session, reader)}
    if not stores:
        raise NotStaffError("bookstore")
    if await _recent_guesses(session, reader, now) >= GUESSES_ALLOWED:
        raise TooManyGuessesError(int(GUESS_WINDOW.total_seconds() // 60))
    code = clean_code(code_text)
    voucher = None
    if code is not None:
        voucher = await session.scalar(
            select(Voucher)
            .where(Voucher.code == code)
            .options(selectinload(Voucher.bookstore), selectinload(Voucher.library))
        )
    if voucher is None:
        await _bad_code(session, reader, now, code=code_text.strip()[:20])
        raise UnknownVoucherError(code_text[:20])
    if voucher.bookstore_id not in stores:
        await _bad_code(session, reader, now, code=voucher.code, other_store=voucher.bookstore.code)
        raise OtherStoreError(voucher.bookstore.name, voucher.bookstore.name_en)
    if voucher.status is VoucherStatus.CONFIRMED:
        raise VoucherUsedError(voucher.confirmed_at)
    if voucher.valid_until <= now:
        raise VoucherExpiredError(voucher.valid_until)
    return voucher


async def _ensure_budget_row(session: AsyncSession, library_id: int, month: str) -> None:
    values = {"library_id": library_id, "month": month, "spent": 0}
    await session.execute(insert_new(session, ChooseBudget).values(values))


async def _pay(session: AsyncSession, rules: ChooseRules, month: str, price: int) -> int:
    """Raise the month's spending by the price unless that passes the budget; what is left."""
    await _ensure_budget_row(session, rules.library_id, month)
    paid = await session.execute(
        update(ChooseBudget)
        .where(
            ChooseBudget.library_id == rules.library_id,
            ChooseBudget.month == month,
            ChooseBudget.spent + price <= rules.monthly_budget,
        )
        .values(spent=ChooseBudget.spent + price)
        .returning(ChooseBudget.spent)
    )
    spent = paid.scalar()
    if spent is None:
        current = await session.scalar(
            select(ChooseBudget.spent).where(
                ChooseBudget.library_id == rules.library_id, ChooseBudget.month == month
            )
        )
        raise OverBudgetError(max(0, rules.monthly_budget - int(current or 0)))
    return rules.monthly_budget - int(spent)


async def _work_for(session: AsyncSession, isbn: str, title: str | None) -> Work:
    """The work with the ISBN, or a new one made from the ISBN (and the title, if given)."""
    work = await session.scalar(
        select(Work).join(WorkIsbn, WorkIsbn.work_id == Work.id).where(WorkIsbn.isbn == isbn)
    )
    if work is not None:
        return work
    work = Work(
        title=(title or f"ISBN {isbn}")[:MAX_TITLE],
        work_key=f"isbn {isbn}",
        isbns=[WorkIsbn(isbn=isbn, position=0)],
    )
    try:
        async with session.begin_nested():
            session.add(work)
    except IntegrityError:
        # Another confirmation added the same ISBN a moment ago: use its work.
        found = await session.scalar(
            select(Work).join(WorkIsbn, WorkIsbn.work_id == Work.id).where(WorkIsbn.isbn == isbn)
        )
        assert found is not None
        return found
    return work


async def confirm(
    session: AsyncSession,
    staff: Reader,
    code_text: str,
    price_text: str,
    *,
    title: str | None = None,
    now: datetime,
) -> Confirmation:
    """Confirm a voucher at this price: pay, catalogue the copy and lend it. One unit of work."""
    if not await staff_stores(session, staff):
        raise NotStaffError("bookstore")
    price = parse_price(price_text)
    voucher = await find_voucher(session, staff, code_text, now=now)
    async with write(session):
        rules = await session.get(ChooseRules, voucher.library_id)
        if rules is None or price > rules.price_cap:
            raise OverPriceCapError(rules.price_cap if rules else 0)
        taken = await session.execute(
            update(Voucher)
            .where(
                Voucher.id == voucher.id,
                Voucher.status == VoucherStatus.ISSUED,
                Voucher.valid_until > now,
            )
            .values(
                status=VoucherStatus.CONFIRMED,
                price=price,
                confirmed_at=now,
                confirmed_by_id=staff.id,
            )
            .returning(Voucher.id)
        )
        if taken.scalar() is None:
            raise VoucherUsedError(None)
        left = await _pay(session, rules, voucher.month, price)
        work = await _work_for(session, voucher.isbn, title)
        due_at = now + timedelta(days=rules.loan_days)
        store = voucher.bookstore
        item = Item(
            work_id=work.id,
            library_id=voucher.library_id,
            barcode=f"V-{store.code}-{voucher.code}"[:64],
            call_number=None,
            status=ItemStatus.ON_LOAN,
            due_at=due_at,
        )
        session.add(item)
        await session.flush()
        await session.execute(
            update(Voucher).where(Voucher.id == voucher.id).values(item_id=item.id, due_at=due_at)
        )
        session.add(CatalogueChange(work_ids=[work.id]))
        reader = await session.get(Reader, voucher.reader_id)
        assert reader is not None
        audit.record(
            session,
            staff,
            "voucher.confirm",
            target_type="voucher",
            target_id=voucher.id,
            code=voucher.code,
            price=price,
            isbn=voucher.isbn,
            store=store.code,
            store_name=store.name,
            store_address=store.address,
            item_id=item.id,
            barcode=item.barcode,
        )
        await notices.loan_started(session, reader, voucher, work, store, due_at, now=now)
    await session.refresh(voucher)
    return Confirmation(voucher, work, item, reader, left)
