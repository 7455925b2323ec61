"""Reach: how far reading reaches into each district, and which districts it hardly reaches.

For each district and period (the last ``reach_period_days``, 90 by default) we count:

* active readers: readers of the district with at least one search, hold, event
  registration, logged read or challenge joined in the period;
* searches (by the district recorded with the search), holds placed, event registrations
  made, and attendances (registrations checked in during the period) of its readers.

Each count becomes a rate per 10,000 inhabitants. The **reach index** compares a
district's rates with the alliance's (all counts over the whole population)::

    index = 100 * sum(w_i * rate_i(district) / rate_i(alliance)) / sum(w_i)

with weights 0.4 for active readers and 0.15 each for searches, holds, registrations and
attendance; an indicator the whole alliance has none of is left out (its weight too).
100 means "as reached as the alliance on average"; a district without population has
no index.

A district is **under-reached** when its index is below ``reach_threshold_share`` (0.5)
times the median index of the districts (rule ``half_median``, the default), or when it
is among the lowest quarter of districts by index, rounded up (rule ``bottom_quarter``).

/reach and campaign targeting measure live, from the interactions (which are all kept);
the periodic job stores the measurement as snapshots, the record of past periods.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import write
from bot.models import (
    ChallengeEntry,
    District,
    Hold,
    ReachSnapshot,
    Reader,
    ReadingLog,
    Registration,
    RegistrationStatus,
    SearchLog,
)
from bot.services.errors import InvalidInputError

PER = 10_000
INDICATORS = ("active_readers", "searches", "holds", "registrations", "attendance")
WEIGHTS: Mapping[str, float] = {
    "active_readers": 0.4,
    "searches": 0.15,
    "holds": 0.15,
    "registrations": 0.15,
    "attendance": 0.15,
}
RULES = ("half_median", "bottom_quarter")


@dataclass(frozen=True)
class ReachRule:
    """Which districts count as under-reached: below a share of the median, or bottom quarter."""

    name: str = "half_median"
    share: float = 0.5

    def __post_init__(self) -> None:
        if self.name not in RULES:
            raise InvalidInputError(f"unknown reach rule {self.name!r}")


@dataclass(frozen=True)
class DistrictReach:
    """One district's counts, rates per 10,000, index and verdict for one period."""

    district_id: int
    code: str
    name: str
    name_en: str | None
    population: int
    counts: Mapping[str, int]
    reach_index: float | None
    under_reached: bool = False

    def per_10k(self, indicator: str) -> float:
        """A count as a rate per 10,000 inhabitants (0 without population)."""
        if self.population <= 0:
            return 0.0
        return self.counts[indicator] * PER / self.population


@dataclass(frozen=True)
class ReachReport:
    """Every district's reach for one period, best reached first, and the threshold used."""

    period_start: datetime
    period_end: datetime
    districts: Sequence[DistrictReach]
    rule: ReachRule
    threshold: float | None

    @property
    def under_reached(self) -> list[DistrictReach]:
        """The under-reached districts, least reached first."""
        return sorted(
            (d for d in self.districts if d.under_reached), key=lambda d: d.reach_index or 0.0
        )

    def by_district(self) -> dict[int, DistrictReach]:
        """The districts by id."""
        return {d.district_id: d for d in self.districts}


def _by_district(rows: Iterable[Row[int | None, int]]) -> dict[int, int]:
    return {district: number for district, number in rows if district is not None}


async def _counts_by_district(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[str, dict[int, int]]:
    """Each indicator's count per district id over [start, end)."""
    counts: dict[str, dict[int, int]] = {name: {} for name in INDICATORS}

    searches = await session.execute(
        select(SearchLog.district_id, func.count())
        .where(
            SearchLog.created_at >= start,
            SearchLog.created_at < end,
            SearchLog.district_id.is_not(None),
        )
        .group_by(SearchLog.district_id)
    )
    counts["searches"] = _by_district(searches.all())

    holds = await session.execute(
        select(Reader.district_id, func.count())
        .select_from(Hold)
        .join(Reader, Reader.id == Hold.reader_id)
        .where(Hold.queued_at >= start, Hold.queued_at < end, Reader.district_id.is_not(None))
        .group_by(Reader.district_id)
    )
    counts["holds"] = _by_district(holds.all())

    registrations = await session.execute(
        select(Reader.district_id, func.count())
        .select_from(Registration)
        .join(Reader, Reader.id == Registration.reader_id)
        .where(
            Registration.created_at >= start,
            Registration.created_at < end,
            Reader.district_id.is_not(None),
        )
        .group_by(Reader.district_id)
    )
    counts["registrations"] = _by_district(registrations.all())

    attended = await session.execute(
        select(Reader.district_id, func.count())
        .select_from(Registration)
        .join(Reader, Reader.id == Registration.reader_id)
        .where(
            Registration.status == RegistrationStatus.ATTENDED,
            Registration.attended_at >= start,
            Registration.attended_at < end,
            Reader.district_id.is_not(None),
        )
        .group_by(Reader.district_id)
    )
    counts["attendance"] = _by_district(attended.all())

    active_ids = union(
        select(SearchLog.reader_id.label("reader_id")).where(
            SearchLog.created_at >= start,
            SearchLog.created_at < end,
            SearchLog.reader_id.is_not(None),
        ),
        select(Hold.reader_id.label("reader_id")).where(
            Hold.queued_at >= start, Hold.queued_at < end
        ),
        select(Registration.reader_id.label("reader_id")).where(
            Registration.created_at >= start, Registration.created_at < end
        ),
        # Reading life: logging a read or joining a challenge is taking part too.
        select(ReadingLog.reader_id.label("reader_id")).where(
            ReadingLog.read_at >= start, ReadingLog.read_at < end
        ),
        select(ChallengeEntry.reader_id.label("reader_id")).where(
            ChallengeEntry.joined_at >= start, ChallengeEntry.joined_at < end
        ),
    ).subquery()
    active = await session.execute(
        select(Reader.district_id, func.count(Reader.id))
        .where(Reader.id.in_(select(active_ids.c.reader_id)), Reader.district_id.is_not(None))
        .group_by(Reader.district_id)
    )
    counts["active_readers"] = _by_district(active.all())
    return counts


def reach_index(
    counts: Mapping[str, int],
    population: int,
    totals: Mapping[str, int],
    total_population: int,
) -> float | None:
    """The weighted ratio of a district's rates to the alliance's, times 100 (None: no people)."""
    if population <= 0 or total_population <= 0:
        return None
    weighted = 0.0
    weight_sum = 0.0
    for name in INDICATORS:
        if totals.get(name, 0) <= 0:
            continue
        district_rate = counts.get(name, 0) / population
        alliance_rate = totals[name] / total_population
        weighted += WEIGHTS[name] * district_rate / alliance_rate
        weight_sum += WEIGHTS[name]
    if weight_sum == 0:
        return 0.0
    return 100.0 * weighted / weight_sum


def under_reached_ids(
    indices: Mapping[int, float], rule: ReachRule
) -> tuple[set[int], float | None]:
    """The districts below the threshold under the rule, and the threshold itself."""
    if not indices:
        return set(), None
    if rule.name == "half_median":
        threshold = rule.share * statistics.median(indices.values())
        return {d for d, value in indices.items() if value < threshold}, threshold
    ranked = sorted(indices.items(), key=lambda item: (item[1], item[0]))
    lowest = ranked[: math.ceil(len(ranked) / 4)]
    return {d for d, _value in lowest}, lowest[-1][1]


async def compute_reach(
    session: AsyncSession, *, end: datetime, days: int, rule: ReachRule
) -> ReachReport:
    """Measure every district over the ``days`` before ``end`` (nothing is stored)."""
    start = end - timedelta(days=days)
    districts = list(await session.scalars(select(District).order_by(District.code)))
    counts = await _counts_by_district(session, start, end)
    district_ids = {d.id for d in districts}
    totals = {
        name: sum(n for district, n in counts[name].items() if district in district_ids)
        for name in INDICATORS
    }
    total_population = sum(max(0, d.population) for d in districts)
    measured: list[tuple[District, dict[str, int], float | None]] = []
    for district in districts:
        own = {name: counts[name].get(district.id, 0) for name in INDICATORS}
        measured.append(
            (district, own, reach_index(own, district.population, totals, total_population))
        )
    indices = {d.id: index for d, _own, index in measured if index is not None}
    below, threshold = under_reached_ids(indices, rule)
    rows = [
        DistrictReach(
            district_id=district.id,
            code=district.code,
            name=district.name,
            name_en=district.name_en,
            population=district.population,
            counts=own,
            reach_index=index,
            under_reached=district.id in below,
        )
        for district, own, index in measured
    ]
    rows.sort(key=lambda d: (-(d.reach_index if d.reach_index is not None else -1.0), d.code))
    return ReachReport(start, end, rows, rule, threshold)


async def store_snapshot(session: AsyncSession, report: ReachReport, *, now: datetime) -> None:
    """Store the report as snapshots for its period (replacing one of the same period)."""
    async with write(session):
        await session.execute(
            delete(ReachSnapshot).where(ReachSnapshot.period_end == report.period_end)
        )
        session.add_all(
            ReachSnapshot(
                district_id=d.district_id,
                period_start=report.period_start,
                period_end=report.period_end,
                population=d.population,
                active_readers=d.counts["active_readers"],
                searches=d.counts["searches"],
                holds=d.counts["holds"],
                registrations=d.counts["registrations"],
                attendance=d.counts["attendance"],
                reach_index=d.reach_index,
                under_reached=d.under_reached,
                computed_at=now,
            )
            for d in report.districts
        )


async def measure_if_due(
    session: AsyncSession, *, now: datetime, days: int, rule: ReachRule, every: timedelta
) -> ReachReport | None:
    """The periodic measurement: the period ending now, stored when the newest stored one is
    ``every`` old (so a restart does not store one more); None when it is not due yet."""
    newest = await session.scalar(select(func.max(ReachSnapshot.computed_at)))
    # The job's own tick comes a little less than ``every`` after the last one's store.
    slack = min(timedelta(hours=1), every / 10)
    if newest is not None and now - newest < every - slack:
        return None
    report = await compute_reach(session, end=now, days=days, rule=rule)
    await store_snapshot(session, report, now=now)
    return report


@dataclass(frozen=True)
class ReachView:
    """What /reach shows: the period ending now and the one before it, both measured now."""

    current: ReachReport
    previous: ReachReport


async def current_view(
    session: AsyncSession, *, now: datetime, days: int, rule: ReachRule
) -> ReachView:
    """Live figures, as /stats counts them: the ``days`` up to now and the ``days`` before.

    Nothing is read from the stored snapshots: they are the weekly record, and a reader who
    registered a minute ago must show in the district's figures.
    """
    current = await compute_reach(session, end=now, days=days, rule=rule)
    previous = await compute_reach(session, end=current.period_start, days=days, rule=rule)
    return ReachView(current=current, previous=previous)


async def under_reached_district_ids(
    session: AsyncSession, *, now: datetime, days: int, rule: ReachRule
) -> list[int]:
    """The under-reached districts now, measured as /reach shows them."""
    report = await compute_reach(session, end=now, days=days, rule=rule)
    return [d.district_id for d in report.under_reached]


def trend(current: DistrictReach, previous: Iterable[DistrictReach]) -> float | None:
    """The change of a district's index against the previous period (None if unknown)."""
    for before in previous:
        if before.district_id == current.district_id:
            if before.reach_index is None or current.reach_index is None:
                return None
            return current.reach_index - before.reach_index
    return None
