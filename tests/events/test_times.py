"""Times in the alliance zone and in a zone with daylight saving; the .ics instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import EventRecurrence
from bot.services.errors import InvalidInputError
from bot.services.events.discovery import When, date_spans
from bot.services.events.times import parse_end, parse_local, session_starts
from tests.conftest import HarnessFactory
from tests.factories import make_event, make_library
from tests.harness import texts

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_wall_clock_parsing_in_both_zones() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert parse_local("2027-03-14 19:00", SHANGHAI, now=now) == datetime(
        2027, 3, 14, 11, 0, tzinfo=UTC
    )
    # Berlin: CET (+1) before the last Sunday of March, CEST (+2) after.
    assert parse_local("2027-03-27 10:00", BERLIN, now=now) == datetime(
        2027, 3, 27, 9, 0, tzinfo=UTC
    )
    assert parse_local("2027-03-28 10:00", BERLIN, now=now) == datetime(
        2027, 3, 28, 8, 0, tzinfo=UTC
    )
    # As people type dates: slashes or dots, full-width digits and colons (Chinese input).
    for typed in ("2027/03/14 19:00", "2027.03.14 19:00", "２０２７－０３－１４　１９：００"):
        assert parse_local(typed, SHANGHAI, now=now) == datetime(2027, 3, 14, 11, 0, tzinfo=UTC)
    start = datetime(2027, 3, 14, 11, 0, tzinfo=UTC)
    assert parse_end("２１：３０", start, SHANGHAI) == datetime(2027, 3, 14, 13, 30, tzinfo=UTC)
    for bad in (
        "tomorrow",
        "2027-02-30 10:00",
        "2027-03-14 25:00",
        "",
        "2027/03/14",
        "14/03/2027 19:00",
    ):
        with pytest.raises(InvalidInputError):
            parse_local(bad, SHANGHAI, now=now)
    with pytest.raises(InvalidInputError, match="past"):
        parse_local("2027-02-01 10:00", SHANGHAI, now=now)


def test_date_filters_follow_local_midnights_across_dst() -> None:
    # Friday 2027-03-26 12:00 in Berlin; the weekend spans the switch to summer time.
    now = datetime(2027, 3, 26, 11, 0, tzinfo=UTC)
    [(start, end)] = date_spans(When.WEEKEND, now, BERLIN)
    assert start == datetime(2027, 3, 26, 23, 0, tzinfo=UTC)  # Saturday 00:00 CET
    assert end == datetime(2027, 3, 28, 22, 0, tzinfo=UTC)  # Monday 00:00 CEST
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=47)
    today = date_spans(When.TODAY, now, SHANGHAI)
    assert today == [
        (datetime(2027, 3, 25, 16, 0, tzinfo=UTC), datetime(2027, 3, 26, 16, 0, tzinfo=UTC))
    ]
    # "This week" is the next seven days: Friday the 26th to Thursday the 1st, inclusive.
    week = date_spans(When.WEEK, now, SHANGHAI)
    assert week == [(now, datetime(2027, 4, 1, 16, 0, tzinfo=UTC))]


def test_weekly_series_keeps_the_wall_clock_across_dst() -> None:
    first = datetime(2027, 3, 21, 18, 0, tzinfo=UTC)  # 19:00 CET
    starts = session_starts(first, EventRecurrence.WEEKLY, 3, BERLIN)
    assert [s.astimezone(BERLIN).strftime("%m-%d %H:%M %Z") for s in starts] == [
        "03-21 19:00 CET",
        "03-28 19:00 CEST",
        "04-04 19:00 CEST",
    ]
    monthly = session_starts(
        datetime(2027, 1, 31, 11, 0, tzinfo=UTC), EventRecurrence.MONTHLY, 3, SHANGHAI
    )
    assert [s.astimezone(SHANGHAI).strftime("%m-%d %H:%M") for s in monthly] == [
        "01-31 19:00",
        "02-28 19:00",
        "03-31 19:00",
    ]


@pytest.mark.parametrize(
    ("zone_name", "local"),
    [("Asia/Shanghai", "2027-03-28 19:00"), ("Europe/Berlin", "2027-03-28 10:00")],
)
async def test_the_card_and_the_ics_carry_the_right_instant(
    harness_factory: HarnessFactory, session: AsyncSession, zone_name: str, local: str
) -> None:
    zone = ZoneInfo(zone_name)
    starts = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    library = await make_library(session, name_en="Harbour Library")
    event = await make_event(
        session, starts_at=starts, venue_library_id=library.id, title="Spring reading"
    )
    await session.commit()
    harness = await harness_factory(timezone=zone_name)
    reader = harness.user(72001)
    await reader.onboard()
    card = texts(await reader.send(f"/start ev_{event.id}"))[-1]
    abbreviation = starts.tzname()
    assert f"{local}–{starts + timedelta(hours=2):%H:%M} {abbreviation}" in card
    assert abbreviation == ("CST" if zone_name == "Asia/Shanghai" else "CEST")

    await reader.tap("📅 Add to calendar")
    document = reader.last_bot_message().document
    assert document is not None and document.file_name == f"event-{event.id}.ics"
    stored = harness.sandbox.file(document.file_id)
    assert stored is not None
    calendar = Calendar.from_ical(stored.content)
    entry = next(iter(calendar.walk("VEVENT")))
    assert entry.decoded("dtstart") == starts
    assert entry.decoded("dtend") == starts + timedelta(hours=2)
    assert entry["dtstart"].params["TZID"] == zone_name
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [zone_name]
    assert "Harbour Library" in str(entry["location"])
