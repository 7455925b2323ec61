"""Every reason a choice is refused, every voucher that cannot be used, every bad input:
a clear answer, and nothing stored changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.models import (
    AuditLog,
    ChooseBudget,
    ChooseRules,
    Item,
    ItemStatus,
    Voucher,
    utcnow,
)
from tests.harness import BotHarness

from .conftest import (
    NEW_BOOK,
    OTHER_NEW_BOOK,
    RED_CHAMBER,
    blank_png,
    chat_user,
    city_in,
    counts,
    ean13_png,
    make_staff,
    reader_of,
    vouchers,
)


async def _voucher_code(user_reply_caption: str) -> str:
    return user_reply_caption.split("the code ")[1].split()[0]


async def test_every_refusal_reason(harness: BotHarness) -> None:
    city = await city_in(harness)
    reader = await chat_user(harness, 1101)
    await reader.send("/choose RIVER")
    # The campus library pays at Riverside Books and has set no rules.
    [reply] = await reader.send(NEW_BOOK)
    assert reply.text == (
        "❌ Not this time: Campus Library cannot pay for ISBN 9787302104872, because this "
        "bookstore's library has not set its rules yet."
    )

    await reader.send("/choose PAGE")
    # The alliance holds enough copies: the nearest one is named.
    async with harness.app.sessionmaker() as session:
        session.add(Item(work_id=city.work.id, library_id=city.city.id, barcode="CITY-RC-2"))
        await session.commit()
    [reply] = await reader.send(RED_CHAMBER)
    assert reply.text == (
        "❌ Not this time: City Library cannot pay for The Dream of the Red Chamber, because "
        "the alliance already holds 2 copies of this book.\n"
        "The nearest copy is on the shelf at City Library, 1.1 km from here.\n"
        f"Its card: /start wk_{city.work.id}"
    )

    # The monthly quota: two books, then no.
    for isbn in (NEW_BOOK, OTHER_NEW_BOOK):
        [yes] = await reader.send(isbn)
        assert (yes.caption or "").startswith("✅ Yes!")
    [reply] = await reader.send("9787544253994")
    assert (reply.text or "").endswith("because you have used your 2 books for this month.")

    # The library's budget for the month is spent.
    other = await chat_user(harness, 1102)
    await other.send("/choose PAGE")
    async with harness.app.sessionmaker() as session:
        month = (await vouchers(harness))[0].month
        session.add(ChooseBudget(library_id=city.city.id, month=month, spent=20000))
        await session.commit()
    [reply] = await other.send(NEW_BOOK)
    assert (reply.text or "").endswith(
        "because the library has spent this month's budget for chosen books."
    )

    # A card not in good standing: a book bought on a voucher is overdue.
    late = await chat_user(harness, 1103)
    await late.send("/choose PAGE")
    late_reader = await reader_of(harness, late)
    async with harness.app.sessionmaker() as session:
        item = Item(
            work_id=city.work.id,
            library_id=city.city.id,
            barcode="V-PAGE-OLD",
            status=ItemStatus.ON_LOAN,
        )
        session.add(item)
        await session.flush()
        session.add(
            Voucher(
                code="OLDOLD22",
                reader_id=late_reader.id,
                bookstore_id=city.store.id,
                library_id=city.city.id,
                isbn=NEW_BOOK,
                month="2026-01",
                status="confirmed",
                valid_until=utcnow() - timedelta(days=60),
                price=1000,
                item_id=item.id,
                due_at=utcnow() - timedelta(days=1),
            )
        )
        await session.commit()
    [reply] = await late.send(OTHER_NEW_BOOK)
    assert (reply.text or "").endswith(
        "because your alliance card is not in good standing (a book bought for you is overdue)."
    )
    # Only the two vouchers the rules allowed (and the old one) exist.
    assert len(await vouchers(harness)) == 3


async def test_vouchers_that_cannot_be_used(harness: BotHarness) -> None:
    city = await city_in(harness)
    reader = await chat_user(harness, 1201)
    staff = await chat_user(harness, 1202)
    river_staff = await chat_user(harness, 1203)
    await make_staff(harness, staff, city.store)
    await make_staff(harness, river_staff, city.other_store)
    await reader.send("/choose PAGE")
    [yes] = await reader.send(NEW_BOOK)
    code = await _voucher_code(yes.caption or "")
    before = await counts(harness)

    # Confirmed by another store's staff.
    [reply] = await river_staff.send(f"/redeem {code} 30")
    assert reply.text == (
        "That voucher is for Page One, not your bookstore: it cannot be used here."
    )
    # Above the price cap of ¥80.
    [reply] = await staff.send(f"/redeem {code} 80.01")
    assert reply.text == "The price is above the library's cap of ¥80.00 a book: it cannot pay."
    # Expired: valid for the day it was issued only.
    async with harness.app.sessionmaker() as session:
        await session.execute(update(Voucher).values(valid_until=utcnow() - timedelta(minutes=1)))
        await session.commit()
    [reply] = await staff.send(f"/redeem {code} 30")
    assert (reply.text or "").startswith("That voucher expired at ")
    assert await counts(harness) == before
    # A person without the bookstore role (the reader leaves /choose for it).
    left, reply = await reader.send(f"/redeem {code} 30")
    assert left.text == "You left “you choose, we pay”."
    assert reply.text == "Only a partner bookstore's staff can confirm vouchers."
    assert await counts(harness) == before


async def test_bad_input_changes_nothing(harness: BotHarness) -> None:
    city = await city_in(harness)
    reader = await chat_user(harness, 1301)
    staff = await chat_user(harness, 1302)
    await make_staff(harness, staff, city.store)
    await reader.send("/choose PAGE")

    # A photo with no barcode, a barcode that is not a book, a number that is not an ISBN.
    [reply] = await reader.send_photo(blank_png())
    assert (reply.text or "").startswith("I couldn't find a barcode in that photo.")
    [reply] = await reader.send_photo(ean13_png("400638133393"))  # a chocolate bar
    assert (reply.text or "").startswith("That barcode is not a book's ISBN.")
    for typed in ("4006381333931", "9787302104873", "not an isbn", "9790230671187"):
        [reply] = await reader.send(typed)
        assert (reply.text or "").startswith(f"“{typed}” is not a book's ISBN."), typed
    assert await vouchers(harness) == []

    [yes] = await reader.send(NEW_BOOK)
    code = await _voucher_code(yes.caption or "")
    before = await counts(harness)
    for price, answer in (
        ("45元x", "“45元x” is not a price. Write it in yuan with digits, like 45 or 45.80."),
        ("abc", "“abc” is not a price. Write it in yuan with digits, like 45 or 45.80."),
        ("-5", "A price cannot be negative: “-5”."),
        ("0", "A price must be more than zero."),
        ("4.5.6", "“4.5.6” is not a price. Write it in yuan with digits, like 45 or 45.80."),
    ):
        [reply] = await staff.send(f"/redeem {code} {price}")
        assert reply.text == answer, price
    [reply] = await staff.send("/redeem")
    assert (reply.text or "").startswith("Usage: /redeem CODE PRICE [TITLE]")
    assert await counts(harness) == before

    # Codes guessed at random: five are answered, then the staff member must wait, even
    # for the right code.
    for guess in ("AAAA2222", "ZZZZ9999", "HELLO", "K7QM2XPA", "22222222"):
        [reply] = await staff.send(f"/redeem {guess} 30")
        assert reply.text == "No voucher has that code. Check it on the reader's screen.", guess
    [reply] = await staff.send(f"/redeem {code} 30")
    assert (reply.text or "").startswith("Too many codes that match no voucher. Wait 10 minutes")
    assert await counts(harness) == before
    async with harness.app.sessionmaker() as session:
        guesses = await session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "voucher.bad_code")
        )
        assert guesses == 5
        # Ten minutes later the limit is lifted.
        await session.execute(update(AuditLog).values(created_at=utcnow() - timedelta(minutes=11)))
        rules = await session.get(ChooseRules, city.city.id)
        assert rules is not None
        await session.commit()
    [reply] = await staff.send(f"/redeem {code} 30")
    assert (reply.text or "").startswith(f"✅ Voucher {code} confirmed")
