"""Reach: how far reading reaches into each district, and which districts it hardly reaches.

For each district and period (the last ``reach_period_days``, 90 by default) we count:

* active readers: readers of the district with at least one search, hold or event
  registration in the period;
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
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    District,
    Hold,
    ReachSnapshot,
    Reader,
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
    """Store the report as snapshots for its period (replacing one of the same period); commit."""
    try:
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
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


async def measure_and_store(
    session: AsyncSession, *, now: datetime, days: int, rule: ReachRule
) -> ReachReport:
    """The weekly measurement: compute the period ending now and store it."""
    report = await compute_reach(session, end=now, days=days, rule=rule)
    await store_snapshot(session, report, now=now)
    return report


async def _snapshot_report(
    session: AsyncSession, period_end: datetime, rule: ReachRule
) -> ReachReport | None:
    rows = list(
        await session.execute(
            select(ReachSnapshot, District)
            .join(District, District.id == ReachSnapshot.district_id)
            .where(ReachSnapshot.period_end == period_end)
        )
    )
    if not rows:
        return None
    districts = [
        DistrictReach(
            district_id=district.id,
            code=district.code,
            name=district.name,
            name_en=district.name_en,
            population=snapshot.population,
            counts={name: getattr(snapshot, name) for name in INDICATORS},
            reach_index=snapshot.reach_index,
            under_reached=snapshot.under_reached,
        )
        for snapshot, district in rows
    ]
    districts.sort(key=lambda d: (-(d.reach_index if d.reach_index is not None else -1.0), d.code))
    indices = {d.district_id: d.reach_index for d in districts if d.reach_index is not None}
    _below, threshold = under_reached_ids(indices, rule)
    start = rows[0][0].period_start
    return ReachReport(start, period_end, districts, rule, threshold)


async def latest_report(session: AsyncSession, rule: ReachRule) -> ReachReport | None:
    """The newest stored measurement, if any."""
    period_end = await session.scalar(select(func.max(ReachSnapshot.period_end)))
    if period_end is None:
        return None
    return await _snapshot_report(session, period_end, rule)


@dataclass(frozen=True)
class ReachView:
    """What /reach shows: the current report and the previous period's, for the trend."""

    current: ReachReport
    previous: ReachReport


async def current_view(
    session: AsyncSession,
    *,
    now: datetime,
    days: int,
    rule: ReachRule,
    fresh_for: timedelta = timedelta(days=7),
) -> ReachView:
    """The newest snapshot when fresh, else a new one; and the period before it.

    The previous period is the stored snapshot ending where the current period starts
    (within a day), or else measured now from the interactions, which are all kept.
    """
    current = await latest_report(session, rule)
    if current is None or now - current.period_end > fresh_for:
        current = await measure_and_store(session, now=now, days=days, rule=rule)
    period = current.period_end - current.period_start
    nearby = await session.scalar(
        select(ReachSnapshot.period_end)
        .where(
            ReachSnapshot.period_end >= current.period_start - timedelta(days=1),
            ReachSnapshot.period_end <= current.period_start + timedelta(days=1),
        )
        .order_by(ReachSnapshot.period_end.desc())
        .limit(1)
    )
    previous = await _snapshot_report(session, nearby, rule) if nearby is not None else None
    if previous is None:
        previous = await compute_reach(
            session, end=current.period_start, days=period.days, rule=rule
        )
    await session.commit()
    return ReachView(current=current, previous=previous)


async def under_reached_district_ids(
    session: AsyncSession, *, now: datetime, days: int, rule: ReachRule
) -> list[int]:
    """The under-reached districts now: from the newest snapshot within a week, else measured."""
    report = await latest_report(session, rule)
    if report is None or now - report.period_end > timedelta(days=7):
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


def chart_png(
    report: ReachReport, previous: ReachReport | None = None, *, axis_label: str = "index"
) -> bytes:
    """A bar chart of the index per district (under-reached in red), as PNG; blocking.

    Bars are labelled with district codes and numbers; ``axis_label`` names the index in the
    reader's language (drawn with a CJK font when one is installed), and the caption sent
    with the chart explains the colours.
    """
    import io

    import matplotlib

    from bot.services.charts import cjk_font

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = [d for d in report.districts if d.reach_index is not None]
    before = previous.by_district() if previous is not None else {}
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(rows)))
    values = [d.reach_index or 0.0 for d in rows]
    colours = ["#c0392b" if d.under_reached else "#2e86c1" for d in rows]
    axes.bar(positions, values, color=colours, width=0.6)
    earlier: list[tuple[int, float]] = []
    for position, district in zip(positions, rows, strict=True):
        old = before.get(district.district_id)
        if old is not None and old.reach_index is not None:
            earlier.append((position, old.reach_index))
    if earlier:
        axes.scatter(
            [p for p, _v in earlier], [v for _p, v in earlier], color="#333333", marker="_", s=400
        )
    if report.threshold is not None:
        axes.axhline(report.threshold, color="#c0392b", linestyle="--", linewidth=1)
    axes.axhline(100, color="#888888", linestyle=":", linewidth=1)
    axes.set_xticks(positions, [d.code for d in rows], rotation=30, ha="right")
    label = axes.set_ylabel(axis_label)
    font = cjk_font()
    if font is not None:
        label.set_fontfamily([font, "DejaVu Sans"])
    axes.set_ylim(0, max([*values, 100.0]) * 1.15)
    for position, value in zip(positions, values, strict=True):
        axes.annotate(f"{value:.0f}", (position, value), ha="center", va="bottom", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
