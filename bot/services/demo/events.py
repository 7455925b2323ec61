"""The demo's upcoming reading events, at member libraries or at named places."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Event, EventAudience, EventCategory, Library, Reader
from bot.services.demo.data import event_specs
from bot.services.demo.summary import DemoSummary
from bot.services.members import is_open_on


def _event_day(spec: dict[str, Any], venue: Library | None, today: date) -> date:
    """The day ``day_offset`` says, or the venue's next open day after it."""
    day = today + timedelta(days=int(spec["day_offset"]))
    if venue is not None:
        for _ in range(7):
            if is_open_on(venue.opening_hours, day):
                break
            day += timedelta(days=1)
    return day


def _event(
    spec: dict[str, Any],
    districts: Mapping[str, District],
    libraries: Mapping[str, Library],
    organiser: Reader,
    *,
    today: date,
    zone: ZoneInfo,
) -> Event:
    venue = libraries[spec["venue"]] if spec.get("venue") else None
    place: dict[str, Any] = spec.get("place") or {}
    day = _event_day(spec, venue, today)
    starts_at = datetime.combine(day, time.fromisoformat(spec["start"]), zone)
    return Event(
        title=str(spec["title"]),
        title_en=spec.get("title_en"),
        description=str(spec["description"]),
        category=EventCategory(spec["category"]),
        audience=EventAudience(spec.get("audience", "everyone")),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=int(spec["duration_minutes"])),
        venue_library_id=venue.id if venue else None,
        place_name=place.get("name"),
        place_name_en=place.get("name_en"),
        latitude=float(place["lat"]) if place else None,
        longitude=float(place["lon"]) if place else None,
        district_id=(venue.district_id if venue else districts[str(place["district"])].id),
        capacity=int(spec["capacity"]),
        organiser_id=organiser.id,
        partners=[str(partner) for partner in spec.get("partners", [])],
        checkin_token=secrets.token_urlsafe(12),
    )


async def seed_events(
    session: AsyncSession,
    districts: Mapping[str, District],
    libraries: Mapping[str, Library],
    organiser: Reader,
    summary: DemoSummary,
    *,
    today: date,
    zone: ZoneInfo,
) -> None:
    """The events of ``events.json`` from today on, unless the organiser has them already."""
    start_of_today = datetime.combine(today, time(0, 0), zone)
    upcoming = set(
        await session.scalars(
            select(Event.title).where(
                Event.organiser_id == organiser.id, Event.starts_at >= start_of_today
            )
        )
    )
    for spec in event_specs():
        if str(spec["title"]) in upcoming:
            continue
        session.add(_event(spec, districts, libraries, organiser, today=today, zone=zone))
        summary.events_created += 1
    await session.flush()
