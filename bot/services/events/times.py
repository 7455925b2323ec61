"""Event times on the alliance's wall clock: reading what organisers type, and writing spans."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, tzinfo

from bot.models import Event, EventRecurrence
from bot.services.errors import InvalidInputError

LONGEST_EVENT = timedelta(days=14)
FURTHEST_START = timedelta(days=730)


def local_time(moment: datetime, zone: tzinfo) -> str:
    """An instant as the alliance's wall clock, with the zone's abbreviation."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def span_text(starts_at: datetime, ends_at: datetime, zone: tzinfo) -> str:
    """Start to end on the alliance's wall clock: ``2026-12-20 19:00–21:30 CST``."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end_text} {start.tzname() or ''}".rstrip()


def time_span(event: Event, zone: tzinfo) -> str:
    """The event's start to end on the alliance's wall clock."""
    return span_text(event.starts_at, event.ends_at, zone)


def wall_clock(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` as typed: full-width digits and colons, and ``/`` or ``.``
    between the date's parts, are fine too (naive; InvalidInputError otherwise)."""
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    date_part, _space, clock = cleaned.partition(" ")
    try:
        return datetime.strptime(f"{re.sub(r'[/.]', '-', date_part)} {clock}", "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise InvalidInputError("format") from exc


def parse_any(text: str, zone: tzinfo) -> datetime:
    """``YYYY-MM-DD HH:MM`` on the alliance's wall clock, past or future."""
    return wall_clock(text).replace(tzinfo=zone)


def parse_local(text: str, zone: tzinfo, *, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` on the alliance's wall clock, in the future."""
    moment = parse_any(text, zone)
    if moment <= now:
        raise InvalidInputError("past")
    if moment > now + FURTHEST_START:
        raise InvalidInputError("too far")
    return moment


def parse_end(text: str, starts_at: datetime, zone: tzinfo) -> datetime:
    """``HH:MM`` (the start's day) or ``YYYY-MM-DD HH:MM``, after the start."""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    try:
        if len(text) <= 5:
            clock = datetime.strptime(text, "%H:%M").time()
            ends = datetime.combine(starts_at.astimezone(zone).date(), clock, zone)
        else:
            ends = parse_any(text, zone)
    except ValueError as exc:
        raise InvalidInputError("format") from exc
    if ends <= starts_at:
        raise InvalidInputError("before start")
    if ends - starts_at > LONGEST_EVENT:
        raise InvalidInputError("too long")
    return ends


def session_starts(
    starts_at: datetime, recurrence: EventRecurrence | None, count: int, zone: tzinfo
) -> list[datetime]:
    """Start instants of each session: same wall-clock time weekly, or monthly on the same day."""
    if recurrence is None:
        return [starts_at]
    local = starts_at.astimezone(zone)
    result = []
    for n in range(count):
        if recurrence is EventRecurrence.WEEKLY:
            day = local.date() + timedelta(weeks=n)
        else:
            month = local.month - 1 + n
            year, month = local.year + month // 12, month % 12 + 1
            day = _same_day(year, month, local.day)
        result.append(datetime.combine(day, local.timetz().replace(tzinfo=None), zone))
    return result


def _same_day(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1
