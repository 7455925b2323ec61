"""The life of a hold through the real dispatcher, the outbox worker and the holds job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import (
    AuditLog,
    HoldStatus,
    Item,
    ItemStatus,
    Notification,
    NotificationStatus,
    utcnow,
)
from bot.notices.intents import read_notice
from tests.conftest import HarnessFactory
from tests.harness import BotHarness, ChatUser, inline_labels, texts

from .chat import (
    alliance_in,
    chat_reader,
    deliver,
    holds_of,
    make_librarian,
    reader_row,
    rendered,
    reserve_at,
    tick,
)
from .conftest import Alliance, add_copy


async def test_reserve_transit_arrive_ready_collect(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(hold_ready_digest_minutes=0)
    alliance = await alliance_in(harness)  # the one copy is at Campus
    reader = await chat_reader(harness, 701, location=(31.2001, 121.4001))  # beside City

    await reader.send(f"/start wk_{alliance.work.id}")
    await reader.tap("🔖 Reserve")
    choices = reader.last_bot_message()
    assert "Where would you like to pick up" in (choices.text or "")
    labels = inline_labels(choices)
    # Nearest first: City (here), Campus (5 km, copy on the shelf), Riverside (30 km).
    assert labels[0].startswith("City Library · 10 m · ")
    assert labels[0].endswith(" days transit")
    assert labels[1].startswith("Campus Library · 5.0 km · on the shelf")
    assert labels[2].startswith("Riverside Library · ")
    assert choices.reply_markup is not None
    first = choices.reply_markup.inline_keyboard[0][0].callback_data or ""
    assert first.startswith("rsvp:")

    await reader.tap(labels[0])
    confirmation = reader.last_bot_message().text or ""
    assert "a copy of The Dream of the Red Chamber is coming from Campus Library" in confirmation
    assert "to City Library — about 2 days" in confirmation
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.IN_TRANSIT

    assert await deliver(harness) == 1
    [notice] = reader.new_bot_messages()
    assert (notice.text or "").startswith("🚚 The Dream of the Red Chamber is on its way to City")

    # The Campus desk sees the copy on its pull list and sends it; City receives it.
    campus = await chat_reader(harness, 702)
    await make_librarian(harness, campus, alliance.campus.id)
    async with harness.app.sessionmaker() as session:
        item = await session.scalar(select(Item).where(Item.work_id == alliance.work.id))
        assert item is not None
    [pull] = await campus.send("/pulllist")
    assert item.barcode in (pull.text or "") and "send to City Library" in (pull.text or "")
    [sent] = await campus.send(f"/checkin {item.barcode}")
    assert f"send it to City Library for hold #{hold.id}" in (sent.text or "")
    [empty] = await campus.send("/pulllist")
    assert "The pull list is empty" in (empty.text or "")

    city = await chat_reader(harness, 703)
    await make_librarian(harness, city, alliance.city.id)
    [arrived] = await city.send(f"/arrived {item.barcode}")
    owner = await reader_row(harness, reader)
    assert f"hold #{hold.id} is ready for card {owner.card_number}" in (arrived.text or "")

    assert await deliver(harness) == 1
    ready, location = reader.new_bot_messages()
    text = ready.text or ""
    assert text.startswith("📗 Your book is ready for pickup:")
    assert "🏛 City Library" in text and "📍 1 Market Street" in text
    assert "🕘 Mon–Sun 09:00–21:00" in text
    assert "(7 opening days)" in text
    assert inline_labels(ready) == ["🚶 On my way", "➕ 2 days", "🔁 Pass it on"]
    assert location.location is not None
    assert round(location.location.latitude, 3) == 31.2

    await reader.tap("🚶 On my way", message_id=ready.message_id)
    assert reader.last_answer is not None
    assert "See you at City Library" in reader.last_answer["text"]

    [handed] = await city.send(f"/collected {owner.card_number}")
    assert f"handed to card {owner.card_number}: hold #{hold.id} is collected" in (
        handed.text or ""
    )
    [hold] = await holds_of(harness, alliance.work.id)
    assert hold.status is HoldStatus.COLLECTED
    async with harness.app.sessionmaker() as session:
        stored = await session.get(Item, item.id)
        assert stored is not None and stored.status is ItemStatus.ON_LOAN
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["holds.checkin", "holds.arrived", "holds.collected"]


async def test_ready_expires_and_passes_to_the_next_reader(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(hold_ready_digest_minutes=0)
    alliance = await alliance_in(harness)
    async with harness.app.sessionmaker() as session:
        await add_copy(session, alliance.work, alliance.city, "CITY-0001")
        # Only the City copy circulates in this story.
        campus_copy = await session.scalar(
            select(Item).where(Item.library_id == alliance.campus.id)
        )
        assert campus_copy is not None
        campus_copy.status = ItemStatus.ON_LOAN
        await session.commit()
    first = await chat_reader(harness, 711)
    second = await chat_reader(harness, 712)
    confirmation = await reserve_at(first, alliance.work.id, "City Library")
    assert "is on the shelf at City Library and is kept for you until" in confirmation
    confirmation = await reserve_at(second, alliance.work.id, "City Library")
    assert "you are number 1 in the queue" in confirmation
    assert "Estimated wait: about 3 weeks" in confirmation

    assert await deliver(harness) == 1  # the ready notice (its text, then the map location)
    first.new_bot_messages()
    [mine, theirs] = await holds_of(harness, alliance.work.id)
    assert mine.status is HoldStatus.READY and mine.ready_until is not None

    # Two days before ready-until: a reminder, once.
    before = mine.ready_until - timedelta(days=1)
    assert (await tick(harness, before)).reminded == 1
    assert (await tick(harness, before)).reminded == 0
    await deliver(harness, before)
    [reminder] = first.new_bot_messages()
    assert (reminder.text or "").startswith("⏰ Reminder: The Dream of the Red Chamber")

    later = mine.ready_until + timedelta(minutes=1)
    report = await tick(harness, later)
    assert report.expired_ready == 1
    await deliver(harness, later)
    [expired] = first.new_bot_messages()
    assert "has expired: it waited for you at City Library" in (expired.text or "")
    ready = [m for m in second.new_bot_messages() if m.text]
    assert texts(ready)[0].startswith("📗 Your book is ready for pickup:")
    [mine, theirs] = await holds_of(harness, alliance.work.id)
    assert mine.status is HoldStatus.EXPIRED and mine.item_id is None
    assert theirs.status is HoldStatus.READY and theirs.item_id is not None


async def test_several_ready_the_same_day_make_one_notice(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(hold_ready_digest_minutes=5, hold_shelf_days=3)
    await _two_ready(harness, 721)
    async with harness.app.sessionmaker() as session:
        rows = list(
            await session.scalars(select(Notification).where(Notification.kind == "hold.ready"))
        )
    assert len(rows) == 1
    en, zh = rendered(harness, rows[0], "en"), rendered(harness, rows[0], "zh")
    assert "2 of your books are ready for pickup" in en
    # The pickup period in the text is the configured one, in both languages.
    assert en.count("(3 opening days)") == 2
    assert "（3 个开馆日）" in zh
    # Opening hours in Chinese day names for Chinese readers, as stored for the others.
    assert "🕘 周一至周五 08:00-22:00" in zh
    assert "🕘 Mon–Fri 08:00–22:00" in en
    assert len(read_notice(rows[0].payload).holds) == 2  # type: ignore[union-attr]
    assert rows[0].not_before > utcnow() + timedelta(minutes=4)


async def test_a_waiting_ready_notice_follows_the_hold(harness_factory: HarnessFactory) -> None:
    # The notice waits five minutes for others to join it; what happens meanwhile shows.
    harness = await harness_factory(hold_ready_digest_minutes=5)
    alliance, other_id, reader = await _two_ready(harness, 725)
    async with harness.app.sessionmaker() as session:
        from tests.factories import make_work

        third = await make_work(session, title="Water Margin", libraries=(alliance.campus,))
        await session.commit()
    [first, second] = [
        *await holds_of(harness, alliance.work.id),
        *await holds_of(harness, other_id),
    ]

    async def pending() -> list[Notification]:
        async with harness.app.sessionmaker() as session:
            return list(
                await session.scalars(
                    select(Notification).where(
                        Notification.kind == "hold.ready",
                        Notification.status == NotificationStatus.PENDING,
                    )
                )
            )

    # Extending one: the waiting notice shows its new date.
    await reader.forge(f"hd:ext:{first.id}")
    [extended] = await holds_of(harness, alliance.work.id)
    assert extended.ready_until is not None
    [notice] = await pending()
    new_date = extended.ready_until.astimezone(harness.app.settings.zone).strftime("%Y-%m-%d %H:%M")
    assert f"Kept for you until {new_date}" in rendered(harness, notice, "en")
    # Cancelling it: the notice is about the other book only.
    await reader.forge(f"hd:cancel:{first.id}")
    await reader.tap("I found it elsewhere")
    [notice] = await pending()
    assert read_notice(notice.payload).hold_ids == [second.id]  # type: ignore[union-attr]
    assert "Journey to the West" in rendered(harness, notice, "en")
    assert "Dream of the Red Chamber" not in rendered(harness, notice, "en")
    # Collected at the desk before the notice went out: nothing is sent at all.
    desk = await chat_reader(harness, 726)
    await make_librarian(harness, desk, alliance.campus.id)
    owner = await reader_row(harness, reader)
    await desk.send(f"/collected {owner.card_number}")
    assert await pending() == []
    reader.new_bot_messages()
    assert await deliver(harness, at=utcnow() + timedelta(minutes=10)) == 0
    assert reader.new_bot_messages() == []

    # A hold ready later gets a notice of its own, as before.
    await reserve_at(reader, third.id, "Campus Library")
    [notice] = await pending()
    assert "Water Margin" in rendered(harness, notice, "en")


async def test_extending_under_a_notice_of_two_books_keeps_both_in_view(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(hold_ready_digest_minutes=5)
    _alliance, _other, reader = await _two_ready(harness, 727)
    reader.new_bot_messages()
    assert await deliver(harness, at=utcnow() + timedelta(minutes=10)) == 1
    notice = reader.new_bot_messages()[0]
    assert "2 of your books are ready for pickup" in (notice.text or "")
    await reader.tap("1 · ➕ 2 days", message_id=notice.message_id)
    assert reader.last_answer is not None
    assert reader.last_answer["text"].startswith("Done: it is kept for you until")
    [redrawn] = [m for m in reader.chat() if m.message_id == notice.message_id]
    assert "2 of your books are ready for pickup" in (redrawn.text or "")
    labels = inline_labels(redrawn)
    assert "1 · ➕ 2 days" not in labels
    assert {"1 · 🚶 On my way", "2 · ➕ 2 days", "2 · 🔁 Pass it on"} <= set(labels)


async def _two_ready(harness: BotHarness, user_id: int) -> tuple[Alliance, int, ChatUser]:
    """A reader with two books ready at Campus while their notice waits for the digest."""
    alliance = await alliance_in(harness)
    async with harness.app.sessionmaker() as session:
        from tests.factories import make_work

        other = await make_work(session, title="Journey to the West", libraries=(alliance.campus,))
        await session.commit()
    reader = await chat_reader(harness, user_id)
    await reserve_at(reader, alliance.work.id, "Campus Library")
    await reserve_at(reader, other.id, "Campus Library")
    return alliance, other.id, reader
