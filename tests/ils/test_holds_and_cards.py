"""Library cards linked from /card, holds placed in the library's system, and the ILS job."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from bot.models import (
    Hold,
    HoldStatus,
    IlsHoldRelay,
    IlsPatronLink,
    Item,
    ItemStatus,
    Reader,
    RelayStatus,
    utcnow,
)
from bot.services.ils.cards import link_card
from bot.services.privacy import export_reader
from jobs.ils import IlsJob
from sandbox.library_system import LibrarySystem, Patron
from tests.conftest import HarnessFactory
from tests.harness import BotHarness, ChatUser, inline_labels
from tests.holds.chat import chat_reader, deliver, make_librarian, reader_row, reserve_at
from tests.ils.conftest import PASSWORD, Shelf, build_shelf

CARD, PIN = "P1001", "4321"


async def _setup(
    harness_factory: HarnessFactory, system: LibrarySystem, **overrides: object
) -> tuple[BotHarness, Shelf, IlsJob]:
    harness = await harness_factory(hold_ready_digest_minutes=0, ils_cache_s=0, **overrides)
    async with harness.app.sessionmaker() as session:
        shelf = await build_shelf(session, system)
    system.patrons[CARD] = Patron(pin=PIN, name="Ann Reader")
    system.patrons["P2002"] = Patron(pin="1111", name="Blocked", blocked=True)
    system.patrons["P3003"] = Patron(pin="2222", name="Expired", expired=True)
    job = IlsJob(harness.app.settings, harness.app.sessionmaker, harness.app.ils)
    return harness, shelf, job


async def _link(harness: BotHarness, user: ChatUser, shelf: Shelf) -> None:
    reader = await reader_row(harness, user)
    async with harness.app.sessionmaker() as session:
        outcome = await link_card(session, harness.app.ils, reader, shelf.city.id, CARD, PIN)
    assert outcome.result.value == "linked"


async def _try_link(user: ChatUser, card: str, pin: str) -> str:
    await user.send("/card")
    await user.tap("🔗 Link a member library's card")
    assert inline_labels(user.last_bot_message())[0] == "City Library"
    await user.tap("City Library")
    assert "Send the number of your card" in (user.last_bot_message().text or "")
    [ask_pin] = await user.send(card)
    assert "never keep it" in (ask_pin.text or "")
    [answer] = await user.send(pin)
    # The PIN does not stay in the chat.
    assert all(pin != (message.text or "") for message in user.chat())
    return answer.text or ""


async def test_link_a_card_blocked_expired_wrong_and_rate_limited(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness, _shelf, _job = await _setup(
        harness_factory, library_system, ils_card_attempts_per_hour=4
    )
    try:
        user = await chat_reader(harness, 811)
        said = await _try_link(user, CARD, "0000")
        assert said.startswith("The card number or the PIN is not right, says City Library")
        said = await _try_link(user, "P2002", "1111")
        assert said.startswith("City Library has blocked this card, so it cannot be linked.")
        said = await _try_link(user, "P3003", "2222")
        assert said.startswith("This card at City Library has expired (Card expired).")
        said = await _try_link(user, CARD, PIN)
        assert said.startswith("✅ Your card at City Library is linked.")
        said = await _try_link(user, CARD, PIN)
        assert said.startswith("Too many attempts to link a card in the last hour.")
        async with harness.app.sessionmaker() as session:
            links = list(await session.scalars(select(IlsPatronLink)))
        assert [(link.card_number, link.library_id) for link in links] == [(CARD, _shelf.city.id)]
        # Only the card number is kept: no column holds the PIN.
        assert set(IlsPatronLink.__table__.columns.keys()) == {
            "id",
            "reader_id",
            "library_id",
            "card_number",
            "created_at",
            "updated_at",
        }
        await user.send("/card")
        await user.tap("🔗 Link a member library's card")
        assert "Linked already:\n• City Library: P1001" in (user.last_bot_message().text or "")
        await user.tap("✖️ Unlink City Library")
        assert user.last_answer is not None and user.last_answer["text"] == "The card is unlinked."
    finally:
        await harness.app.ils.close()


async def test_a_hold_is_placed_in_the_library_system_and_follows_the_desk(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness, shelf, job = await _setup(harness_factory, library_system)
    try:
        user = await chat_reader(harness, 812)
        await _link(harness, user, shelf)
        said = await reserve_at(user, shelf.work.id, "City Library")
        assert "on the shelf at City Library" in said
        assert "📡 The hold is also in City Library's own system" in said
        first, second = shelf.city_copies
        assert library_system.copies[first].holds == [CARD]
        assert library_system.pickups[first] == "CITY"

        # The desk's pull list reads the copy's status in the library's own system.
        desk = await chat_reader(harness, 815)
        await make_librarian(harness, desk, shelf.city.id)
        [pull] = await desk.send("/pulllist")
        assert (
            f"{first} · 紅樓夢 · Hong lou meng → hold shelf here · 📡 library system: available"
            in (pull.text or "")
        )

        # Lent to someone else at the desk before it was pulled: the pull list shows it, the
        # hold takes the other copy, which the next run places in the library's system too.
        library_system.check_out(first)
        [pull] = await desk.send("/pulllist")
        assert "📡 library system: on loan" in (pull.text or "")
        report = await job.tick()
        assert report.retargeted == 1
        async with harness.app.sessionmaker() as session:
            hold = await session.scalar(select(Hold))
            assert hold is not None and hold.status is HoldStatus.READY
            item = await session.get(Item, hold.item_id)
            assert item is not None and item.barcode == second
            lent = await session.scalar(select(Item).where(Item.barcode == first))
            assert lent is not None and lent.status is ItemStatus.ON_LOAN
        assert (await job.tick()).relayed == 1
        assert library_system.copies[second].holds == [CARD]
        [taken] = await desk.send(f"/checkin {second}")
        assert (taken.text or "").endswith("📡 library system: available")
        # The first copy's hold in the library's system was withdrawn when the hold moved on.
        assert library_system.copies[first].holds == []
        async with harness.app.sessionmaker() as session:
            statuses = sorted(r.status for r in await session.scalars(select(IlsHoldRelay)))
        assert statuses == [RelayStatus.CANCELLED, RelayStatus.PLACED]
    finally:
        await harness.app.ils.close()


async def test_a_check_in_at_the_library_fills_the_queued_hold_and_the_reader_is_told(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness, shelf, job = await _setup(harness_factory, library_system)
    try:
        async with harness.app.sessionmaker() as session:
            await session.execute(update(Item).values(status=ItemStatus.ON_LOAN))
            await session.commit()
        for barcode in shelf.city_copies:
            library_system.check_out(barcode)
        user = await chat_reader(harness, 813)
        said = await reserve_at(user, shelf.work.id, "City Library")
        assert "📡" not in said  # queued: no copy yet, nothing to place
        await deliver(harness)
        user.new_bot_messages()

        # The library system stops: the job tells nothing and loses nothing.
        library_system.stop()
        assert (await job.tick()).checked_in == 0
        library_system.start()
        library_system.check_in(shelf.city_copies[1])
        report = await job.tick()
        assert report.checked_in == 1
        async with harness.app.sessionmaker() as session:
            hold = await session.scalar(select(Hold))
            assert hold is not None and hold.status is HoldStatus.READY
        assert await deliver(harness) == 1
        told = "\n".join(message.text or "" for message in user.new_bot_messages())
        assert "City Library" in told and "ready" in told.lower()
    finally:
        await harness.app.ils.close()


async def test_a_hold_placed_while_the_system_is_down_is_passed_on_later(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness, shelf, job = await _setup(harness_factory, library_system)
    try:
        user = await chat_reader(harness, 814, language="zh")
        await _link(harness, user, shelf)
        library_system.stop()
        await user.send(f"/start wk_{shelf.work.id}")
        await user.tap("🔖 预约")
        label = next(t for t in inline_labels(user.last_bot_message()) if t.startswith("市图书馆"))
        await user.tap(label)
        said = user.last_bot_message().text or ""
        assert "📡 市图书馆自己的系统暂时没有响应。你的预约已保存" in said
        async with harness.app.sessionmaker() as session:
            [relay] = list(await session.scalars(select(IlsHoldRelay)))
        assert relay.status is RelayStatus.PENDING
        library_system.start()
        harness.app.ils.links.clear()  # past the breaker's cool-down
        assert (await job.tick()).relayed == 1
        async with harness.app.sessionmaker() as session:
            [relay] = list(await session.scalars(select(IlsHoldRelay)))
            reader = await session.scalar(select(Reader).where(Reader.telegram_id == 814))
        assert relay.status is RelayStatus.PLACED and reader is not None
        assert library_system.copies[shelf.city_copies[0]].holds == [CARD]
    finally:
        await harness.app.ils.close()


async def test_mydata_has_the_linked_card_and_never_the_systems_password(
    harness_factory: HarnessFactory, library_system: LibrarySystem
) -> None:
    harness, shelf, _job = await _setup(harness_factory, library_system)
    try:
        user = await chat_reader(harness, 816)
        await _link(harness, user, shelf)
        reader = await reader_row(harness, user)
        async with harness.app.sessionmaker() as session:
            exported = json.dumps(await export_reader(session, reader, utcnow()))
        assert CARD in exported and PIN not in exported
        assert PASSWORD not in exported and "selfcheck" not in exported
    finally:
        await harness.app.ils.close()
