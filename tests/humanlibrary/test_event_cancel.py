"""Cancelling an event calls off its conversations, waitlists and volunteer shifts, and says so."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    Event,
    LivingBookSlot,
    LivingBookWait,
    Notification,
    NotificationStatus,
    Reader,
    VolunteerSignup,
    utcnow,
)
from bot.services.humanlibrary.booking import join_waitlist, take_slot
from bot.services.humanlibrary.errors import SlotOverError
from bot.services.volunteers import shifts
from handlers.volunteers.service import VolunteerAction, VolunteerData
from tests.factories import make_reader
from tests.harness import BotHarness, inline_labels, texts
from tests.humanlibrary.helpers import (
    ADMIN,
    deliver,
    event_with_book,
    grant_organiser,
    reader_of,
)


async def reader_at(session: AsyncSession, event: Event) -> Reader:
    """A new organiser of the event."""
    organiser = await make_reader(session)
    await session.flush()
    event.organiser_id = organiser.id
    return organiser


REMINDERS = ("humanlibrary.reminder", "humanlibrary.feedback", "volunteer.reminder")


async def test_cancelling_an_event_calls_off_its_slots_waitlists_and_shifts(
    harness: BotHarness, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    organiser = harness.user(84001, "Olga")
    await organiser.onboard()
    boss = await grant_organiser(session, 84001)
    lin = harness.user(84004, "Lin", language_code="zh")
    await lin.onboard("zh")
    lin_row = await reader_of(sessionmaker, 84004)
    event, _book, slots = await event_with_book(session, minutes=30, hours=0.5, person=lin_row)
    event.organiser_id = boss.id
    await session.commit()
    starts = event.starts_at
    shift = await shifts.add_shift(
        session,
        boss,
        ADMIN,
        event.id,
        role="Usher",
        places=3,
        starts_at=starts - timedelta(hours=1),
        ends_at=starts + timedelta(hours=1),
        now=utcnow(),
    )
    ana, mei = harness.user(84002, "Ana"), harness.user(84003, "梅", language_code="zh")
    await ana.onboard()
    await mei.onboard("zh")
    ana_row, mei_row = await reader_of(sessionmaker, 84002), await reader_of(sessionmaker, 84003)
    now = utcnow()
    async with sessionmaker() as other:
        await take_slot(other, ana_row, slots[0].id, now=now)
        await join_waitlist(other, mei_row, slots[0].book_id, now=now)
        await shifts.sign_up(other, ana_row, shift.id, now=now)
        await shifts.sign_up(other, mei_row, shift.id, now=now)
    ana.new_bot_messages()
    mei.new_bot_messages()
    lin.new_bot_messages()

    await organiser.send("/myevents")
    last = organiser.last_bot_message()
    await organiser.tap(next(b for b in inline_labels(last) if "Human library night" in b))
    await organiser.tap("❌ Cancel event")
    await organiser.tap("Yes, cancel the event")
    assert "Readers being told: 3" in (organiser.last_bot_message().text or "")

    await deliver(harness, sessionmaker, utcnow())
    told_ana = "\n".join(texts(ana.new_bot_messages()))
    assert "your conversation with Lin, a retired sailor" in told_ana
    assert "your volunteer shift is off" in told_ana
    told_mei = "\n".join(texts(mei.new_bot_messages()))
    assert "您已不在Lin, a retired sailor的候补名单上" in told_mei
    assert "您的志愿者班次随之取消" in told_mei
    # The living book hears it too, with how many of their bookings went.
    told_lin = "\n".join(texts(lin.new_bot_messages()))
    assert "Human library night已取消。您作为“Lin, a retired sailor”已被预约的 1 场对话" in told_lin

    async with sessionmaker() as check:
        stored = await check.get(Event, event.id)
        assert stored is not None and stored.status.value == "cancelled"
        slot = await check.get(LivingBookSlot, slots[0].id)
        assert slot is not None and slot.reader_id is None and slot.booked_at is None
        assert list(await check.scalars(select(LivingBookWait))) == []
        assert list(await check.scalars(select(VolunteerSignup))) == []
        pending = await check.scalars(
            select(Notification.kind).where(
                Notification.kind.in_(REMINDERS),
                Notification.status == NotificationStatus.PENDING,
            )
        )
        assert list(pending) == []
        skipped = await check.scalars(
            select(Notification.kind).where(
                Notification.kind.in_(REMINDERS),
                Notification.status == NotificationStatus.SKIPPED,
            )
        )
        # The reader's reminder, both sides' feedback prompts, both volunteers' reminders.
        assert sorted(skipped) == sorted(
            ["humanlibrary.reminder"] + ["humanlibrary.feedback"] * 2 + ["volunteer.reminder"] * 2
        )

    # Nothing more comes, not the reminders, not the feedback prompts.
    await deliver(harness, sessionmaker, starts + timedelta(hours=3))
    assert ana.new_bot_messages() == [] and mei.new_bot_messages() == []
    assert lin.new_bot_messages() == []

    # Nobody books or signs up on the cancelled event, even with an old button.
    async with sessionmaker() as other:
        with pytest.raises(SlotOverError):
            await take_slot(other, mei_row, slots[0].id, now=utcnow())
    await mei.forge(VolunteerData(action=VolunteerAction.SIGN_UP, shift_id=shift.id).pack())
    assert mei.last_answer and mei.last_answer["text"] == "该活动已取消，其志愿者班次已关闭。"
    async with sessionmaker() as check:
        assert list(await check.scalars(select(VolunteerSignup))) == []


async def test_a_booking_racing_the_cancel_is_refused_or_called_off(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from bot.services.events.organising import cancel_event

    rounds = []
    async with sessionmaker() as session:
        for _ in range(5):
            event, _book, slots = await event_with_book(session, minutes=30, hours=0.5)
            organiser = await reader_at(session, event)
            reader = await make_reader(session)
            volunteer = await make_reader(session)
            shift = await shifts.add_shift(
                session,
                organiser,
                ADMIN,
                event.id,
                role="Usher",
                places=1,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                now=utcnow(),
            )
            await session.commit()
            rounds.append((event.id, organiser, reader, volunteer, slots[0].id, shift.id))

    async def cancel(event_id: int, organiser: Reader) -> None:
        async with sessionmaker() as session:
            await cancel_event(session, organiser, ADMIN, event_id, now=utcnow())

    async def book(reader: Reader, slot_id: int) -> bool:
        async with sessionmaker() as session:
            try:
                await take_slot(session, reader, slot_id, now=utcnow())
            except SlotOverError:
                return False
            return True

    async def sign(volunteer: Reader, shift_id: int) -> bool:
        async with sessionmaker() as session:
            try:
                await shifts.sign_up(session, volunteer, shift_id, now=utcnow())
            except shifts.ShiftCancelledError:
                return False
            return True

    for event_id, organiser, reader, volunteer, slot_id, shift_id in rounds:
        _done, booked, signed = await asyncio.gather(
            cancel(event_id, organiser), book(reader, slot_id), sign(volunteer, shift_id)
        )
        async with sessionmaker() as check:
            slot = await check.get(LivingBookSlot, slot_id)
            assert slot is not None and slot.reader_id is None
            assert await check.scalar(select(VolunteerSignup.id)) is None
            told = set(
                await check.scalars(
                    select(Notification.reader_id).where(
                        Notification.kind.in_(("humanlibrary.cancelled", "volunteer.cancelled"))
                    )
                )
            )
            # Whoever got in before the cancel is told it is off; nobody else hears of it.
            assert (reader.id in told) == booked and (volunteer.id in told) == signed
