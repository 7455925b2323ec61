"""The evaluation report agrees with figures counted by hand on a seeded alliance."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Bookstore,
    EventStatus,
    Feedback,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    Library,
    LibraryKind,
    PurchaseSuggestion,
    Reader,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
    SuggestionStatus,
    Voucher,
    VoucherStatus,
    utcnow,
)
from bot.services.bookstores.evaluation import evaluate, evaluation_csv
from bot.services.statistics import Period
from tests.factories import make_district, make_event, make_library, make_reader, make_work
from tests.harness import BotHarness

from .conftest import NEW_BOOK, chat_user

DAY = timedelta(days=1)


async def _seed(session: AsyncSession) -> int:
    """Two members A and B and a partner; returns the under-reached district's id."""
    now = utcnow()
    far = await make_district(session, code="FAR")  # under-reached
    near = await make_district(session, code="NEAR")
    a = await make_library(session, near, code="A", name_en="Alpha")
    b = await make_library(session, near, code="B", name_en="Beta")
    await make_library(session, near, code="P", kind=LibraryKind.PARTNER)
    r1 = await make_reader(session, district_id=far.id)
    r2 = await make_reader(session, district_id=far.id)
    r3 = await make_reader(session, district_id=near.id)

    async def hold(
        owner: Library,
        pickup: Library,
        reader: Reader,
        status: HoldStatus,
        queued_days: float,
        ready_days: float | None,
        sent_days: float | None = None,
    ) -> None:
        work = await make_work(session)
        item = Item(
            work_id=work.id, library_id=owner.id, barcode=f"E{work.id}", status=ItemStatus.HELD
        )
        session.add(item)
        await session.flush()
        session.add(
            Hold(
                reader_id=reader.id,
                work_id=work.id,
                pickup_library_id=pickup.id,
                item_id=item.id,
                status=status,
                queued_at=now - queued_days * DAY,
                in_transit_at=None if sent_days is None else now - sent_days * DAY,
                ready_at=None if ready_days is None else now - ready_days * DAY,
            )
        )

    # A's copy to B's reader r1 (far): 3 days from hold to ready.
    await hold(a, b, r1, HoldStatus.COLLECTED, 5, 2, sent_days=3)
    # B's own copy for r3 (near): 1 day.
    await hold(b, b, r3, HoldStatus.READY, 2, 1)
    # A's own copy for r2 (far): half a day.
    await hold(a, a, r2, HoldStatus.READY, 10, 9.5)

    event = await make_event(session, starts_at=now - 5 * DAY, venue_library_id=a.id)
    await make_event(
        session, starts_at=now - 4 * DAY, venue_library_id=a.id, status=EventStatus.CANCELLED
    )
    old = await make_event(session, starts_at=now - 60 * DAY, venue_library_id=b.id)
    for reader, status in (
        (r1, RegistrationStatus.ATTENDED),
        (r2, RegistrationStatus.ATTENDED),
        (r3, RegistrationStatus.CONFIRMED),
    ):
        session.add(Registration(event_id=event.id, reader_id=reader.id, status=status))
    session.add_all(
        [
            Feedback(event_id=event.id, reader_id=r1.id, rating=5, created_at=now - 4 * DAY),
            Feedback(event_id=event.id, reader_id=r2.id, rating=4, created_at=now - 4 * DAY),
            Feedback(event_id=old.id, reader_id=r3.id, rating=3, created_at=now - 59 * DAY),
            PurchaseSuggestion(
                match_key="one",
                query="one",
                status=SuggestionStatus.APPROVED,
                library_id=a.id,
                decided_at=now - 3 * DAY,
            ),
            PurchaseSuggestion(
                match_key="two",
                query="two",
                status=SuggestionStatus.APPROVED,
                library_id=b.id,
                decided_at=now - 50 * DAY,
            ),
            PurchaseSuggestion(match_key="three", query="three"),
        ]
    )
    store = Bookstore(code="S", name="S", latitude=37.5, longitude=121.4, library_id=b.id)
    session.add(store)
    await session.flush()
    for code, status, price in (
        ("AAAAAAAA", VoucherStatus.CONFIRMED, 4580),
        ("BBBBBBBB", VoucherStatus.ISSUED, None),
    ):
        session.add(
            Voucher(
                code=code,
                reader_id=r1.id,
                bookstore_id=store.id,
                library_id=b.id,
                isbn=NEW_BOOK,
                month="2026-12",
                status=status,
                valid_until=now,
                price=price,
                confirmed_at=now - 2 * DAY if price else None,
            )
        )
    await session.commit()
    return far.id


async def test_evaluation_agrees_with_hand_counts(session: AsyncSession) -> None:
    far = await _seed(session)
    period = Period(start=utcnow() - 30 * DAY, end=utcnow(), label="30d")
    report = await evaluate(session, period, under_reached=[far])
    rows = list(csv.DictReader(io.StringIO(evaluation_csv(report))))
    assert [
        (
            row["library"],
            row["holds_filled_for_others"],
            row["events"],
            row["attended"],
            row["readers_reached_in_under_reached_districts"],
            row["suggestions_approved"],
            row["vouchers"],
            row["voucher_spend"],
            row["avg_hold_to_ready_hours"],
            row["feedback"],
            row["avg_rating"],
        )
        for row in rows
    ] == [
        ("A", "1", "1", "2", "2", "1", "0", "0.00", "12.0", "2", "4.50"),
        ("B", "0", "0", "0", "1", "0", "1", "45.80", "48.0", "0", ""),
    ]
    # Nobody is under-reached: nobody is counted as reached there.
    plain = await evaluate(session, period, under_reached=[])
    assert [row.reached_under_reached for row in plain.libraries] == [0, 0]


async def test_evaluation_in_chat(harness: BotHarness) -> None:
    async with harness.app.sessionmaker() as session:
        await _seed(session)
    admin = await chat_user(harness, 9001)
    replies = await admin.send("/evaluation 30d")
    summary, *pages, table = replies
    assert (summary.text or "").startswith("📋 Evaluation of member libraries, 30d")
    assert "• A: lent 1, events 1 (2 attended)" in (summary.text or "")
    assert len(pages) == 2 and all(page.photo for page in pages)
    assert table.document is not None and table.document.file_name == "evaluation-30d.csv"

    chinese = await chat_user(harness, 9005, "zh")
    async with harness.app.sessionmaker() as session:
        person = await session.scalar(select(Reader).where(Reader.telegram_id == 9005))
        assert person is not None
        session.add(RoleGrant(reader_id=person.id, role=Role.ADMIN))
        await session.commit()
    summary, *_rest = await chinese.send("/evaluation 30d")
    assert (summary.text or "").startswith("📋 成员馆评估，30d")
    assert "• A：借给他馆 1，活动 1 场（到场 2）" in (summary.text or "")
    [reply] = await admin.send("/evaluation yesterday")
    assert (reply.text or "").startswith("I don't understand the period “yesterday”.")
