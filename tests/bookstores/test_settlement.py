"""/settlement: a month's confirmed vouchers per store and library, against the budget;
admins approve a finished month once, and every step is audit-logged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import (
    AuditLog,
    ChooseBudget,
    Reader,
    Settlement,
    Voucher,
    VoucherStatus,
    utcnow,
)
from bot.services.bookstores.money import month_of
from handlers.bookstores.settlement import SettleAct, SettleData
from tests.harness import BotHarness, inline_labels

from .conftest import NEW_BOOK, chat_user, city_in


async def test_statement_csv_and_approval(harness: BotHarness) -> None:
    city = await city_in(harness)
    zone = harness.app.settings.zone
    now = utcnow()
    last_month = month_of(now.replace(day=1) - timedelta(days=2), zone)
    admin = await chat_user(harness, 9001)
    reader = await chat_user(harness, 1501)
    async with harness.app.sessionmaker() as session:
        person = await session.scalar(select(Reader).where(Reader.telegram_id == 1501))
        assert person is not None
        confirmed = now - timedelta(days=40)
        for number, (store, price) in enumerate(
            ((city.store, 4580), (city.store, 3000), (city.other_store, 1250))
        ):
            session.add(
                Voucher(
                    code=f"CODE{number}ABC"[:8],
                    reader_id=person.id,
                    bookstore_id=store.id,
                    library_id=store.library_id,
                    isbn=NEW_BOOK,
                    month=last_month,
                    status=VoucherStatus.CONFIRMED,
                    valid_until=confirmed,
                    price=price,
                    confirmed_at=confirmed,
                )
            )
        # Issued but never used: not in the statement.
        session.add(
            Voucher(
                code="UNUSED22",
                reader_id=person.id,
                bookstore_id=city.store.id,
                library_id=city.city.id,
                isbn=NEW_BOOK,
                month=last_month,
                valid_until=confirmed,
            )
        )
        session.add(ChooseBudget(library_id=city.city.id, month=last_month, spent=7580))
        await session.commit()

    summary, table = await admin.send(f"/settlement {last_month}")
    text = summary.text or ""
    assert text.splitlines() == [
        f"🧾 Settlement for {last_month}: ¥88.30 in 3 vouchers",
        "• PAGE → CITY: 2 vouchers, ¥75.80; the library spent ¥75.80 of its ¥200.00 budget",
        "• RIVER → UNI: 1 vouchers, ¥12.50",
    ]
    assert inline_labels(summary) == ["✅ Approve PAGE · CITY", "✅ Approve RIVER · UNI"]
    assert table.document is not None and table.document.file_name == f"settlement-{last_month}.csv"

    await admin.tap("✅ Approve PAGE · CITY")
    assert admin.last_answer is not None
    assert admin.last_answer["text"] == "✅ Approved: 2 vouchers, ¥75.80."
    edited = admin.chat()[-2]
    assert "✅ approved" in (edited.text or "")
    assert inline_labels(edited) == ["✅ Approve RIVER · UNI"]
    # A forged second approval is refused; nothing is stored twice.
    data = SettleData(
        action=SettleAct.APPROVE, store_id=city.store.id, library_id=city.city.id, month=last_month
    ).pack()
    await admin.forge(data)
    assert admin.last_answer is not None
    assert admin.last_answer["text"] == "That statement was approved already."
    async with harness.app.sessionmaker() as session:
        [row] = list(await session.scalars(select(Settlement)))
        assert (row.vouchers, row.total, row.month) == (2, 7580, last_month)
        actions = list(
            await session.scalars(
                select(AuditLog.action)
                .where(AuditLog.action.like("settlement.%"))
                .order_by(AuditLog.id)
            )
        )
        assert actions == ["settlement.statement", "settlement.approve"]

    # This month is not over: its statement can be seen, not approved.
    async with harness.app.sessionmaker() as session:
        person = await session.scalar(select(Reader).where(Reader.telegram_id == 1501))
        assert person is not None
        session.add(
            Voucher(
                code="NOWNOW22",
                reader_id=person.id,
                bookstore_id=city.store.id,
                library_id=city.city.id,
                isbn=NEW_BOOK,
                month=month_of(now, zone),
                status=VoucherStatus.CONFIRMED,
                valid_until=now,
                price=999,
                confirmed_at=now,
            )
        )
        await session.commit()
    current, _table = await admin.send("/settlement")
    assert (current.text or "").splitlines()[-1] == (
        "The month is not over: it can be approved from the 1st of next month."
    )
    assert inline_labels(current) == []
    for bad in ("2026-13", "soon", "2999-01"):
        [reply] = await admin.send(f"/settlement {bad}")
        assert reply.text == (
            f"“{bad}” is not a month that has begun. Write it like /settlement 2026-11."
        )
    [reply] = await reader.send(f"/settlement {last_month}")
    assert (reply.text or "").startswith("Sorry, /settlement is only for")
