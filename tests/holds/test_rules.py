"""Opening days, shelf deadlines that skip closed days, transit estimates."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.services.holds.rules import (
    END_OF_DAY,
    opening_days,
    queue_estimate_days,
    shelf_deadline,
    transit_days,
)

ZONE = ZoneInfo("Asia/Shanghai")


def test_opening_days_from_hours() -> None:
    assert opening_days("Mo-Fr 08:00-22:00") == dict.fromkeys(range(5), time(22, 0))
    assert opening_days("Tu-Su 10:00-18:00; Mo off") == {d: time(18, 0) for d in range(1, 7)}
    assert opening_days("Mo-Fr 09:00-17:00; Sa 10:00-16:00") == {
        **dict.fromkeys(range(5), time(17, 0)),
        5: time(16, 0),
    }
    assert opening_days("Fr-Mo 10:00-24:00") == dict.fromkeys((4, 5, 6, 0), END_OF_DAY)
    # What cannot be read never shortens a hold: open every day until midnight.
    assert opening_days("by appointment") == dict.fromkeys(range(7), END_OF_DAY)
    assert opening_days("") == dict.fromkeys(range(7), END_OF_DAY)


def test_shelf_deadline_skips_closed_days() -> None:
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=ZONE)
    # Open Monday to Friday: three opening days after Friday end on Wednesday at closing.
    assert shelf_deadline(friday, "Mo-Fr 08:00-22:00", 3, ZONE) == datetime(
        2026, 12, 9, 22, 0, tzinfo=ZONE
    )
    # Open every day: three days later.
    assert shelf_deadline(friday, "Mo-Su 09:00-21:00", 3, ZONE) == datetime(
        2026, 12, 7, 21, 0, tzinfo=ZONE
    )
    # Counting happens in the alliance's zone, whatever zone the moment is given in.
    late_utc = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # already Saturday 01:00 in Shanghai
    assert shelf_deadline(late_utc, "Mo-Fr 08:00-22:00", 1, ZONE) == datetime(
        2026, 12, 7, 22, 0, tzinfo=ZONE
    )


def test_transit_and_queue_estimates() -> None:
    assert transit_days(31.2, 121.4, 31.2, 121.4, base_days=1, km_per_day=20) == 1
    assert transit_days(31.2, 121.4, 31.245, 121.4, base_days=1, km_per_day=20) == 2
    assert transit_days(31.2, 121.4, 31.2, 121.715, base_days=1, km_per_day=20) == 3
    assert queue_estimate_days(1, 2) == 21
    assert queue_estimate_days(3, 2) == 42
