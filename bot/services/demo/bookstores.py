"""The demo's partner bookstore and a month of interlibrary lending to show in /lending."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Bookstore,
    BookstoreStaff,
    ChooseRules,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Library,
    Reader,
)
from bot.services.demo.accounts import DEMO_ACCOUNTS
from bot.services.demo.activity import ACTIVITY_TELEGRAM_BASE
from bot.services.demo.data import CENTRAL_LIBRARY

DEMO_STORE = "HB-BOOKS"
ADMIN_TELEGRAM_ID = next(a.telegram_id for a in DEMO_ACCOUNTS if a.username == "demo_admin")
# (lender, borrower, copies sent and collected), over the last four weeks.
DEMO_LOANS = (
    ("HBU", "HBPL", 4),
    ("HBPL", "HBPL-XS", 3),
    ("HBPL", "NLPL", 2),
    ("HOU", "HBPL-DH", 2),
    ("HBPL-DH", "HBU", 1),
    ("HNC", "TYPL", 2),
)


async def _store(session: AsyncSession, central: Library) -> Bookstore:
    store = Bookstore(
        code=DEMO_STORE,
        name="海滨书城",
        name_en="Haibin Book City",
        address="港口区海滨路100号",
        address_en="100 Haibin Road, Gangkou District",
        latitude=37.5552,
        longitude=121.3951,
        library_id=central.id,
    )
    session.add(store)
    session.add(
        ChooseRules(
            library_id=central.id,
            price_cap=8000,
            reader_quota=2,
            monthly_budget=500_000,
            max_copies=3,
            loan_days=30,
        )
    )
    await session.flush()
    admin = await session.scalar(select(Reader).where(Reader.telegram_id == ADMIN_TELEGRAM_ID))
    if admin is not None:
        session.add(BookstoreStaff(reader_id=admin.id, bookstore_id=store.id))
    return store


async def _loans(
    session: AsyncSession, libraries: Mapping[str, Library], today: date, zone: ZoneInfo
) -> int:
    """Holds filled by another member's copy, collected by the readers."""
    readers = list(
        await session.scalars(
            select(Reader.id)
            .where(Reader.telegram_id > ACTIVITY_TELEGRAM_BASE)
            .order_by(Reader.telegram_id)
        )
    )
    if not readers:
        return 0
    made = 0
    for lender_code, borrower_code, copies in DEMO_LOANS:
        lender, borrower = libraries.get(lender_code), libraries.get(borrower_code)
        if lender is None or borrower is None:
            continue
        items = list(
            await session.scalars(
                select(Item)
                .where(Item.library_id == lender.id, Item.status == ItemStatus.AVAILABLE)
                .order_by(Item.id.desc())
                .limit(copies)
            )
        )
        for number, item in enumerate(items):
            sent = datetime.combine(today - timedelta(days=3 + 4 * number), time(10), zone)
            item.status = ItemStatus.ON_LOAN
            item.due_at = sent + timedelta(days=30)
            session.add(
                Hold(
                    reader_id=readers[made % len(readers)],
                    work_id=item.work_id,
                    pickup_library_id=borrower.id,
                    item_id=item.id,
                    status=HoldStatus.COLLECTED,
                    queued_at=sent - timedelta(hours=2),
                    in_transit_at=sent,
                    ready_at=sent + timedelta(days=1),
                    collected_at=sent + timedelta(days=2),
                    closed_at=sent + timedelta(days=2),
                )
            )
            made += 1
    return made


async def seed_bookstores(
    session: AsyncSession, libraries: Mapping[str, Library], *, today: date, zone: ZoneInfo
) -> int:
    """The partner bookstore, its rules and staff, and the lending; idempotent (returns the
    interlibrary loans made: none on a second run)."""
    central = libraries.get(CENTRAL_LIBRARY)
    exists = await session.scalar(select(func.count(Bookstore.id)))
    if central is None or exists:
        return 0
    await _store(session, central)
    return await _loans(session, libraries, today, zone)
