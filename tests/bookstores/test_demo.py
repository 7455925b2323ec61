"""The demo shows a partner bookstore at work and a month of interlibrary lending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.models import Bookstore, Voucher, VoucherStatus
from bot.services.demo.seeding import seed_demo
from tests.harness import BotHarness


async def test_demo_bookstore_and_lending(harness: BotHarness) -> None:
    zone = harness.app.settings.zone
    async with harness.app.sessionmaker() as session:
        await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
        # A second run adds nothing.
        await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
        assert list(await session.scalars(select(Bookstore.code))) == ["HB-BOOKS"]

    admin = harness.user(1004, "Demo admin")
    summary, _chart, _table = await admin.send("/lending 30d")
    text = summary.text or ""
    assert "14 loans between members" in text
    assert "HBU → HBPL: 4" in text and "HNC → TYPL: 2" in text

    reader = harness.user(1001, "演示读者", language_code="zh")
    [intro] = await reader.send("/choose")
    assert "海滨书城" in (intro.text or "")
    [yes] = await reader.send("9787302104872")
    assert (yes.caption or "").startswith("✅ 可以！海滨市图书馆为 ISBN 9787302104872 付款")
    async with harness.app.sessionmaker() as session:
        voucher = await session.scalar(select(Voucher))
        assert voucher is not None and voucher.status is VoucherStatus.ISSUED
    # The demo admin also works at the bookstore's till.
    [done] = await admin.send(f"/redeem {voucher.code} 39.50")
    assert (done.text or "").startswith(f"✅ Voucher {voucher.code} confirmed")
