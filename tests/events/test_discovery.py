"""Discovery filters: dates in the alliance zone, category, audience, district, near me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import EventAudience, EventCategory, EventStatus
from bot.services.events.discovery import EventFilter, When, discover
from tests.factories import make_district, make_event, make_library
from tests.harness import BotHarness, inline_labels, texts

ZONE = ZoneInfo("Asia/Shanghai")
# Wednesday 2027-03-10 10:00 in Shanghai.
NOW = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)


def _at(day: int, hour: int) -> datetime:
    return datetime(2027, 3, day, hour, 0, tzinfo=ZONE)


async def _titles(session: AsyncSession, wanted: EventFilter) -> list[str]:
    listings, _more = await discover(session, wanted, now=NOW, zone=ZONE, limit=20)
    return [listing.event.title for listing in listings]


async def test_filters(session: AsyncSession) -> None:
    north = await make_district(session, latitude=36.0, longitude=120.0)
    south = await make_district(session, latitude=35.0, longitude=119.0)
    near = await make_library(session, north, latitude=36.001, longitude=120.001)
    far = await make_library(session, south, latitude=35.0, longitude=119.0)
    await make_event(
        session,
        title="today",
        starts_at=_at(10, 19),
        venue_library_id=near.id,
        district_id=north.id,
        category=EventCategory.LECTURE,
    )
    await make_event(
        session,
        title="saturday",
        starts_at=_at(13, 15),
        venue_library_id=far.id,
        district_id=south.id,
        audience=EventAudience.CHILDREN,
    )
    await make_event(
        session,
        title="next week",
        starts_at=_at(16, 15),
        district_id=north.id,
        place_name="Park",
        latitude=36.01,
        longitude=120.0,
        audience=EventAudience.SENIORS,
    )
    await make_event(
        session, title="cancelled", starts_at=_at(10, 20), status=EventStatus.CANCELLED
    )
    await make_event(session, title="over", starts_at=_at(9, 19))
    await session.commit()

    assert await _titles(session, EventFilter()) == ["today", "saturday", "next week"]
    assert await _titles(session, EventFilter(when=When.TODAY)) == ["today"]
    # The next seven days: Wednesday the 10th to Tuesday the 16th.
    assert await _titles(session, EventFilter(when=When.WEEK)) == [
        "today",
        "saturday",
        "next week",
    ]
    assert await _titles(session, EventFilter(when=When.WEEKEND)) == ["saturday"]
    assert await _titles(session, EventFilter(category=EventCategory.LECTURE)) == ["today"]
    # Events for everyone suit every audience.
    assert await _titles(session, EventFilter(audience=EventAudience.CHILDREN)) == [
        "today",
        "saturday",
    ]
    assert await _titles(session, EventFilter(district_id=south.id)) == ["saturday"]
    listings, _more = await discover(session, EventFilter(near=(36.0, 120.0)), now=NOW, zone=ZONE)
    assert [(item.event.title, round(item.distance_km or 0, 1)) for item in listings] == [
        ("today", 0.1),
        ("next week", 1.1),
    ]
    page, more = await discover(session, EventFilter(), now=NOW, zone=ZONE, limit=2)
    assert len(page) == 2 and more


async def test_filters_through_the_chat(harness: BotHarness, session: AsyncSession) -> None:
    from bot.models import utcnow

    north = await make_district(session, name_en="North Shore")
    south = await make_district(session, name_en="South Hills")
    soon = utcnow() + timedelta(days=1)
    await make_event(
        session,
        title="North lecture",
        starts_at=soon,
        district_id=north.id,
        category=EventCategory.LECTURE,
    )
    await make_event(
        session,
        title="South club",
        starts_at=soon,
        district_id=south.id,
        audience=EventAudience.CHILDREN,
    )
    await session.commit()
    reader = harness.user(74001)
    await reader.onboard()
    listing = texts(await reader.send("/events"))[-1]
    assert "North lecture" in listing and "South club" in listing
    await reader.tap("District")
    assert inline_labels(reader.last_bot_message())[:2] == ["North Shore", "South Hills"]
    await reader.tap("South Hills")
    shown = reader.last_bot_message().text or ""
    assert "South Hills" in shown and "South club" in shown and "North lecture" not in shown
    await reader.tap("Category")
    await reader.tap("Lecture")
    assert "No events match" in (reader.last_bot_message().text or "")
    await reader.tap("District")
    await reader.tap("Every district")
    shown = reader.last_bot_message().text or ""
    assert "North lecture" in shown and "South club" not in shown
    # "Near me" without a shared location asks for one.
    replies = await reader.tap("📍 Near me")
    assert "share your location" in texts(replies)[-1]
