"""The voucher flow end to end: a reader chooses, the store's staff confirm, the library lends."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.models import (
    AuditLog,
    ChooseBudget,
    Item,
    ItemStatus,
    VoucherStatus,
    WorkIsbn,
)
from tests.harness import BotHarness, inline_labels
from tests.holds.chat import deliver

from .conftest import (
    NEW_BOOK,
    OTHER_NEW_BOOK,
    chat_user,
    city_in,
    counts,
    ean13_png,
    make_staff,
    vouchers,
)

CODE = re.compile(r"code ([23456789A-HJKMNP-Z]{8})")


async def test_a_reader_chooses_staff_confirm_and_the_library_lends(harness: BotHarness) -> None:
    city = await city_in(harness)
    reader = await chat_user(harness, 1001)
    staff = await chat_user(harness, 1002)
    await make_staff(harness, staff, city.store)

    [which] = await reader.send("/choose")
    assert (which.text or "").endswith("Which bookstore are you in?")
    assert inline_labels(which) == ["🏪 Page One", "🏪 Riverside Books"]
    [intro] = await reader.tap("🏪 Page One")
    text = intro.text or ""
    assert "You choose, we pay" in text and "Page One" in text and "City Library" in text
    assert "up to ¥80.00 a book, 2 books per reader a month" in text

    [yes] = await reader.send_photo(ean13_png(NEW_BOOK[:12]))
    assert yes.photo, "the voucher comes as a QR code picture"
    caption = yes.caption or ""
    assert caption.startswith("✅ Yes! City Library pays for ISBN 9787302104872 at Page One")
    assert "Books chosen this month: 1 of 2." in caption
    match = CODE.search(caption)
    assert match is not None
    code = match[1]
    [voucher] = await vouchers(harness)
    assert voucher.code == code and voucher.status is VoucherStatus.ISSUED
    # Asking again for the same book gives the same voucher, not a second one.
    [again] = await reader.send(NEW_BOOK)
    assert code in (again.caption or "")
    assert len(await vouchers(harness)) == 1

    [done] = await staff.send(f"/redeem {code.lower()} 45.8 The Analects")
    text = done.text or ""
    assert text.startswith(f"✅ Voucher {code} confirmed: The Analects for ¥45.80, paid by City")
    assert "Budget left this month: ¥154.20." in text

    [voucher] = await vouchers(harness)
    assert voucher.status is VoucherStatus.CONFIRMED and voucher.price == 4580
    assert voucher.confirmed_at is not None and voucher.due_at is not None
    assert voucher.due_at - voucher.confirmed_at == timedelta(days=30)
    async with harness.app.sessionmaker() as session:
        item = await session.get(Item, voucher.item_id)
        assert item is not None
        assert item.library_id == city.city.id and item.status is ItemStatus.ON_LOAN
        assert item.barcode == f"V-PAGE-{code}" and item.due_at == voucher.due_at
        assert (await session.get(WorkIsbn, NEW_BOOK)) is not None
        assert await session.scalar(select(ChooseBudget.spent)) == 4580
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "voucher.confirm"))
        assert entry is not None
        assert (
            entry.details["store"] == "PAGE" and entry.details["store_address"] == "2 Book Street"
        )

    await deliver(harness)
    [notice] = reader.new_bot_messages()
    assert (notice.text or "").startswith(
        "📚 The Analects from Page One is paid for by City Library and lent to you until"
    )
    # The same voucher a second time: refused, nothing paid twice.
    before = await counts(harness)
    [twice] = await staff.send(f"/redeem {code} 45.8")
    assert twice.text == "That voucher was already used: each voucher pays for one book once."
    assert await counts(harness) == before


async def test_the_flow_in_chinese(harness: BotHarness) -> None:
    city = await city_in(harness)
    reader = await chat_user(harness, 1011, "zh")
    staff = await chat_user(harness, 1012, "zh")
    await make_staff(harness, staff, city.store)
    [intro] = await reader.send("/choose page")
    assert "你选书，我买单" in (intro.text or "")
    [yes] = await reader.send(NEW_BOOK)
    caption = yes.caption or ""
    assert caption.startswith("✅ 可以！市图书馆为 ISBN 9787302104872 付款")
    [voucher] = await vouchers(harness)
    [bad] = await staff.send(f"/redeem {voucher.code} 四十五")
    assert (bad.text or "").startswith("“四十五”不是价格")
    [done] = await staff.send(f"/redeem {voucher.code} 45")
    assert (done.text or "").startswith(f"✅ 购书券 {voucher.code} 已确认")
    await deliver(harness)
    [notice] = reader.new_bot_messages()
    assert "借给你" in (notice.text or "")
    # The quota (two books a month) in Chinese: one more, then no.
    [yes] = await reader.send(OTHER_NEW_BOOK)
    assert "本月已选书：2 / 2 本。" in (yes.caption or "")
    [no] = await reader.send("9787544253994")
    assert no.text == (
        "❌ 这次不行：市图书馆不能为 ISBN 9787544253994 付款，因为你本月的 2 本额度已经用完。"
    )
