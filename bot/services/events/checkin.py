"""Check-in by the event's link during its window, and attendees' ratings and comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import Event, EventStatus, Feedback, Reader, Registration, RegistrationStatus
from bot.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from bot.services.events.errors import CheckInError
from bot.services.events.records import managed_event, with_venue
from bot.services.roles import RoleSet

# Deep links: ``/start ci_<token>`` checks the reader in.
CHECKIN_LINK = "ci"
# Check-in opens this long before the start and closes at the end (LibCal's default window).
CHECKIN_EARLY = timedelta(minutes=30)
COMMENT_LIMIT = 1000
LATEST_COMMENTS = 10


async def check_in(session: AsyncSession, reader: Reader, token: str, *, now: datetime) -> Event:
    """Mark a confirmed reader attended by the event's check-in link, during its window."""
    event = await session.scalar(with_venue(select(Event).where(Event.checkin_token == token)))
    if event is None or event.status is EventStatus.CANCELLED:
        raise NotFoundError("event")
    registration = await session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.reader_id == reader.id
        )
    )
    if registration is not None and registration.status is RegistrationStatus.ATTENDED:
        raise CheckInError("already", event)
    if registration is None or registration.status is not RegistrationStatus.CONFIRMED:
        raise CheckInError("not_registered", event)
    if now < event.starts_at - CHECKIN_EARLY:
        raise CheckInError("too_early", event)
    if now > event.ends_at:
        raise CheckInError("over", event)
    async with write(session):
        registration.status = RegistrationStatus.ATTENDED
        registration.attended_at = now
    return event


async def rate(
    session: AsyncSession, reader: Reader, event_id: int, rating: int, *, now: datetime
) -> Event:
    """Record (or change) an attendee's 1-5 rating after the event; commits."""
    if not 1 <= rating <= 5:
        raise InvalidInputError("rating")
    event = await session.get(Event, event_id)
    attended = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == event_id,
            Registration.reader_id == reader.id,
            Registration.status == RegistrationStatus.ATTENDED,
        )
    )
    if event is None or attended is None:
        raise NotAllowedError("not an attendee")
    async with write(session):
        feedback = await session.scalar(
            select(Feedback).where(Feedback.event_id == event_id, Feedback.reader_id == reader.id)
        )
        if feedback is None:
            session.add(Feedback(event_id=event_id, reader_id=reader.id, rating=rating))
        else:
            feedback.rating = rating
    return event


async def comment(session: AsyncSession, reader: Reader, event_id: int, text: str) -> None:
    """Add the optional comment to the reader's rating; commits."""
    text = text.strip()
    if not text or len(text) > COMMENT_LIMIT:
        raise InvalidInputError("comment")
    feedback = await session.scalar(
        select(Feedback).where(Feedback.event_id == event_id, Feedback.reader_id == reader.id)
    )
    if feedback is None:
        raise NotFoundError("feedback")
    async with write(session):
        feedback.comment = text


@dataclass(frozen=True)
class FeedbackSummary:
    """Ratings of one event: how many, average, per star, and the latest comments."""

    count: int
    average: float | None
    per_rating: dict[int, int]
    comments: list[str]


async def feedback_summary(
    session: AsyncSession, actor: Reader, roles: RoleSet, event_id: int
) -> tuple[Event, FeedbackSummary]:
    """The organiser's (or an admin's) view of an event's feedback."""
    event = await managed_event(session, actor, roles, event_id)
    rows = list(await session.scalars(select(Feedback).where(Feedback.event_id == event.id)))
    per = dict.fromkeys(range(1, 6), 0)
    for row in rows:
        per[row.rating] += 1
    average = sum(row.rating for row in rows) / len(rows) if rows else None
    comments = [
        row.comment for row in sorted(rows, key=lambda r: r.id, reverse=True) if row.comment
    ][:LATEST_COMMENTS]
    return event, FeedbackSummary(len(rows), average, per, comments)
