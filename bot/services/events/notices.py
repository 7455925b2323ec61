"""The notices events raise: what happened to whom, about which event (rendered elsewhere).

``bot.notices.events`` decides how each one reads; the kinds keep the names the outbox
rows have always had, so counts and tests by kind carry on.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.models import Event
from bot.notices.intents import Names, NoticeData, notice_kind
from bot.services.events.calendar import CalendarEntry
from bot.services.events.records import venue_names


class EventShown(BaseModel):
    """The lines under every event notice: title, time and place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: int
    title: Names
    starts_at: datetime
    ends_at: datetime
    venue: Names | None = None


def shown(event: Event) -> EventShown:
    """How a notice names the event (the venue must be loaded)."""
    return EventShown(
        event_id=event.id,
        title=Names(name=event.title, name_en=event.title_en),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue=venue_names(event),
    )


@notice_kind("event-offer")
class PlaceOffered(NoticeData):
    """A freed place is offered to a waitlisted reader until ``until``."""

    event: EventShown
    registration_id: int
    until: datetime


@notice_kind("event-promoted")
class PlaceConfirmed(NoticeData):
    """A waitlisted reader moved up to confirmed."""

    event: EventShown


@notice_kind("event-offer-expired")
class OfferExpired(NoticeData):
    """An offer was not accepted in time and went to the next reader."""

    event: EventShown


@notice_kind("event-reminder")
class EventReminder(NoticeData):
    """A confirmed reader's event starts soon."""

    event: EventShown


@notice_kind("event-feedback")
class FeedbackWanted(NoticeData):
    """An attendee is asked for a 1-5 rating."""

    event: EventShown


@notice_kind("event-rescheduled")
class EventMoved(NoticeData):
    """The event moved; the new calendar file goes with the notice."""

    event: EventShown
    calendar: CalendarEntry


@notice_kind("event-cancelled")
class EventCancelled(NoticeData):
    """The organiser cancelled the event."""

    event: EventShown


@notice_kind("event-message")
class OrganiserMessage(NoticeData):
    """The organiser's own message (Telegram HTML, as they formatted it) to attendees."""

    event_id: int
    html: str
