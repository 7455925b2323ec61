"""Hold rules that need no database: opening days, shelf deadlines, transit estimates."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, tzinfo

from bot.geo import haversine_km
from bot.services.opening_hours import END_OF_DAY, closing_times

# A loan lasts about three weeks: the basis of "your turn in about N weeks".
LOAN_DAYS_ESTIMATE = 21


def opening_days(opening_hours: str) -> dict[int, time]:
    """Weekday (Monday 0) to closing time, from "Mo-Fr 08:00-22:00; Sa 10:00-16:00".

    What cannot be read counts as open every day until the end of the day: a library with
    odd hours never loses a reader's hold early (``bot.services.opening_hours``).
    """
    return closing_times(opening_hours)


def shelf_deadline(start: datetime, opening_hours: str, days: int, zone: tzinfo) -> datetime:
    """Closing time of the ``days``-th opening day after ``start`` (closed days skipped)."""
    open_days = opening_days(opening_hours)
    local: date = start.astimezone(zone).date()
    counted = 0
    for _ in range(days * 7 + 7):
        local += timedelta(days=1)
        closing = open_days.get(local.weekday())
        if closing is None:
            continue
        counted += 1
        if counted >= days:
            return datetime.combine(local, closing, tzinfo=zone)
    return datetime.combine(local, END_OF_DAY, tzinfo=zone)  # pragma: no cover - always open


def transit_days(
    from_latitude: float,
    from_longitude: float,
    to_latitude: float,
    to_longitude: float,
    *,
    base_days: int,
    km_per_day: float,
) -> int:
    """Days a copy takes between two libraries: a base plus a day per ``km_per_day``."""
    kilometres = haversine_km(from_latitude, from_longitude, to_latitude, to_longitude)
    return base_days + math.ceil(kilometres / km_per_day)


def queue_estimate_days(position: int, copies: int) -> int:
    """A rough wait for the ``position``-th reader in line for ``copies`` circulating copies."""
    rounds = math.ceil(position / max(1, copies))
    return rounds * LOAN_DAYS_ESTIMATE
