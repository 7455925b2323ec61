"""Librarian commands refuse readers, librarians of other libraries and unknown barcodes."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import AuditLog, HoldStatus, Item, ItemStatus
from tests.harness import BotHarness

from .chat import alliance_in, chat_reader, deliver, holds_of, make_librarian, reserve_at
from .conftest import add_copy


async def _campus_copy(harness: BotHarness, work_id: int) -> Item:
    async with harness.app.sessionmaker() as session:
        item = await session.scalar(select(Item).where(Item.work_id == work_id))
        assert item is not None
        return item


async def test_readers_are_refused_every_desk_command(harness: BotHarness) -> None:
    await alliance_in(harness)
    reader = await chat_reader(harness, 801)
    for command in ("checkin B1", "arrived B1", "collected B1", "pulllist", "missing B1"):
        [reply] = await reader.send(f"/{command}")
        name = command.split()[0]
        assert reply.text == (
            f"Sorry, /{name} is only for librarians. Send /help to see what you can do."
        )


async def test_librarians_of_other_libraries_and_unknown_barcodes(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)
    item = await _campus_copy(harness, alliance.work.id)
    riverside = await chat_reader(harness, 811)
    await make_librarian(harness, riverside, alliance.riverside.id)
    for command in ("checkin", "missing"):
        [reply] = await riverside.send(f"/{command} {item.barcode}")
        assert reply.text == "That belongs to Campus Library: only its librarians can do this."
    [reply] = await riverside.send("/checkin NO-SUCH-COPY")
    assert reply.text == (
        "No copy or alliance card has the barcode “NO-SUCH-COPY”. Check it and try again."
    )
    [reply] = await riverside.send("/collected NO-SUCH-CARD")
    assert reply.text == (
        "No copy or alliance card has the barcode “NO-SUCH-CARD”. Check it and try again."
    )
    [reply] = await riverside.send("/checkin")
    assert reply.text == "Usage: /checkin BARCODE"
    [reply] = await riverside.send(f"/arrived {item.barcode}")
    assert reply.text == "Nothing to do: that copy is not waiting for this (available)."

    # A hold in transit to City: Riverside may not receive it, City may.
    reader = await chat_reader(harness, 812)
    await reserve_at(reader, alliance.work.id, "City Library")
    [reply] = await riverside.send(f"/arrived {item.barcode}")
    assert reply.text == "That belongs to City Library: only its librarians can do this."
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.IN_TRANSIT
    async with harness.app.sessionmaker() as session:
        assert list(await session.scalars(select(AuditLog))) == []


async def test_missing_last_copy_cancels_holds_with_a_notice(
    harness: BotHarness,
) -> None:
    alliance = await alliance_in(harness)
    item = await _campus_copy(harness, alliance.work.id)
    campus = await chat_reader(harness, 821)
    await make_librarian(harness, campus, alliance.campus.id)
    reader = await chat_reader(harness, 822)
    await reserve_at(reader, alliance.work.id, "City Library")
    await deliver(harness)
    reader.new_bot_messages()
    [reply] = await campus.send(f"/missing {item.barcode}")
    assert "is marked missing. It was the last copy" in (reply.text or "")
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.CANCELLED and hold.reason == "last_copy_missing"
    await deliver(harness)
    [notice] = reader.new_bot_messages()
    assert (notice.text or "").startswith("❌ The library had to cancel your hold")
    # Found again: back on the shelf.
    [reply] = await campus.send(f"/checkin {item.barcode}")
    assert "Found again" in (reply.text or "")
    async with harness.app.sessionmaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None and stored.status is ItemStatus.AVAILABLE


async def test_checkin_of_a_returned_copy_fills_the_next_hold(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)
    item = await _campus_copy(harness, alliance.work.id)
    async with harness.app.sessionmaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None
        stored.status = ItemStatus.ON_LOAN
        await session.commit()
    campus = await chat_reader(harness, 831)
    await make_librarian(harness, campus, alliance.campus.id)
    far = await chat_reader(harness, 832)
    near = await chat_reader(harness, 833)
    await reserve_at(far, alliance.work.id, "Riverside Library")
    await reserve_at(near, alliance.work.id, "Campus Library")
    # The reader who picks up where the copy is comes first (hold_prefer_local_pickup).
    [reply] = await campus.send(f"/checkin {item.barcode}")
    assert "put it on the hold shelf for card" in (reply.text or "")
    riverside_hold, campus_hold = await holds_of(harness, alliance.work.id)
    assert campus_hold.status is HoldStatus.READY and campus_hold.pulled_at is not None
    assert riverside_hold.status is HoldStatus.QUEUED


async def test_missing_copy_that_no_hold_uses(harness: BotHarness) -> None:
    # A copy on the shelf that no hold uses, while another copy of the work circulates.
    alliance = await alliance_in(harness)
    item = await _campus_copy(harness, alliance.work.id)
    async with harness.app.sessionmaker() as session:
        await add_copy(session, alliance.work, alliance.city, "CITY-0001")
    campus = await chat_reader(harness, 841)
    await make_librarian(harness, campus, alliance.campus.id)
    [reply] = await campus.send(f"/missing {item.barcode}")
    # It said "Sorry, something went wrong" (an AssertionError in the handler).
    assert reply.text == (
        f"❓ copy {item.barcode} of The Dream of the Red Chamber is marked missing. "
        "No hold was waiting for it."
    )
    async with harness.app.sessionmaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None and stored.status is ItemStatus.MISSING


async def test_missing_last_copy_while_readers_queue_for_it(harness: BotHarness) -> None:
    # The last copy is out on loan when it is reported missing: no hold uses it, two queue.
    alliance = await alliance_in(harness)
    item = await _campus_copy(harness, alliance.work.id)
    async with harness.app.sessionmaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None
        stored.status = ItemStatus.ON_LOAN
        await session.commit()
    for user_id in (851, 852):
        reader = await chat_reader(harness, user_id)
        assert "in the queue" in await reserve_at(reader, alliance.work.id, "City Library")
    campus = await chat_reader(harness, 853)
    await make_librarian(harness, campus, alliance.campus.id)
    [reply] = await campus.send(f"/missing {item.barcode}")
    assert "is marked missing. It was the last copy" in (reply.text or "")
    holds = await holds_of(harness, alliance.work.id)
    assert [hold.status for hold in holds] == [HoldStatus.CANCELLED, HoldStatus.CANCELLED]
