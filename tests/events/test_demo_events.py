"""The demo alliance's events work with discovery, registration, the .ics and check-in links."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.models import Event, Library, utcnow
from bot.services.demo import seed_demo
from bot.services.events.calendar import event_calendar
from bot.services.events.discovery import EventFilter, discover
from bot.services.events.records import event_point
from bot.services.events.registration import my_events, register
from tests.factories import make_reader


async def test_demo_events(session: AsyncSession, settings: Settings) -> None:
    zone = settings.zone
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await session.commit()
    now = utcnow()
    stored = list(await session.scalars(select(Event).order_by(Event.starts_at)))
    assert len(stored) >= 15
    listings, _more = await discover(session, EventFilter(), now=now, zone=zone, limit=50)
    assert {listing.event.id for listing in listings} == {
        event.id for event in stored if event.ends_at > now
    }
    # Every demo event has a map location and a district, so "near me" and filters work.
    for listing in listings:
        assert event_point(listing.event) is not None
        assert listing.event.district_id is not None
    reader = await make_reader(session)
    await session.commit()
    upcoming = [listing.event for listing in listings if listing.event.starts_at > now]
    for event in upcoming[:5]:
        result = await register(session, reader, event.id, now=now)
        assert result.waitlist_rank is None
        calendar = Calendar.from_ical(event_calendar(result.event, zone))
        assert next(iter(calendar.walk("VEVENT"))).decoded("dtstart") == event.starts_at
    mine, _more = await my_events(session, reader, now=now)
    assert [item.event.id for item in mine] == [event.id for event in upcoming[:5]]
    near = event_point(upcoming[0])
    assert near is not None
    close, _more = await discover(session, EventFilter(near=near), now=now, zone=zone, limit=50)
    assert close[0].distance_km is not None and close[0].distance_km < 0.01


async def test_demo_events_and_libraries_speak_both_languages(
    session: AsyncSession, settings: Settings
) -> None:
    zone = settings.zone
    await seed_demo(session, today=datetime.now(zone).date(), zone=zone)
    await session.commit()
    events = list(await session.scalars(select(Event)))
    # Titles are no longer "中文 / English" in one string: an English reader sees English.
    assert all(" / " not in event.title and event.title_en for event in events)
    assert all(
        event.display_place("en") != event.place_name for event in events if event.place_name
    )
    libraries = list(await session.scalars(select(Library)))
    assert all(library.address_en for library in libraries)
    central = next(library for library in libraries if library.code == "HBPL")
    assert central.display_address("en") == "88 Haibin Road, Gangkou District"
    assert central.display_address("zh") == "港口区海滨路88号"
