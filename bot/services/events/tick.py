"""The periodic pass: expired offers move on, reminders and feedback prompts, events complete.

Each step is its own write unit and safe to run twice (notices are deduplicated by key).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Event, EventStatus, Registration, RegistrationStatus
from bot.notices.intents import Notice
from bot.services import outbox
from bot.services.events.notices import EventReminder, FeedbackWanted, OfferExpired, shown
from bot.services.events.records import locked_event, with_venue
from bot.services.events.registration import WaitlistRules, fill_places
from bot.services.outbox import Priority

FEEDBACK_WITHIN = timedelta(days=7)


async def expire_offers(session: AsyncSession, *, now: datetime, rules: WaitlistRules) -> int:
    """Offers past their time leave the waitlist and the place moves on; commits each."""
    due = list(
        await session.scalars(
            select(Registration.id).where(
                Registration.status == RegistrationStatus.OFFERED,
                Registration.offer_expires_at <= now,
            )
        )
    )
    expired = 0
    for registration_id in due:
        async with write(session):
            registration = await session.get(Registration, registration_id)
            assert registration is not None
            event = await locked_event(session, registration.event_id)
            await session.refresh(registration)
            if registration.status is not RegistrationStatus.OFFERED:
                continue
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = now
            registration.offer_expires_at = None
            notice = Notice(
                reader_id=registration.reader_id,
                data=OfferExpired(event=shown(event)),
                dedup_key=f"ev-offer-expired:{registration.id}:{int(now.timestamp())}",
                priority=Priority.HIGH,
            )
            await outbox.enqueue_notices(session, [notice], now=now)
            await session.flush()
            await fill_places(session, event, now, rules)
            expired += 1
    return expired


async def queue_reminders(session: AsyncSession, *, now: datetime, hours: Sequence[int]) -> int:
    """Queue due reminders for confirmed readers, once per threshold and start time; commits."""
    if not hours:
        return 0
    thresholds = sorted(set(hours))
    horizon = now + timedelta(hours=thresholds[-1])
    async with write(session):
        rows = await session.execute(
            with_venue(select(Event))
            .add_columns(Registration.reader_id)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= horizon,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            .order_by(Event.id, Registration.reader_id)
        )
        notices = []
        for event, reader_id in rows:
            left = event.starts_at - now
            # Only the nearest threshold already crossed: a late registration gets one reminder.
            threshold = next(h for h in thresholds if left <= timedelta(hours=h))
            start = int(event.starts_at.timestamp())
            notices.append(
                Notice(
                    reader_id=reader_id,
                    data=EventReminder(event=shown(event)),
                    dedup_key=f"ev-rem:{event.id}:{reader_id}:{threshold}:{start}",
                    priority=Priority.HIGH,
                    expires_at=event.starts_at,
                )
            )
        return await outbox.enqueue_notices(session, notices, now=now)


async def queue_feedback_prompts(session: AsyncSession, *, now: datetime) -> int:
    """Ask attendees of events that ended (within a week) for a 1-5 rating; commits."""
    async with write(session):
        rows = await session.execute(
            with_venue(select(Event))
            .add_columns(Registration.reader_id)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Event.status.in_([EventStatus.PUBLISHED, EventStatus.COMPLETED]),
                Event.ends_at <= now,
                Event.ends_at > now - FEEDBACK_WITHIN,
                Registration.status == RegistrationStatus.ATTENDED,
            )
        )
        notices = [
            Notice(
                reader_id=reader_id,
                data=FeedbackWanted(event=shown(event)),
                dedup_key=f"ev-fb:{event.id}:{reader_id}",
                priority=Priority.NORMAL,
                expires_at=event.ends_at + FEEDBACK_WITHIN,
            )
            for event, reader_id in rows
        ]
        return await outbox.enqueue_notices(session, notices, now=now)


async def complete_past_events(session: AsyncSession, *, now: datetime) -> int:
    """Published events that have ended become completed; commits."""
    async with write(session):
        result = await session.execute(
            update(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at <= now)
            .values(status=EventStatus.COMPLETED)
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)
