"""End to end through the sandbox: an organiser publishes, a reader finds, joins and rates."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import DeliveryWorker
from bot.models import (
    AuditLog,
    Event,
    EventStatus,
    Feedback,
    Reader,
    Registration,
    Role,
    RoleGrant,
    utcnow,
)
from handlers.events.callbacks import CardAction, EventAction
from jobs.events import EventsTick
from tests.factories import make_district, make_library
from tests.harness import BotHarness, ChatUser, inline_labels, texts
from tests.outbox.conftest import FakeTime

ORGANISER_ID = 71001
READER_ID = 71002


async def _grant_organiser(session: AsyncSession, telegram_id: int) -> None:
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
    assert reader is not None
    session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
    await session.commit()


def _document(harness: BotHarness, user: ChatUser) -> bytes:
    documents = [m for m in user.chat() if m.document is not None]
    assert documents, "no document was sent"
    message = documents[-1]
    assert message.document is not None
    stored = harness.sandbox.file(message.document.file_id)
    assert stored is not None
    return stored.content


async def _deliver(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession], at: datetime
) -> None:
    worker = DeliveryWorker(
        sessionmaker, harness.bot, harness.app.i18n, harness.app.settings, timekeeper=FakeTime(at)
    )
    await worker.drain()


async def test_find_near_register_remind_check_in_rate_and_csv(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    district = await make_district(session, latitude=36.06, longitude=120.38)
    library = await make_library(
        session,
        district,
        name="海滨图书馆",
        name_en="Haibin Library",
        latitude=36.07,
        longitude=120.38,
    )
    far = await make_library(
        session, district, name_en="Far Library", latitude=37.5, longitude=121.9
    )
    await session.commit()
    organiser = harness.user(ORGANISER_ID, "Olga")
    await organiser.onboard()
    await _grant_organiser(session, ORGANISER_ID)

    # The organiser publishes an event starting in 20 minutes (check-in opens 30 minutes early).
    zone = harness.app.settings.zone
    starts = (utcnow() + timedelta(minutes=21)).astimezone(zone).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=2)
    await organiser.send("/newevent")
    await organiser.send("Poetry evening")
    await organiser.send("We read Li Bai aloud.")
    await organiser.tap("Book club")
    await organiser.tap("Everyone")
    await organiser.send(f"{starts:%Y-%m-%d %H:%M}")
    await organiser.send(f"{ends:%Y-%m-%d %H:%M}")
    await organiser.tap("Haibin Library")
    await organiser.send("10")
    await organiser.send("City Bookstore, Poetry Society")
    replies = await organiser.tap("Once")
    assert "Preview" in texts(replies)[-1]
    # The times as the card will show them.
    end_text = f"{ends:%H:%M}" if ends.date() == starts.date() else f"{ends:%Y-%m-%d %H:%M}"
    assert f"🕒 {starts:%Y-%m-%d %H:%M}–{end_text}" in texts(replies)[-1]
    async with sessionmaker() as check:
        assert await check.scalar(select(Event.id).where(Event.title == "Poetry evening")) is None
    await organiser.tap("✅ Publish")
    async with sessionmaker() as check:
        event = await check.scalar(select(Event).where(Event.title == "Poetry evening"))
        assert event is not None
        assert event.starts_at == starts and event.venue_library_id == library.id
        assert event.partners == ["City Bookstore", "Poetry Society"]
        assert await check.scalar(
            select(AuditLog.id).where(
                AuditLog.action == "event.publish", AuditLog.target_id == event.id
            )
        )
    assert far.id != library.id

    # A reader near the library finds it with "Near me" and registers.
    reader = harness.user(READER_ID, "Ren")
    await reader.onboard()
    await reader.share_location(36.061, 120.381)
    listing = await reader.send("🎉 Events")
    assert "Poetry evening" in texts(listing)[-1]
    await reader.tap("📍 Near me")
    near = reader.last_bot_message()
    assert "Poetry evening" in (near.text or "") and "km" in (near.text or "")
    await reader.tap(next(label for label in inline_labels(near) if "Poetry evening" in label))
    card = reader.last_bot_message().text or ""
    assert "Haibin Library" in card and "Olga" in card and "City Bookstore" in card
    assert f"{starts:%Y-%m-%d %H:%M}" in card and "10 of 10 places left" in card
    await reader.tap("✅ Register")
    assert reader.last_answer and "registered" in reader.last_answer["text"]
    calendar = Calendar.from_ical(_document(harness, reader))
    vevent = next(iter(calendar.walk("VEVENT")))
    assert vevent.decoded("dtstart") == starts
    assert "You are registered" in (reader.last_bot_message().text or "") or any(
        "You are registered" in (m.text or "") for m in reader.chat()
    )

    # The reminder comes once through the outbox, even if the job runs twice.
    tick = EventsTick(sessionmaker, harness.app.settings)
    assert (await tick.run())["reminders"] == 1
    assert (await tick.run())["reminders"] == 0
    await _deliver(harness, sessionmaker, utcnow())
    assert any("Reminder" in (m.text or "") for m in reader.new_bot_messages())

    # Check-in by the link.
    replies = await reader.send(f"/start ci_{event.checkin_token}")
    assert "checked in" in texts(replies)[-1]
    replies = await reader.send("/start ci_not-a-token")
    assert "not valid" in texts(replies)[-1]

    # After the event: the feedback prompt, a rating and a comment.
    after = event.ends_at + timedelta(minutes=5)
    assert (await EventsTick(sessionmaker, harness.app.settings, clock=lambda: after).run())[
        "feedback_prompts"
    ] == 1
    await _deliver(harness, sessionmaker, after)
    prompt = reader.new_bot_messages()[-1]
    assert "How was it" in (prompt.text or "")
    await reader.tap("5⭐", message_id=prompt.message_id)
    await reader.send("Lovely evening")
    async with sessionmaker() as check:
        feedback = await check.scalar(select(Feedback).where(Feedback.event_id == event.id))
        assert (
            feedback is not None and feedback.rating == 5 and feedback.comment == "Lovely evening"
        )

    # The organiser sees the reader in the CSV, marked attended, and the feedback summary.
    await organiser.send("/myevents")
    await organiser.tap(
        next(b for b in inline_labels(organiser.last_bot_message()) if "Poetry" in b)
    )
    card = organiser.last_bot_message()
    assert card.photo, "the organiser's card carries the check-in QR code"
    assert f"start=ci_{event.checkin_token}" in (card.caption or "")
    assert "1 attended" in (card.caption or "")
    await organiser.tap("📄 CSV")
    rows = list(csv.DictReader(io.StringIO(_document(harness, organiser).decode("utf-8-sig"))))
    assert [(row["name"], row["status"]) for row in rows] == [("Ren", "attended")]
    await organiser.tap("⭐ Feedback", message_id=None)
    assert "average 5.0" in (organiser.last_bot_message().text or "")


async def test_reader_cannot_manage_or_forge(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.factories import make_event, make_reader

    owner = await make_reader(session, roles=(Role.ORGANISER,))
    event = await make_event(session, organiser_id=owner.id, title="Owner's club")
    await session.commit()
    other = harness.user(71003, "Otto")
    await other.onboard()
    await _grant_organiser(session, 71003)
    await other.forge(f"oev:k:{event.id}")
    assert other.last_answer and "your own events" in other.last_answer["text"]
    await other.forge(f"oev:X:{event.id}")
    await other.forge(f"oed:{event.id}:title")
    async with sessionmaker() as check:
        stored = await check.get(Event, event.id)
        assert stored is not None and stored.status.value == "published"
        assert stored.title == "Owner's club"
    plain = harness.user(71004, "Pia")
    await plain.onboard()
    replies = await plain.send("/newevent")
    assert "only for event organisers" in texts(replies)[-1]
    assert list(await session.scalars(select(Registration))) == []


async def test_a_waitlisted_reader_accepts_an_offer_from_the_outbox(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.factories import make_event

    starts = (utcnow() + timedelta(hours=10)).replace(second=0, microsecond=0)
    event = await make_event(session, starts_at=starts, capacity=1, title="Small circle")
    await session.commit()
    first, second = harness.user(71011, "Ana"), harness.user(71012, "Ben")
    # Once the one place is taken, the card offers the waitlist by name.
    for user, label in ((first, "✅ Register"), (second, "⏳ Join the waitlist")):
        await user.onboard()
        await user.send(f"/start ev_{event.id}")
        await user.tap(label)
    assert second.last_answer and "number 1 on the waitlist" in second.last_answer["text"]
    assert "Full — 1 on the waitlist" in (second.last_bot_message().text or "")

    await first.tap("✖️ Cancel my registration")
    assert first.last_answer and "cancelled" in first.last_answer["text"]
    # Cancel from an older copy of the card: the event is there, the registration is not.
    await first.forge(EventAction(action=CardAction.CANCEL, event_id=event.id).pack())
    assert first.last_answer is not None
    assert first.last_answer["text"] == "You are not registered for this event."
    await _deliver(harness, sessionmaker, utcnow())
    offer = second.new_bot_messages()[-1]
    assert "A place has opened up" in (offer.text or "")
    await second.tap("Accept", message_id=offer.message_id)
    assert second.last_answer and "The place is yours" in second.last_answer["text"]
    assert second.chat()[-1].document is not None
    async with sessionmaker() as check:
        registrations = {
            r.reader_id: r
            for r in await check.scalars(
                select(Registration).where(Registration.event_id == event.id)
            )
        }
        ben = await check.scalar(select(Reader.id).where(Reader.telegram_id == 71012))
    assert ben is not None and registrations[ben].status.value == "confirmed"
    # The same offer cannot be answered twice.
    await second.forge(f"evo:{registrations[ben].id}:d")
    assert second.last_answer and "no longer open" in second.last_answer["text"]


async def test_register_on_a_cancelled_event_says_so(
    harness: BotHarness, session: AsyncSession
) -> None:
    from tests.factories import make_event

    event = await make_event(session, starts_at=utcnow() + timedelta(days=2), title="Gone")
    await session.commit()
    reader = harness.user(71021, "Cai")
    await reader.onboard()
    await reader.send(f"/start ev_{event.id}")
    event.status = EventStatus.CANCELLED
    await session.commit()
    await reader.tap("✅ Register")
    assert reader.last_answer is not None
    assert reader.last_answer["text"] == "This event has been cancelled."
    assert list(await session.scalars(select(Registration))) == []


async def test_event_links_that_are_malformed_or_gone_say_which(harness: BotHarness) -> None:
    reader = harness.user(71031, "Dai")
    await reader.onboard()
    [malformed] = await reader.send("/start ev_abc")
    assert malformed.text == "That link is not valid or has expired. Here is the main menu instead."
    [gone] = await reader.send("/start ev_999999")
    assert gone.text == "This event no longer exists."
