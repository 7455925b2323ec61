"""/bookstores: admins add a store, give staff the bookstore role and set a library's rules."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import AuditLog, Bookstore, ChooseRules
from tests.factories import make_district, make_library
from tests.harness import BotHarness

from .conftest import NEW_BOOK, chat_user


async def test_admin_sets_up_a_store_that_readers_use(harness: BotHarness) -> None:
    async with harness.app.sessionmaker() as session:
        district = await make_district(session)
        library = await make_library(session, district, code="CITY", name_en="City Library")
        await session.commit()
    admin = await chat_user(harness, 9001)
    clerk = harness.user(1401, "Clerk", username="clerk")
    await clerk.onboard()
    reader = await chat_user(harness, 1402)

    [reply] = await reader.send("/choose")
    assert reply.text == "No partner bookstore takes part in “you choose, we pay” yet."

    [reply] = await admin.send("/bookstores add PAGE CITY 31.2,121.4 Page One Books")
    assert reply.text == "✅ Bookstore PAGE saved."
    [reply] = await admin.send("/bookstores add PAGE CITY 95,121.4 Page One")
    assert (reply.text or "").startswith("Check the code (letters, digits, - and _), the place")
    [reply] = await admin.send("/bookstores add SHOP NOPE 31.2,121.4 Shop")
    assert reply.text == "No library has the code “NOPE”."
    [reply] = await admin.send("/bookstores staff @clerk PAGE")
    assert (reply.text or "").startswith(
        "✅ Clerk (@clerk, id 1401) now confirms vouchers for PAGE"
    )
    [reply] = await admin.send("/bookstores staff @clerk PAGE")
    assert reply.text == "They already work for that bookstore."

    # Without rules the library pays for nothing.
    await reader.send("/choose")
    [reply] = await reader.send(NEW_BOOK)
    assert (reply.text or "").endswith("this bookstore's library has not set its rules yet.")

    [reply] = await admin.send("/bookstores rules CITY cap=60 quota=one budget=500 copies=2")
    assert (reply.text or "").startswith("Check “quota”")
    [reply] = await admin.send("/bookstores rules CITY cap=-60 quota=1 budget=500 copies=2")
    assert (reply.text or "").startswith("Check “cap”")
    [reply] = await admin.send("/bookstores rules CITY cap=60 quota=1 budget=500 copies=2")
    assert reply.text == (
        "✅ Rules of City Library: up to ¥60.00 a book, 1 books per reader a month, a budget "
        "of ¥500.00 a month, only books the alliance holds fewer than 2 copies of, lent for "
        "30 days."
    )
    [listing] = await admin.send("/bookstores")
    assert "PAGE Page One Books: paid by City Library, 1 staff; up to ¥60.00" in (
        listing.text or ""
    )

    [yes] = await reader.send(NEW_BOOK)
    code = (yes.caption or "").split("the code ")[1].split()[0]
    [done] = await clerk.send(f"/redeem {code} 59.90")
    assert (done.text or "").startswith(f"✅ Voucher {code} confirmed")

    async with harness.app.sessionmaker() as session:
        rules = await session.get(ChooseRules, library.id)
        assert rules is not None and rules.price_cap == 6000 and rules.monthly_budget == 50000
        assert await session.scalar(select(Bookstore.code)) == "PAGE"
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
        assert actions == ["bookstore.add", "bookstore.staff", "bookstore.rules", "voucher.confirm"]
    *_, reply = await reader.send("/bookstores")
    assert (reply.text or "").startswith("Sorry, /bookstores is only for")
