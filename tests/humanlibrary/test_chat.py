"""The human library in chat: an organiser shelves a living book, readers book, wait and swap."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import LivingBook, LivingBookSlot, LivingBookWait, utcnow
from handlers.humanlibrary.callbacks import HumanLibraryData, ShelfAction
from tests.factories import make_event
from tests.harness import BotHarness, ChatUser, inline_labels, texts
from tests.humanlibrary.helpers import deliver, grant_organiser, reader_of


def _calendar(harness: BotHarness, user: ChatUser) -> Calendar:
    documents = [m for m in user.chat() if m.document is not None]
    assert documents, "no calendar file was sent"
    document = documents[-1].document
    assert document is not None and document.file_name.endswith(".ics")
    stored = harness.sandbox.file(document.file_id)
    assert stored is not None
    return Calendar.from_ical(stored.content)


async def _slots(maker: async_sessionmaker[AsyncSession]) -> list[LivingBookSlot]:
    async with maker() as session:
        return list(
            await session.scalars(select(LivingBookSlot).order_by(LivingBookSlot.starts_at))
        )


async def test_shelve_book_wait_refuse_a_forgery_and_hand_on(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(81001, "Olga")
    await organiser.onboard()
    boss = await grant_organiser(session, 81001)
    living = harness.user(81003, "Lin", username="linsea")
    await living.onboard()
    zone = harness.app.settings.zone
    starts = (
        (utcnow() + timedelta(days=2)).astimezone(zone).replace(minute=0, second=0, microsecond=0)
    )
    event = await make_event(
        session,
        title="Human library night",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        organiser_id=boss.id,
    )
    await session.commit()

    # A wrong length is named, and nothing is shelved.
    replies = await organiser.send(f"/livingbook {event.id} 50\nLin\nForty years at sea")
    assert "20 to 40 minutes" in texts(replies)[-1]
    replies = await organiser.send("/livingbook")
    assert "/livingbook EVENT_ID MINUTES" in texts(replies)[-1]
    async with sessionmaker() as check:
        assert await check.scalar(select(LivingBook.id)) is None
    replies = await organiser.send(
        f"/livingbook {event.id} 30 @linsea\nLin\nForty years at sea\nStories from ships."
    )
    assert "on the shelf with 2 slots" in texts(replies)[-1]
    first, second = await _slots(sessionmaker)

    # A reader books the first slot and gets its calendar file.
    ann = harness.user(81002, "Ann")
    await ann.onboard()
    listing = await ann.send("/humanlibrary")
    assert "Human library night" in texts(listing)[-1]
    await ann.tap("📖 Lin — Forty years at sea (2 free)")
    card = ann.last_bot_message().text or ""
    assert "Stories from ships." in card and "Pick a free slot" in card
    await ann.tap(f"{first.starts_at.astimezone(zone):%H:%M}")
    assert ann.last_answer and ann.last_answer["text"] == "Booked!"
    vevent = next(iter(_calendar(harness, ann).walk("VEVENT")))
    assert vevent.decoded("dtstart") == first.starts_at.astimezone(zone)
    assert "Lin" in str(vevent.get("summary"))

    # Another takes the last one; a third waits.
    ben = harness.user(81004, "Ben")
    await ben.onboard()
    await ben.send("/humanlibrary")
    await ben.tap("📖 Lin — Forty years at sea (1 free)")
    await ben.tap(f"{second.starts_at.astimezone(zone):%H:%M}")
    cai = harness.user(81005, "Cai")
    await cai.onboard()
    await cai.send("/humanlibrary")
    await cai.tap("📖 Lin — Forty years at sea (0 free)")
    assert "Every slot is booked; 0 waiting." in (cai.last_bot_message().text or "")
    await cai.tap("⏳ Join the waitlist")
    assert cai.last_answer and "number 1 on the waitlist" in cai.last_answer["text"]

    # A forged "give back" for Ann's slot is refused, and Ann keeps it.
    await cai.forge(HumanLibraryData(action=ShelfAction.GIVE_BACK, item=first.id).pack())
    assert cai.last_answer and "not yours" in cai.last_answer["text"]
    assert cai.last_answer["show_alert"]
    await cai.forge(HumanLibraryData(action=ShelfAction.TAKE, item=first.id).pack())
    assert cai.last_answer and "moment before you" in cai.last_answer["text"]
    assert (await _slots(sessionmaker))[0].reader_id == (await reader_of(sessionmaker, 81002)).id

    # Ann gives it back: it goes to Cai, who is told with the calendar file.
    await ann.send("/humanlibrary")
    await ann.tap("📖 Lin — Forty years at sea (0 free)")
    await ann.tap("↩️ Give back my slot")
    assert ann.last_answer and "given back" in ann.last_answer["text"]
    cai_reader = await reader_of(sessionmaker, 81005)
    assert (await _slots(sessionmaker))[0].reader_id == cai_reader.id
    async with sessionmaker() as check:
        assert await check.scalar(select(LivingBookWait.id)) is None
    await deliver(harness, sessionmaker, utcnow())
    assert any("A slot opened up and it is yours" in t for t in texts(cai.chat())), texts(
        cai.chat()
    )
    assert _calendar(harness, cai).walk("VEVENT")
    told = texts(living.chat())
    assert any("Ann booked a conversation" in t for t in told), told
    assert any("Ann gave back" in t for t in told)

    # The living book sees who comes when.
    await living.send("/humanlibrary")
    await living.tap("🗓 My schedule as a living book")
    schedule = living.last_bot_message().text or ""
    assert schedule.index("Cai") < schedule.index("Ben")


async def test_a_chinese_reader_books_and_rates(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.humanlibrary.helpers import event_with_book

    zone = harness.app.settings.zone
    _event, _book, slots = await event_with_book(session, minutes=20, hours=1)
    await session.commit()
    mei = harness.user(81010, "梅", language_code="zh")
    await mei.onboard("zh")
    listing = await mei.send("/humanlibrary")
    assert "真人图书馆" in texts(listing)[-1]
    await mei.tap(next(label for label in inline_labels(listing[-1]) if "3 个空闲" in label))
    assert "请选择一个空闲时段" in (mei.last_bot_message().text or "")
    await mei.tap(f"{slots[1].starts_at.astimezone(zone):%H:%M}")
    assert mei.last_answer and mei.last_answer["text"] == "预约成功！"
    assert any("已预约" in t for t in texts(mei.chat()))
    # The rating prompt comes after the conversation; a second tap changes nothing.
    await deliver(harness, sessionmaker, slots[1].ends_at + timedelta(minutes=1))
    prompt = mei.last_bot_message()
    assert "感谢您" in (prompt.text or "")
    async with sessionmaker() as check:
        slot = await check.get(LivingBookSlot, slots[1].id)
        assert slot is not None
        slot.ends_at = utcnow() - timedelta(minutes=1)
        slot.starts_at = slot.ends_at - timedelta(minutes=20)
        await check.commit()
    await mei.tap("4⭐", message_id=prompt.message_id)
    assert mei.last_answer and mei.last_answer["text"] == "感谢您的反馈！"
