"""A book bought on a voucher goes back to any member library: the desk there sends it home,
or gives it to the next reader waiting for it."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import Hold, HoldStatus, Item, ItemStatus, Library, Voucher
from tests.harness import BotHarness, ChatUser, inline_labels
from tests.holds.chat import make_librarian

from .conftest import NEW_BOOK, chat_user, city_in, make_staff


async def _bought(harness: BotHarness, reader_id: int, staff_id: int) -> Item:
    city = await city_in(harness)
    reader = await chat_user(harness, reader_id)
    staff = await chat_user(harness, staff_id)
    await make_staff(harness, staff, city.store)
    await reader.send("/choose PAGE")
    [yes] = await reader.send(NEW_BOOK)
    code = (yes.caption or "").split("the code ")[1].split()[0]
    await staff.send(f"/redeem {code} 42 Wolf Totem")
    async with harness.app.sessionmaker() as session:
        voucher = await session.scalar(select(Voucher))
        assert voucher is not None and voucher.item_id is not None
        item = await session.get(Item, voucher.item_id)
        assert item is not None and item.status is ItemStatus.ON_LOAN
        return item


async def test_returned_at_another_library_goes_home(harness: BotHarness) -> None:
    item = await _bought(harness, 1601, 1602)
    async with harness.app.sessionmaker() as session:
        campus = await session.scalar(select(Library).where(Library.code == "UNI"))
        city = await session.scalar(select(Library).where(Library.code == "CITY"))
        assert campus is not None and city is not None
    campus_desk = await chat_user(harness, 1603)
    await make_librarian(harness, campus_desk, campus.id)
    [reply] = await campus_desk.send(f"/checkin {item.barcode}")
    assert reply.text == (
        f"📦 Checked in copy {item.barcode} of Wolf Totem, returned here: nobody is waiting, "
        "send it home to City Library."
    )
    # A copy on the shelf of another library is still not theirs to check in.
    [reply] = await campus_desk.send(f"/checkin {item.barcode}")
    assert reply.text == "That belongs to City Library: only its librarians can do this."
    city_desk = await chat_user(harness, 1604)
    await make_librarian(harness, city_desk, city.id)
    [reply] = await city_desk.send(f"/checkin {item.barcode}")
    assert (reply.text or "").startswith("✅ Checked in copy")
    async with harness.app.sessionmaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None and stored.status is ItemStatus.AVAILABLE
        assert stored.due_at is None


async def test_returned_where_a_reader_waits_for_it(harness: BotHarness) -> None:
    item = await _bought(harness, 1611, 1612)
    async with harness.app.sessionmaker() as session:
        campus = await session.scalar(select(Library).where(Library.code == "UNI"))
        assert campus is not None
    waiting = await chat_user(harness, 1613)
    await waiting.send(f"/start wk_{item.work_id}")
    await waiting.tap("🔖 Reserve")
    await waiting.tap(next(label for label in _labels(waiting) if label.startswith("Campus")))
    campus_desk = await chat_user(harness, 1614)
    await make_librarian(harness, campus_desk, campus.id)
    [reply] = await campus_desk.send(f"/checkin {item.barcode}")
    assert "put it on the hold shelf for card" in (reply.text or "")
    async with harness.app.sessionmaker() as session:
        hold = await session.scalar(select(Hold).where(Hold.work_id == item.work_id))
        assert hold is not None and hold.status is HoldStatus.READY
        assert hold.item_id == item.id and hold.pickup_library_id == campus.id


def _labels(user: ChatUser) -> list[str]:
    return inline_labels(user.last_bot_message())
