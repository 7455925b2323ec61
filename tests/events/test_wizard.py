"""The /newevent wizard: clear messages for bad input, nothing stored before publish; series."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    AuditLog,
    Event,
    EventSeries,
    Reader,
    Registration,
    RegistrationStatus,
    Role,
    RoleGrant,
    utcnow,
)
from bot.services.errors import InvalidInputError
from bot.services.events import registration
from bot.services.events.drafts import check_description
from tests.factories import make_event, make_library, make_reader
from tests.harness import BotHarness, ChatUser, inline_labels, texts


async def _organiser(harness: BotHarness, session: AsyncSession, telegram_id: int) -> ChatUser:
    user = harness.user(telegram_id, "Olga")
    await user.onboard()
    reader = await session.scalar(select(Reader).where(Reader.telegram_id == telegram_id))
    assert reader is not None
    session.add(RoleGrant(reader_id=reader.id, role=Role.ORGANISER))
    await session.commit()
    return user


async def _counts(maker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with maker() as session:
        events_count = await session.scalar(select(func.count()).select_from(Event))
        series_count = await session.scalar(select(func.count()).select_from(EventSeries))
        return events_count or 0, series_count or 0


async def test_bad_input_gets_clear_messages_and_nothing_is_stored(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_library(session, name_en="Harbour Library")
    await session.commit()
    organiser = await _organiser(harness, session, 73001)
    zone = harness.app.settings.zone

    # A button of a step not reached yet (a forged or stale callback) is refused.
    await organiser.send("/newevent")
    await organiser.forge("nev:publish:")
    assert organiser.last_answer and "out of date" in organiser.last_answer["text"]

    assert "1 to 200" in texts(await organiser.send("T" * 201))[-1]
    await organiser.send("Classics night")
    # A 10,000-character description: the service refuses it whole, and in chat it arrives
    # split by the client into 4,096-character messages, each refused with its length.
    description = "长" * 10_000
    with pytest.raises(InvalidInputError):
        check_description(description)
    for start in (0, 4096):
        reply = texts(await organiser.send(description[start : start + 4096]))[-1]
        assert "1 to 2000 characters; yours has 4096" in reply
    assert "kind of event" in texts(await organiser.send("We read the classics."))[-1]
    await organiser.tap("Classics reading")
    await organiser.tap("Adults")
    assert "could not read" in texts(await organiser.send("next friday evening"))[-1]
    assert "could not read" in texts(await organiser.send("2027-13-45 25:00"))[-1]
    assert "already passed" in texts(await organiser.send("2020-01-01 10:00"))[-1]
    starts = (
        (utcnow() + timedelta(days=3))
        .astimezone(zone)
        .replace(hour=19, minute=0, second=0, microsecond=0)
    )
    await organiser.send(f"{starts:%Y-%m-%d %H:%M}")
    assert "could not read" in texts(await organiser.send("garbage"))[-1]
    assert "after the start" in texts(await organiser.send("18:00"))[-1]
    await organiser.send("21:00")
    await organiser.tap("📍 Another place")
    await organiser.send("Lakeside pavilion")
    assert "send a location" in texts(await organiser.send("by the lake"))[-1]
    await organiser.share_location(36.05, 120.35)
    for bad in ("0", "-3", "ten", "1.5", "100001", "99999999999999999999"):
        assert "a whole number from 1 to 100,000" in texts(await organiser.send(bad))[-1]
    await organiser.send("25")
    assert "Up to 10 partners" in texts(await organiser.send(",".join(["p"] * 11)))[-1]
    await organiser.tap("Skip")
    await organiser.tap("Weekly")
    assert "from 2 to 12" in texts(await organiser.send("99"))[-1]
    preview = texts(await organiser.send("3"))[-1]
    assert "Preview" in preview and "Lakeside pavilion" in preview
    assert await _counts(sessionmaker) == (0, 0)
    await organiser.tap("✖️ Cancel")
    assert "Nothing was saved" in (organiser.last_bot_message().text or "")
    assert await _counts(sessionmaker) == (0, 0)
    # After cancelling, the old Publish button does nothing.
    await organiser.forge("nev:publish:")
    assert await _counts(sessionmaker) == (0, 0)


async def test_a_weekly_series_and_registering_for_all_sessions(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_library(session, name_en="Harbour Library")
    await session.commit()
    organiser = await _organiser(harness, session, 73002)
    zone = harness.app.settings.zone
    starts = (
        (utcnow() + timedelta(days=2))
        .astimezone(zone)
        .replace(hour=18, minute=30, second=0, microsecond=0)
    )
    await organiser.send("/newevent")
    for text in ("Young readers' circle", "Stories for children."):
        await organiser.send(text)
    await organiser.tap("Book club")
    await organiser.tap("Children")
    await organiser.send(f"{starts:%Y-%m-%d %H:%M}")
    await organiser.send("19:30")
    await organiser.tap("Harbour Library")
    await organiser.send("2")
    await organiser.send("Harbour School")
    await organiser.tap("Weekly")
    await organiser.send("3")
    await organiser.tap("✅ Publish")
    assert any("3 sessions" in t for t in texts(organiser.chat()))
    async with sessionmaker() as check:
        sessions = list(await check.scalars(select(Event).order_by(Event.starts_at)))
        assert len(sessions) == 3 and len({e.series_id for e in sessions}) == 1
        assert [e.starts_at.astimezone(zone) for e in sessions] == [
            starts + timedelta(weeks=n) for n in range(3)
        ]
        assert (
            await check.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "event.publish")
            )
            == 3
        )

    reader = harness.user(73003, "Ren")
    await reader.onboard()
    card = texts(await reader.send(f"/start ev_{sessions[0].id}"))[-1]
    assert "3 sessions" in card and "Children" in card
    await reader.tap("🔁 Register for all 3 sessions")
    assert reader.last_answer and "Registered for 3 sessions" in reader.last_answer["text"]
    async with sessionmaker() as check:
        statuses = list(await check.scalars(select(Registration.status)))
        assert statuses == [RegistrationStatus.CONFIRMED] * 3
    # Once registered, the card offers cancelling, not registering again.
    labels = inline_labels(reader.last_bot_message())
    assert "✖️ Cancel my registration" in labels and "✅ Register" not in labels


async def test_organisers_edit_capacity_and_attendance_only_on_their_events(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = await _organiser(harness, session, 73004)
    owner = await session.scalar(select(Reader).where(Reader.telegram_id == 73004))
    assert owner is not None
    someone = await make_reader(session, roles=(Role.ORGANISER,))
    mine = await make_event(session, organiser_id=owner.id, capacity=1, title="Mine")
    theirs = await make_event(session, organiser_id=someone.id, capacity=1, title="Theirs")
    waiting = [await make_reader(session) for _ in range(2)]
    await session.commit()
    for reader in waiting:
        await registration.register(session, reader, mine.id, now=utcnow())

    await organiser.forge(f"oev:k:{theirs.id}")
    assert organiser.last_answer and "your own events" in organiser.last_answer["text"]
    await organiser.forge(f"oev:k:{mine.id}")
    assert "from 1 to 100,000, and not below" in texts(await organiser.send("zero"))[-1]
    assert "Capacity saved: 2" in texts(await organiser.send("2"))[-1]
    async with sessionmaker() as check:
        rows = list(
            await check.scalars(
                select(Registration.status)
                .where(Registration.event_id == mine.id)
                .order_by(Registration.position)
            )
        )
        assert rows == [RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED]
    await organiser.forge(f"oed:{mine.id}:title")
    await organiser.send("Mine, renamed")
    await organiser.forge(f"oev:a:{mine.id}")
    attendees = organiser.last_bot_message()
    assert "registered" in (attendees.text or "")
    await organiser.tap(inline_labels(attendees)[0])
    assert organiser.last_answer and "attended" in organiser.last_answer["text"]
    async with sessionmaker() as check:
        theirs_now = await check.get(Event, theirs.id)
        mine_now = await check.get(Event, mine.id)
        assert theirs_now is not None and theirs_now.capacity == 1
        assert mine_now is not None and mine_now.title == "Mine, renamed"
        assert (
            await check.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.status == RegistrationStatus.ATTENDED)
            )
            == 1
        )
        actions = set(await check.scalars(select(AuditLog.action)))
        assert {"event.capacity", "event.edit.title", "event.attendance"} <= actions


async def test_admins_see_and_manage_every_event(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.conftest import ADMIN_TELEGRAM_ID

    someone = await make_reader(session, roles=(Role.ORGANISER,))
    event = await make_event(session, organiser_id=someone.id, title="Someone's talk")
    reader = await make_reader(session)
    await session.commit()
    await registration.register(session, reader, event.id, now=utcnow())
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada")
    await admin.onboard()
    await admin.send("/myevents")
    await admin.tap(next(b for b in inline_labels(admin.last_bot_message()) if "talk" in b))
    await admin.tap("❌ Cancel event")
    await admin.tap("Yes, cancel the event")
    assert "Readers being told: 1" in (admin.last_bot_message().text or "")
    async with sessionmaker() as check:
        stored = await check.get(Event, event.id)
        assert stored is not None and stored.status.value == "cancelled"
        entry = await check.scalar(select(AuditLog).where(AuditLog.action == "event.cancel"))
        assert entry is not None and entry.target_id == event.id


def test_buttons_of_notices_queued_before_typed_intents_still_unpack() -> None:
    # Rows queued as rendered messages carry the callback strings the services once spelled
    # out ("evo:{registration_id}:{answer}", "evf:{event_id}:{rating}"): still the same shape.
    from bot.notices.events import OfferAnswer, OfferReply, RateEvent

    assert OfferAnswer.unpack("evo:12:a") == OfferAnswer(
        registration_id=12, answer=OfferReply.ACCEPT
    )
    assert OfferAnswer(registration_id=12, answer=OfferReply.DECLINE).pack() == "evo:12:d"
    assert RateEvent.unpack("evf:7:4") == RateEvent(event_id=7, rating=4)


async def test_the_registration_window_set_by_the_organiser_is_enforced(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = await _organiser(harness, session, 73010)
    owner = await session.scalar(select(Reader).where(Reader.telegram_id == 73010))
    assert owner is not None
    zone = harness.app.settings.zone
    starts = (utcnow() + timedelta(days=5)).astimezone(zone).replace(second=0, microsecond=0)
    event = await make_event(session, organiser_id=owner.id, starts_at=starts, title="Windowed")
    await session.commit()
    opens = starts - timedelta(days=2)
    await organiser.forge(f"oed:{event.id}:opens")
    reply = texts(await organiser.send(f"{starts + timedelta(hours=1):%Y-%m-%d %H:%M}"))[-1]
    assert "after the event starts" in reply
    assert "Saved." in texts(await organiser.send(f"{opens:%Y-%m-%d %H:%M}"))[-1]
    await organiser.forge(f"oed:{event.id}:closes")
    reply = texts(await organiser.send(f"{opens - timedelta(hours=1):%Y-%m-%d %H:%M}"))[-1]
    assert "open before it closes" in reply
    await organiser.send("/cancel")

    reader = harness.user(73011, "Ren")
    await reader.onboard()
    card = texts(await reader.send(f"/start ev_{event.id}"))[-1]
    assert f"Registration from {opens:%Y-%m-%d %H:%M}" in card
    await reader.tap("✅ Register")
    assert (
        reader.last_answer
        and f"Registration opens {opens:%Y-%m-%d %H:%M}" in (reader.last_answer["text"])
    )
    async with sessionmaker() as check:
        assert list(await check.scalars(select(Registration))) == []
        stored = await check.get(Event, event.id)
        assert stored is not None and stored.registration_opens_at == opens
        assert stored.registration_closes_at is None
