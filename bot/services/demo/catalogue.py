"""The demo catalogue in the database: works with their ISBNs, and copies on the shelves."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue.records import BibRecord
from bot.models import Item, ItemStatus, Library, Work, WorkIsbn
from bot.services.demo.data import demo_records
from bot.services.demo.holdings import HOLDINGS_SEED, demo_call_number, demo_holdings
from bot.services.demo.summary import DemoSummary

ON_LOAN_SHARE = 0.15


def _due_at(rng: random.Random, today: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(today + timedelta(days=rng.randint(1, 28)), time(21, 0), zone)


def _work(record: BibRecord) -> Work:
    return Work(
        title=record.title,
        original_title=record.original_title,
        authors=list(record.authors),
        original_authors=list(record.original_authors),
        subjects=list(record.subjects),
        language=record.language,
        year=record.year,
        publisher=record.publisher,
        summary=record.summary,
        work_key=record.work_key,
        clc_numbers=[demo_call_number(record)],
    )


async def _works(
    session: AsyncSession, records: Sequence[BibRecord], summary: DemoSummary
) -> dict[str, int]:
    """Work ids by work key, creating the works not seeded yet."""
    keys = [record.work_key for record in records]
    found = await session.execute(select(Work.work_key, Work.id).where(Work.work_key.in_(keys)))
    work_ids: dict[str, int] = dict(found.all())
    new_works: dict[str, Work] = {}
    for record in records:
        if record.work_key not in work_ids and record.work_key not in new_works:
            new_works[record.work_key] = _work(record)
    session.add_all(new_works.values())
    await session.flush()
    work_ids.update({key: work.id for key, work in new_works.items()})
    summary.works_created = len(new_works)
    return work_ids


async def _isbns(
    session: AsyncSession,
    records: Sequence[BibRecord],
    work_ids: Mapping[str, int],
    summary: DemoSummary,
) -> None:
    """Give every work the ISBNs of its catalogue row that no work has yet."""
    wanted = {isbn for record in records for isbn in record.isbns}
    taken = set(await session.scalars(select(WorkIsbn.isbn).where(WorkIsbn.isbn.in_(wanted))))
    for record in records:
        for position, isbn in enumerate(record.isbns):
            if isbn not in taken:
                taken.add(isbn)
                session.add(
                    WorkIsbn(isbn=isbn, work_id=work_ids[record.work_key], position=position)
                )
                summary.isbns_added += 1
    await session.flush()


async def _items(
    session: AsyncSession,
    records: Sequence[BibRecord],
    work_ids: Mapping[str, int],
    libraries: Mapping[str, Library],
    *,
    today: date,
    zone: ZoneInfo,
) -> int:
    """Place the copies ``demo_holdings`` decides; how many were new."""
    holdings = demo_holdings(records, {code: library.kind for code, library in libraries.items()})
    barcodes = {
        f"{holding.library_code}-{holding.work_row:04d}-{copy}"
        for holding in holdings
        for copy in range(1, holding.copies + 1)
    }
    existing = set(await session.scalars(select(Item.barcode).where(Item.barcode.in_(barcodes))))
    rows = {record.record_number: record for record in records}
    items: list[Item] = []
    for holding in holdings:
        for copy in range(1, holding.copies + 1):
            barcode = f"{holding.library_code}-{holding.work_row:04d}-{copy}"
            if barcode in existing:
                continue
            rng = random.Random(f"{HOLDINGS_SEED}:{barcode}")
            on_loan = rng.random() < ON_LOAN_SHARE
            items.append(
                Item(
                    work_id=work_ids[rows[holding.work_row].work_key],
                    library_id=libraries[holding.library_code].id,
                    barcode=barcode,
                    call_number=holding.call_number,
                    status=ItemStatus.ON_LOAN if on_loan else ItemStatus.AVAILABLE,
                    due_at=_due_at(rng, today, zone) if on_loan else None,
                )
            )
    session.add_all(items)
    await session.flush()
    return len(items)


async def seed_catalogue(
    session: AsyncSession,
    libraries: Mapping[str, Library],
    summary: DemoSummary,
    *,
    today: date,
    zone: ZoneInfo,
) -> None:
    """The demo works, their ISBNs and their copies (idempotent)."""
    records = demo_records()
    work_ids = await _works(session, records, summary)
    await _isbns(session, records, work_ids, summary)
    summary.items_created = await _items(
        session, records, work_ids, libraries, today=today, zone=zone
    )
