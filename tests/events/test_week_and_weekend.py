"""On a Sunday, "This week" and "Weekend" still show what is coming (issue 16, defect 7).

"This week" is the next seven days; "Weekend" the coming Saturday and Sunday, with what is
left of today when today is one of them; both in the alliance's zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.events.discovery import EventFilter, When, discover
from tests.factories import make_event
from tests.harness import BotHarness

ZONE = ZoneInfo("Asia/Shanghai")  # the tests' alliance zone


def _local(day: int, hour: int) -> datetime:
    return datetime(2030, 3, day, hour, 0, tzinfo=ZONE)


SUNDAY = _local(17, 10)  # Sunday 2030-03-17 10:00
SATURDAY = _local(23, 10)
SCHEDULE = {
    "sunday evening": _local(17, 19),
    "monday": _local(18, 19),
    "saturday": _local(23, 15),
    "next sunday": _local(24, 15),
    "next monday": _local(25, 15),
}


async def _schedule(session: AsyncSession) -> None:
    for title, starts_at in SCHEDULE.items():
        await make_event(session, title=title, starts_at=starts_at)
    await session.commit()


async def _titles(session: AsyncSession, when: When, now: datetime) -> list[str]:
    listings, _more = await discover(session, EventFilter(when=when), now=now, zone=ZONE)
    return [listing.event.title for listing in listings]


async def test_on_a_sunday_the_week_and_the_weekend_look_ahead(session: AsyncSession) -> None:
    await _schedule(session)
    assert await _titles(session, When.WEEK, SUNDAY) == ["sunday evening", "monday", "saturday"]
    assert await _titles(session, When.WEEKEND, SUNDAY) == [
        "sunday evening",
        "saturday",
        "next sunday",
    ]
    # On a Saturday the weekend is today and tomorrow.
    assert await _titles(session, When.WEEKEND, SATURDAY) == ["saturday", "next sunday"]
    assert await _titles(session, When.TODAY, SUNDAY) == ["sunday evening"]


async def test_this_week_in_the_chat_on_a_sunday(
    harness: BotHarness, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _schedule(session)
    monkeypatch.setattr("handlers.events.listing.utcnow", lambda: SUNDAY)
    reader = harness.user(76001)
    await reader.onboard()
    await reader.send("/events")

    await reader.tap("This week")
    week = reader.last_bot_message().text or ""
    assert "monday" in week and "saturday" in week and "next monday" not in week

    await reader.tap("Weekend")
    weekend = reader.last_bot_message().text or ""
    assert "saturday" in weekend and "next sunday" in weekend and "monday" not in weekend
