"""Library opening hours: one grammar, read in one place, described in the reader's language.

A small subset of OpenStreetMap's ``opening_hours``::

    hours = rule *( ";" rule )
    rule  = "24/7" / days " " ( spans / "off" / "closed" )
    days  = day-or-range *( "," day-or-range )    e.g. "Mo-Fr", "Sa,Su", "Tu-Th,Sa"
    spans = span *( "," span )                    e.g. "09:00-12:00,13:30-17:00"
    span  = HH:MM "-" HH:MM                       opening before closing, 00:00-24:00

Days are ``Mo Tu We Th Fr Sa Su`` (any letter case); a range may wrap (``Sa-Mo``). Days
no rule names are closed; a later rule replaces what earlier rules said about its days,
so ``Mo-Su 09:00-21:00; Mo off`` is closed on Mondays. Spans of one day may not overlap.
At least one day must be open. Empty text means the hours are not published (open, as far
as anyone can tell). Example: ``Tu-Su 09:00-21:00; Mo 14:00-21:00``.

``parse`` is strict (what an admin types or imports); ``read`` never fails (what the holds
rules use on stored text: hours it cannot read count as open every day until the end of
the day, so odd hours never shorten a reader's hold).

opening-hours-py (the OSM reference grammar) was weighed and not used: it accepts much more
than this subset (overnight spans, public holidays, sunrise), which the descriptions and
the holds rules below could not honour, and its errors cannot be told in the admin's
language.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from babel.dates import get_day_names

from bot.services.errors import InvalidInputError

__all__ = [
    "END_OF_DAY",
    "OpeningHoursError",
    "Schedule",
    "closing_times",
    "describe_opening_hours",
    "is_open_on",
    "parse",
    "parse_opening_hours",
    "read",
]

DAY_ABBREVIATIONS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
# The last minute a library counts as open on a day it closes at 24:00 (or never closes).
END_OF_DAY = time(23, 59)
MINUTES_PER_DAY = 24 * 60
ALWAYS = "24/7"

_DAY_NUMBERS = {name.lower(): number for number, name in enumerate(DAY_ABBREVIATIONS)}
_RULE = re.compile(r"(?P<days>[A-Za-z]{2}(?:\s*[-,]\s*[A-Za-z]{2})*)\s+(?P<hours>\S.*)")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_CLOSED = frozenset({"off", "closed"})

WeekHours = dict[int, list[tuple[time, time]]]
ParamValue = str | int | float


class OpeningHoursError(InvalidInputError):
    """Opening hours that do not follow the grammar: why (``reason``), in which rule, and
    the part of it at fault; the message says the same in English (for the CLI)."""

    ENGLISH = {
        "unknown_day": "{rule!r}: unknown day {part!r} (use Mo Tu We Th Fr Sa Su)",
        "not_a_time": "{rule!r}: {part} is not a time of day",
        "not_a_span": "{rule!r}: {part!r} is not HH:MM-HH:MM",
        "closes_before_opens": "{rule!r}: {part} closes before it opens",
        "overlap": "{rule!r}: the opening times overlap",
        "empty_rule": "{rule!r}: an empty rule between semicolons",
        "no_days": "{rule!r}: expected days then hours, e.g. 'Mo-Fr 09:00-17:00' or 'Su off'",
        "never_open": "{rule!r}: no day is open",
    }

    def __init__(self, reason: str, rule: str, part: str = "") -> None:
        super().__init__(self.ENGLISH[reason].format(rule=rule, part=part))
        self.reason = reason
        self.rule = rule
        self.part = part

    def params(self) -> dict[str, ParamValue]:
        """What a translated message needs: the English detail, and its parts."""
        return {"detail": str(self), "fault": self.reason, "rule": self.rule, "part": self.part}


@dataclass(frozen=True)
class Span:
    """Open from ``opens`` to ``closes``, in minutes after midnight (``closes`` up to 24:00)."""

    opens: int
    closes: int

    def times(self) -> tuple[time, time]:
        """As times of day; closing at 24:00 is the last minute of the day."""
        closes = END_OF_DAY if self.closes >= MINUTES_PER_DAY else _time(self.closes)
        return _time(self.opens), closes

    def __str__(self) -> str:
        return f"{_clock_text(self.opens)}-{_clock_text(self.closes)}"


@dataclass(frozen=True)
class Rule:
    """One rule: its days as written (ranges ``(first, last)``), and its spans (none: closed)."""

    days: tuple[tuple[int, int], ...]
    spans: tuple[Span, ...]

    def weekdays(self) -> list[int]:
        """The weekdays the rule speaks about (Monday 0)."""
        return [
            (first + offset) % 7
            for first, last in self.days
            for offset in range((last - first) % 7 + 1)
        ]


EVERY_DAY = ((0, 6),)
WHOLE_DAY = (Span(0, MINUTES_PER_DAY),)


@dataclass(frozen=True)
class Schedule:
    """A library's week; no rules means the hours are not published."""

    rules: tuple[Rule, ...] = ()

    @property
    def published(self) -> bool:
        """Whether there are hours at all."""
        return bool(self.rules)

    def week(self) -> dict[int, tuple[Span, ...]]:
        """Weekday (Monday 0) -> its spans, later rules overriding earlier ones."""
        if not self.published:
            return dict.fromkeys(range(7), WHOLE_DAY)
        days: dict[int, tuple[Span, ...]] = dict.fromkeys(range(7), ())
        for rule in self.rules:
            for day in rule.weekdays():
                days[day] = rule.spans
        return days

    def is_open_on(self, day: date) -> bool:
        """Whether the library opens at all on that day."""
        return bool(self.week()[day.weekday()])

    def closing_time(self, day: date) -> time | None:
        """When the library closes on that day (its last span), or None when it is closed."""
        spans = self.week()[day.weekday()]
        return spans[-1].times()[1] if spans else None

    def next_open_day(self, day: date) -> date:
        """The first day from ``day`` on (``day`` included) on which the library opens."""
        week = self.week()
        for offset in range(7):
            candidate = day + timedelta(days=offset)
            if week[candidate.weekday()]:
                return candidate
        return day  # pragma: no cover - parse refuses hours with no open day

    def describe(self, language: str) -> str:
        """The hours as a reader of ``language`` reads them, with the locale's day names:
        周一至周五 08:00-21:30；周日 休息 in Chinese, Mon–Fri 08:00–21:30; Sun closed in
        English; "" when unpublished."""
        chinese = language == "zh"
        locale = "zh_Hans_CN" if chinese else "en"
        names = get_day_names("abbreviated", locale=locale)
        through, spans_dash = ("至", "-") if chinese else ("–", "–")
        parts = []
        for rule in self.rules:
            if rule.days == EVERY_DAY and rule.spans == WHOLE_DAY:
                parts.append("每天 24 小时" if chinese else "open 24 hours")
                continue
            days = ("、" if chinese else ", ").join(
                names[first] if first == last else names[first] + through + names[last]
                for first, last in rule.days
            )
            closed = "休息" if chinese else "closed"
            spans = ("、" if chinese else ", ").join(
                str(span).replace("-", spans_dash) for span in rule.spans
            )
            parts.append(f"{days} {spans or closed}")
        return ("；" if chinese else "; ").join(parts)


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days(text: str, rule: str) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        ends = [end.strip().lower() for end in part.split("-")]
        if len(ends) > 2 or any(end not in _DAY_NUMBERS for end in ends):
            raise OpeningHoursError("unknown_day", rule, part.strip())
        ranges.append((_DAY_NUMBERS[ends[0]], _DAY_NUMBERS[ends[-1]]))
    return tuple(ranges)


def _minutes(hours: str, minutes: str, rule: str, *, closing: bool) -> int:
    value = int(hours) * 60 + int(minutes)
    midnight = closing and value == MINUTES_PER_DAY
    if not midnight and (int(hours) > 23 or int(minutes) > 59):
        raise OpeningHoursError("not_a_time", rule, f"{hours}:{minutes}")
    return value


def _spans(text: str, rule: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    for part in text.split(","):
        match = _SPAN.fullmatch(part.strip())
        if match is None:
            raise OpeningHoursError("not_a_span", rule, part.strip())
        span = Span(
            _minutes(match[1], match[2], rule, closing=False),
            _minutes(match[3], match[4], rule, closing=True),
        )
        if span.closes <= span.opens:
            raise OpeningHoursError("closes_before_opens", rule, part.strip())
        spans.append(span)
    spans.sort(key=lambda span: span.opens)
    for earlier, later in itertools.pairwise(spans):
        if later.opens < earlier.closes:
            raise OpeningHoursError("overlap", rule)
    return tuple(spans)


def _rule(text: str) -> Rule:
    if text == ALWAYS:
        return Rule(EVERY_DAY, WHOLE_DAY)
    match = _RULE.fullmatch(text)
    if match is None:
        raise OpeningHoursError("no_days", text)
    hours = match["hours"]
    spans = () if hours.lower() in _CLOSED else _spans(hours, text)
    return Rule(_days(match["days"], text), spans)


def parse(text: str) -> Schedule:
    """The schedule the text describes (raises ``OpeningHoursError``); "" is unpublished."""
    text = text.strip()
    if not text:
        return Schedule()
    rules = []
    for raw_rule in text.split(";"):
        rule = " ".join(raw_rule.split())
        if not rule:
            raise OpeningHoursError("empty_rule", text)
        rules.append(_rule(rule))
    schedule = Schedule(tuple(rules))
    if not any(schedule.week().values()):
        raise OpeningHoursError("never_open", text)
    return schedule


def read(text: str) -> Schedule:
    """Stored hours, never failing: what cannot be read counts as unpublished (always open)."""
    try:
        return parse(text)
    except OpeningHoursError:
        return Schedule()


def parse_opening_hours(text: str) -> WeekHours:
    """Weekday (Monday 0) -> opening spans as times; every day present, closed days empty;
    "" -> {} (raises ``OpeningHoursError``)."""
    schedule = parse(text)
    if not schedule.published:
        return {}
    return {day: [span.times() for span in spans] for day, spans in schedule.week().items()}


def describe_opening_hours(text: str, language: str) -> str:
    """Opening hours as a reader of ``language`` reads them (``Schedule.describe``); as
    stored when they cannot be read."""
    if not text.strip():
        return text
    try:
        return parse(text).describe(language)
    except OpeningHoursError:
        return text


def is_open_on(text: str, day: date) -> bool:
    """Whether a library with these opening hours opens on that day (unpublished: yes);
    raises ``OpeningHoursError`` for hours that cannot be read."""
    return parse(text).is_open_on(day)


def closing_times(text: str) -> dict[int, time]:
    """Weekday (Monday 0) -> closing time, open days only, for the holds rules: hours that
    cannot be read (or none) count as open every day until the end of the day."""
    week = read(text).week()
    return {day: spans[-1].times()[1] for day, spans in week.items() if spans}
