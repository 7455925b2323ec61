"""My holds and its actions, forged callbacks, limits, works without copies, /card."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.models import (
    HoldStatus,
    Item,
    ItemStatus,
    PurchaseSuggestion,
    WorkIsbn,
    WorkWatch,
    utcnow,
)
from bot.services.catalogue_import.run import import_catalogue
from tests.conftest import HarnessFactory
from tests.factories import make_work
from tests.harness import BotHarness, inline_labels

from .chat import (
    alliance_in,
    chat_reader,
    deliver,
    holds_of,
    open_card,
    reader_row,
    reserve_at,
    tick,
)


async def test_my_holds_cancel_with_reason_and_forged_callbacks(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)
    owner = await chat_reader(harness, 731)
    intruder = await chat_reader(harness, 732)
    await reserve_at(owner, alliance.work.id, "Campus Library")
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.READY

    # Another reader's hold id, under every action, is refused and changes nothing.
    for action in ("ext", "pass", "cancel", "open", "way"):
        await intruder.forge(f"hd:{action}:{hold.id}")
        assert intruder.last_answer is not None
        assert intruder.last_answer["text"] == "That hold is not one of yours."
    await intruder.forge(f"hdc:{hold.id}:not_needed")
    assert intruder.last_answer is not None
    assert intruder.last_answer["text"] == "That hold is not one of yours."
    [stored] = await holds_of(harness, alliance.work.id)
    assert stored.status is HoldStatus.READY

    [overview] = await owner.send("📚 My holds")
    text = overview.text or ""
    assert "📚 Your holds (1 of 5):" in text
    assert "ready for pickup" in text and "Pickup: Campus Library" in text
    assert "Kept for you until" in text
    await owner.tap("1. Manage: The Dream of the Red Chamber")
    assert inline_labels(owner.last_bot_message()) == [
        "🚶 On my way",
        "➕ 2 days",
        "🔁 Pass it on",
        "✖️ Cancel the hold",
        "⬅️ My holds",
    ]
    await owner.tap("✖️ Cancel the hold")
    await owner.tap("I found it elsewhere")
    assert "is cancelled" in (owner.last_bot_message().text or "")
    [stored] = await holds_of(harness, alliance.work.id)
    assert stored.status is HoldStatus.CANCELLED and stored.reason == "found_elsewhere"
    async with harness.app.sessionmaker() as session:
        item = await session.scalar(select(Item).where(Item.work_id == alliance.work.id))
        assert item is not None and item.status is ItemStatus.AVAILABLE

    # The hold is cancelled now: its old buttons are refused with its state.
    await owner.forge(f"hd:ext:{hold.id}")
    assert owner.last_answer is not None
    assert owner.last_answer["text"] == "That hold is cancelled now, so this is not possible."
    await owner.forge(f"hdc:{hold.id}:other")
    assert owner.last_answer is not None
    assert owner.last_answer["text"] == "That hold is cancelled now, so this is not possible."
    await owner.forge("hd:ext:99999999999")
    assert owner.last_answer is not None
    assert owner.last_answer["text"] == "That hold is not one of yours."


async def test_extend_once_when_nobody_waits(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)
    owner = await chat_reader(harness, 741)
    await reserve_at(owner, alliance.work.id, "Campus Library")
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.ready_until is not None
    await owner.forge(f"hd:ext:{hold.id}")
    assert owner.last_answer is not None
    assert owner.last_answer["text"].startswith("Done: it is kept for you until")
    [extended] = await holds_of(harness, alliance.work.id)
    assert extended.ready_until is not None and extended.ready_until > hold.ready_until
    assert extended.extended
    await owner.forge(f"hd:ext:{hold.id}")
    assert owner.last_answer is not None
    assert owner.last_answer["text"] == "This hold has already been extended once."

    waiting = await chat_reader(harness, 742)
    other = await make_other(harness, alliance)
    await reserve_at(owner, other, "Campus Library")
    await reserve_at(waiting, other, "Campus Library")
    [ready, _queued] = await holds_of(harness, other)
    await owner.forge(f"hd:ext:{ready.id}")
    assert owner.last_answer is not None
    assert owner.last_answer["text"] == (
        "Other readers are waiting for this book, so it cannot be extended."
    )


async def make_other(harness: BotHarness, alliance: object) -> int:
    async with harness.app.sessionmaker() as session:
        from .conftest import Alliance

        assert isinstance(alliance, Alliance)
        work = await make_work(session, title="Journey to the West", libraries=(alliance.campus,))
        await session.commit()
        return work.id


async def test_limits_and_duplicates_are_refused_clearly(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(max_active_holds=1)
    alliance = await alliance_in(harness)
    other = await make_other(harness, alliance)
    reader = await chat_reader(harness, 751)
    await reserve_at(reader, alliance.work.id, "Campus Library")
    # Reserve again: the hold there is, not a picker whose every choice would be refused.
    await open_card(reader, alliance.work.id)
    await reader.tap("🔖 Reserve")
    shown = reader.last_bot_message()
    assert (shown.text or "").startswith("You already have a hold on this book:")
    assert "Pickup: Campus Library" in (shown.text or "")
    assert "✖️ Cancel the hold" in inline_labels(shown)
    # A picker from before the hold (a stale message) is still refused.
    await reader.forge(f"rsvp:{alliance.work.id}:{alliance.city.id}")
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "You already have a hold on this book. See “My holds”."
    assert len(await holds_of(harness, alliance.work.id)) == 1
    await reserve_at(reader, other, "City Library")
    assert reader.last_answer is not None
    # One hold is "1 active hold" (it said "1 active holds").
    assert reader.last_answer["text"] == (
        "You already have 1 active hold, as many as a reader may have. Collect or cancel it first."
    )
    assert len(await holds_of(harness, other)) == 0
    # A forged pickup that is no pickup point, and a forged work.
    await reader.forge(f"rsvp:{other}:99999")
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "That library does not hand out holds."


async def test_queue_suspend_change_pickup(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)
    first = await chat_reader(harness, 761)
    second = await chat_reader(harness, 762)
    third = await chat_reader(harness, 763)
    await reserve_at(first, alliance.work.id, "Campus Library")
    text = await reserve_at(second, alliance.work.id, "City Library")
    assert "number 1 in the queue" in text
    text = await reserve_at(third, alliance.work.id, "City Library")
    assert "number 2 in the queue" in text

    await second.send("📚 My holds")
    await second.tap("1. Manage: The Dream of the Red Chamber")
    await second.tap("📍 Change pickup library")
    labels = inline_labels(second.last_bot_message())
    await second.tap(next(label for label in labels if label.startswith("Riverside Library")))
    assert "Pickup: Riverside Library" in (second.last_bot_message().text or "")
    await second.tap("⏸ Suspend")
    until = (utcnow().astimezone(harness.app.settings.zone).date() + timedelta(days=7)).isoformat()
    await second.tap(f"Until {until}")
    assert f"suspended until {until}" in (second.last_bot_message().text or "")
    assert "(number 1 in the queue)" in (second.last_bot_message().text or "")

    # The copy comes back while the first in line is suspended: the next one gets it.
    [ready, suspended, next_in_line] = await holds_of(harness, alliance.work.id)
    await first.forge(f"hd:pass:{ready.id}")
    [_, suspended, next_in_line] = await holds_of(harness, alliance.work.id)
    assert suspended.status is HoldStatus.QUEUED and suspended.suspended_until is not None
    assert next_in_line.status is HoldStatus.IN_TRANSIT

    # A hold on its way cannot change pickup library.
    await third.forge(f"hd:pickup:{next_in_line.id}")
    assert third.last_answer is not None
    assert third.last_answer["text"] == (
        "That hold is on its way to your library now, so this is not possible."
    )

    # After the suspension the hold is active again, still first in the queue.
    report = await tick(harness, utcnow() + timedelta(days=8))
    assert report.reactivated == 1
    [_, resumed, _] = await holds_of(harness, alliance.work.id)
    assert resumed.suspended_until is None and resumed.status is HoldStatus.QUEUED


async def test_unfilled_hold_warned_then_expired(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(unfilled_hold_days=30)
    alliance = await alliance_in(harness)
    async with harness.app.sessionmaker() as session:
        item = await session.scalar(select(Item).where(Item.work_id == alliance.work.id))
        assert item is not None
        item.status = ItemStatus.ON_LOAN
        await session.commit()
    reader = await chat_reader(harness, 771)
    text = await reserve_at(reader, alliance.work.id, "Campus Library")
    assert "number 1 in the queue" in text
    reader.new_bot_messages()
    assert (await tick(harness, utcnow() + timedelta(days=22))).warned == 0
    warn_at = utcnow() + timedelta(days=24)
    assert (await tick(harness, warn_at)).warned == 1
    assert (await tick(harness, warn_at)).warned == 0
    await deliver(harness, warn_at)
    [warning] = reader.new_bot_messages()
    assert "will expire on" in (warning.text or "")
    assert "holds wait at most 30 days for a copy" in (warning.text or "")
    end = utcnow() + timedelta(days=31)
    assert (await tick(harness, end)).expired_unfilled == 1
    await deliver(harness, end)
    [expired] = reader.new_bot_messages()
    assert "no copy came free within 30 days" in (expired.text or "")
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.EXPIRED


async def test_no_copies_offers_suggestion_and_arrival_notice(
    harness_factory: HarnessFactory, tmp_path: Path
) -> None:
    harness = await harness_factory(hold_ready_digest_minutes=0)
    alliance = await alliance_in(harness)
    async with harness.app.sessionmaker() as session:
        lonely = await make_work(session, title="A Lonely Pamphlet")
        session.add(WorkIsbn(isbn="9780747532699", work_id=lonely.id))
        await session.commit()
    reader = await chat_reader(harness, 781)
    await open_card(reader, lonely.id)
    await reader.tap("🔖 Reserve")
    offer = reader.last_bot_message()
    assert "No library in the alliance has a copy of this book yet" in (offer.text or "")
    assert inline_labels(offer) == ["🔔 Tell me when it arrives", "🛒 Suggest a purchase"]
    await reader.tap("🔔 Tell me when it arrives")
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == (
        "I will tell you as soon as a library of the alliance has a copy."
    )
    await reader.tap("🔔 Tell me when it arrives")
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "You are already on the list for this book."
    await reader.tap("🛒 Suggest a purchase")
    assert reader.last_answer is not None
    assert reader.last_answer["text"].startswith("Thank you! Your purchase suggestion is saved.")
    async with harness.app.sessionmaker() as session:
        suggestion = await session.scalar(select(PurchaseSuggestion))
        assert suggestion is not None and suggestion.isbn == "9780747532699"

    # A library imports a copy: the watcher hears of it and can reserve straight away.
    path = tmp_path / "city.csv"
    path.write_text("title,isbn,barcode\nA Lonely Pamphlet,9780747532699,CITY-LP-1\n")
    report = await import_catalogue(harness.app.sessionmaker, alliance.city.code, path)
    assert report.items_created == 1
    assert (await tick(harness, utcnow())).watchers == 1
    await deliver(harness)
    [notice] = reader.new_bot_messages()
    assert "Good news: A Lonely Pamphlet has arrived" in (notice.text or "")
    assert inline_labels(notice) == ["🔖 Reserve"]
    async with harness.app.sessionmaker() as session:
        watch = await session.scalar(select(WorkWatch))
        assert watch is not None and watch.notified_at is not None
    await reader.tap("🔖 Reserve", message_id=notice.message_id)
    assert "City Library · on the shelf" in inline_labels(reader.last_bot_message())


async def test_card_shows_number_and_barcode(harness: BotHarness) -> None:
    reader = await chat_reader(harness, 791)
    [card] = await reader.send("/card")
    row = await reader_row(harness, reader)
    assert card.photo, "the card is an image"
    assert f"Your alliance card: {row.card_number}" in (card.caption or "")


async def test_extending_from_the_card_redraws_it(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)
    owner = await chat_reader(harness, 745)
    await reserve_at(owner, alliance.work.id, "Campus Library")
    await owner.send("📚 My holds")
    await owner.tap("1. Manage: The Dream of the Red Chamber")
    before = owner.last_bot_message().text or ""
    await owner.tap("➕ 2 days")
    [extended] = await holds_of(harness, alliance.work.id)
    assert extended.ready_until is not None
    card = owner.last_bot_message()
    until = extended.ready_until.astimezone(harness.app.settings.zone).strftime("%Y-%m-%d %H:%M")
    assert until in (card.text or "") and until not in before
    assert "➕ 2 days" not in inline_labels(card)
    assert "🚶 On my way" in inline_labels(card)
