"""Calendar files (.ics) for events, in the alliance's zone and the reader's language."""

from __future__ import annotations

from datetime import datetime, tzinfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent
from pydantic import BaseModel, ConfigDict

from bot.models import Event, EventStatus
from bot.notices.intents import Names
from bot.services.events.records import event_point, venue_addresses, venue_names


class CalendarEntry(BaseModel):
    """What a calendar file says about an event (also carried by the "moved" notice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: int
    title: Names
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    place: Names | None = None
    address: Names | None = None
    point: tuple[float, float] | None = None
    cancelled: bool = False
    # Another feature's entry within the event (a human library slot) has its own identity.
    uid: str | None = None


def calendar_entry(event: Event) -> CalendarEntry:
    """The event as its calendar file shows it (the venue must be loaded)."""
    return CalendarEntry(
        event_id=event.id,
        title=Names(name=event.title, name_en=event.title_en),
        description=event.description or "",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        stamp=event.updated_at,
        place=venue_names(event),
        address=venue_addresses(event),
        point=event_point(event),
        cancelled=event.status is EventStatus.CANCELLED,
    )


def calendar_file(entry: CalendarEntry, zone: tzinfo, *, language: str) -> bytes:
    """An iCalendar file for the event, with times in the alliance zone."""
    calendar = Calendar()
    calendar.add("prodid", "-//Bookbridge//Reading events//EN")
    calendar.add("version", "2.0")
    component = CalendarEvent()
    component.add("uid", entry.uid or f"event-{entry.event_id}@bookbridge")
    component.add("summary", entry.title.in_language(language))
    component.add("dtstart", entry.starts_at.astimezone(zone))
    component.add("dtend", entry.ends_at.astimezone(zone))
    component.add("dtstamp", entry.stamp)
    if entry.description:
        component.add("description", entry.description)
    place = entry.place.in_language(language) if entry.place else ""
    address = entry.address.in_language(language) if entry.address else ""
    if address:
        place = f"{place}, {address}"
    if place:
        component.add("location", place)
    if entry.point is not None:
        component.add("geo", entry.point)
    if entry.cancelled:
        component.add("status", "CANCELLED")
    calendar.add_component(component)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def event_calendar(event: Event, zone: tzinfo, *, language: str = "en") -> bytes:
    """The event's calendar file (the venue must be loaded)."""
    return calendar_file(calendar_entry(event), zone, language=language)


def calendar_filename(event_id: int) -> str:
    """The .ics file's name."""
    return f"event-{event_id}.ics"
