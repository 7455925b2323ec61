"""Reminders: once each across restarts and two processes, follow a reschedule, not after cancel."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import create_engine, create_sessionmaker
from bot.i18n import create_i18n
from bot.models import Event, Notification, NotificationStatus, Role, utcnow
from bot.notices.render import render
from bot.services.events import registration
from bot.services.events.organising import cancel_event, reschedule
from bot.services.events.registration import WaitlistRules
from bot.services.roles import RoleSet
from jobs.events import EventsTick
from tests.factories import make_event, make_reader

ADMIN = RoleSet(roles=frozenset({Role.ADMIN}))


def _tick(maker: async_sessionmaker[AsyncSession], settings: Settings, at: datetime) -> EventsTick:
    return EventsTick(maker, settings, clock=lambda: at)


async def _reminders(maker: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with maker() as session:
        return list(
            await session.scalars(
                select(Notification)
                .where(Notification.kind == "event-reminder")
                .order_by(Notification.id)
            )
        )


async def test_reminders_fire_once_each_across_restarts_and_two_processes(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    database_url: str,
    rules: WaitlistRules,
) -> None:
    now = utcnow()
    starts = now + timedelta(hours=30)
    async with sessionmaker() as session:
        event = await make_event(session, starts_at=starts)
        reader = await make_reader(session)
        await session.commit()
        await registration.register(session, reader, event.id, now=now)

    assert (await _tick(sessionmaker, settings, starts - timedelta(hours=25)).run())[
        "reminders"
    ] == 0
    day_before = starts - timedelta(hours=23, minutes=59)
    assert (await _tick(sessionmaker, settings, day_before).run())["reminders"] == 1
    # A restart: a new job object, the same moment and a little later.
    assert (await _tick(sessionmaker, settings, day_before).run())["reminders"] == 0
    later = day_before + timedelta(hours=2)
    assert (await _tick(sessionmaker, settings, later).run())["reminders"] == 0

    # Two processes (two engines) tick at once in the last hour: one reminder between them.
    other_engine = create_engine(database_url)
    try:
        other = create_sessionmaker(other_engine)
        hour_before = starts - timedelta(minutes=59)
        first, second = await asyncio.gather(
            _tick(sessionmaker, settings, hour_before).run(),
            _tick(other, settings, hour_before).run(),
        )
    finally:
        await other_engine.dispose()
    assert first["reminders"] + second["reminders"] == 1
    rows = await _reminders(sessionmaker)
    assert [row.dedup_key.split(":")[3] for row in rows] == ["24", "1"]
    assert all(row.reader_id == reader.id for row in rows)
    en = create_i18n("en")
    assert "⏰" in render(rows[0].payload, "en", translator=en, settings=settings).text["en"]


async def test_a_rescheduled_event_reminds_at_its_new_time(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, rules: WaitlistRules
) -> None:
    now = utcnow()
    starts = now + timedelta(hours=30)
    async with sessionmaker() as session:
        organiser = await make_reader(session, roles=(Role.ORGANISER,))
        event = await make_event(session, starts_at=starts, organiser_id=organiser.id)
        reader = await make_reader(session)
        await session.commit()
        await registration.register(session, reader, event.id, now=now)
    await _tick(sessionmaker, settings, starts - timedelta(hours=23)).run()
    assert len(await _reminders(sessionmaker)) == 1

    moved = (starts + timedelta(days=2)).replace(microsecond=0)
    async with sessionmaker() as session:
        told = await reschedule(
            session,
            organiser,
            RoleSet(roles=frozenset({Role.ORGANISER})),
            event.id,
            moved,
            moved + timedelta(hours=2),
            now=starts - timedelta(hours=23),
        )
    assert told == 1
    old = await _reminders(sessionmaker)
    assert [row.status for row in old] == [NotificationStatus.SKIPPED]
    # Nothing at the old times; the reminders follow the new start.
    assert (await _tick(sessionmaker, settings, starts - timedelta(minutes=30)).run())[
        "reminders"
    ] == 0
    assert (await _tick(sessionmaker, settings, moved - timedelta(hours=23)).run())[
        "reminders"
    ] == 1
    assert (await _tick(sessionmaker, settings, moved - timedelta(minutes=30)).run())[
        "reminders"
    ] == 1
    rows = await _reminders(sessionmaker)
    assert [row.status for row in rows[1:]] == [NotificationStatus.PENDING] * 2
    assert all(str(int(moved.timestamp())) in row.dedup_key for row in rows[1:])

    async with sessionmaker() as session:
        notice = await session.scalar(
            select(Notification).where(Notification.kind == "event-rescheduled")
        )
        assert notice is not None and notice.reader_id == reader.id
        message = render(notice.payload, "en", translator=create_i18n("en"), settings=settings)
        assert message.attachment is not None and message.attachment.content is not None
        calendar = Calendar.from_ical(message.attachment.content)
        assert next(iter(calendar.walk("VEVENT"))).decoded("dtstart") == moved


async def test_a_cancelled_event_or_registration_gets_no_reminder(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, rules: WaitlistRules
) -> None:
    now = utcnow()
    starts = now + timedelta(hours=30)
    async with sessionmaker() as session:
        organiser = await make_reader(session)
        cancelled = await make_event(session, starts_at=starts, organiser_id=organiser.id)
        kept = await make_event(session, starts_at=starts)
        first, second = await make_reader(session), await make_reader(session)
        await session.commit()
        for reader in (first, second):
            await registration.register(session, reader, cancelled.id, now=now)
            await registration.register(session, reader, kept.id, now=now)
        await registration.cancel_registration(session, second, kept.id, now=now, rules=rules)
        assert (
            await cancel_event(
                session,
                organiser,
                RoleSet(roles=frozenset({Role.ORGANISER})),
                cancelled.id,
                now=now,
            )
            == 2
        )
    await _tick(sessionmaker, settings, starts - timedelta(hours=23)).run()
    rows = await _reminders(sessionmaker)
    assert [(row.reader_id, row.dedup_key.split(":")[1]) for row in rows] == [
        (first.id, str(kept.id))
    ]
    async with sessionmaker() as session:
        stored = await session.get(Event, cancelled.id)
        assert stored is not None and stored.status.value == "cancelled"
        kinds = sorted(
            await session.scalars(
                select(Notification.reader_id).where(Notification.kind == "event-cancelled")
            )
        )
        assert kinds == sorted([first.id, second.id])


async def test_past_events_complete(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        event = await make_event(session, starts_at=now + timedelta(hours=1))
        await session.commit()
    assert (await _tick(sessionmaker, settings, now + timedelta(hours=4)).run())["completed"] == 1
    async with sessionmaker() as session:
        stored = await session.get(Event, event.id)
        assert stored is not None and stored.status.value == "completed"
