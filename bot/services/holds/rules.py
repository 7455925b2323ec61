"""Hold rules that need no database: opening days, shelf deadlines, transit estimates."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo

from bot.geo import haversine_km

DAY_CODES = ("mo", "tu", "we", "th", "fr", "sa", "su")
END_OF_DAY = time(23, 59)
# A loan lasts about three weeks: the basis of "your turn in about N weeks".
LOAN_DAYS_ESTIMATE = 21
_RULE = re.compile(
    r"^(?P<days>[a-z]{2}(?:\s*[-,]\s*[a-z]{2})*)\s+"
    r"(?:(?P<closed>off|closed)|\d{1,2}:\d{2}\s*-\s*(?P<close>\d{1,2}):(?P<close_m>\d{2}))"
)


def _days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (DAY_CODES.index(code.strip()) for code in part.split("-", 1))
            span = (last - first) % 7
            days.extend((first + offset) % 7 for offset in range(span + 1))
        else:
            days.append(DAY_CODES.index(part))
    return days


def opening_days(opening_hours: str) -> dict[int, time]:
    """Weekday (Monday 0) to closing time, from "Mo-Fr 08:00-22:00; Sa 10:00-16:00".

    What cannot be read counts as open every day until the end of the day: a library with
    odd hours never loses a reader's hold early.
    """
    text = opening_hours.strip().lower()
    everyday = dict.fromkeys(range(7), END_OF_DAY)
    if not text or text.startswith("24/7"):
        return everyday
    result: dict[int, time] = {}
    understood = False
    for rule in re.split(r"[;\n]", text):
        match = _RULE.match(rule.strip())
        if match is None:
            continue
        try:
            days = _days(match["days"])
        except ValueError:
            continue
        understood = True
        if match["closed"]:
            for day in days:
                result.pop(day, None)
            continue
        hour, minute = int(match["close"]), int(match["close_m"])
        closing = END_OF_DAY if hour >= 24 else time(hour, min(minute, 59))
        for day in days:
            result[day] = closing
    if not understood or not result:
        return everyday
    return result


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
