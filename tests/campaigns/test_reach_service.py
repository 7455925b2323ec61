"""Reach: counts, the index and the under-reached rule match hand-computed values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ReachSnapshot, utcnow
from bot.services import charts, reach
from bot.services.errors import InvalidInputError
from bot.services.reach import ReachRule
from tests.campaigns.city import seed_city

# Alliance: 17 active readers, 17 searches, 8 holds, 8 registrations, 4 attended, 50,000
# people. A (10,000 people, 4/4/2/2/1): rates over the alliance's are 20/17 for active
# readers and searches and 10/8 for the rest, so
#   index A = 100 * (0.55 * 20/17 + 0.45 * 1.25) = 120.956
# B is the same and C (twice everything, twice the people) too. D (1 active, 1 search):
#   index D = 100 * 0.55 * 5/17 = 16.176
INDEX_ABC = 100 * (0.55 * 20 / 17 + 0.45 * 1.25)
INDEX_D = 100 * 0.55 * 5 / 17


async def test_counts_rates_and_index_match_the_hand_computed_values(
    session: AsyncSession,
) -> None:
    now = utcnow()
    city = await seed_city(session, now)
    report = await reach.compute_reach(session, end=now, days=90, rule=ReachRule())
    rows = report.by_district()
    a = rows[city.districts["A"].id]
    assert dict(a.counts) == {
        "active_readers": 4,
        "searches": 4,
        "holds": 2,
        "registrations": 2,
        "attendance": 1,
    }
    assert a.per_10k("active_readers") == 4.0
    c = rows[city.districts["C"].id]
    assert c.counts["active_readers"] == 8 and c.per_10k("holds") == 2.0
    for code in ("A", "B", "C"):
        assert rows[city.districts[code].id].reach_index == pytest.approx(INDEX_ABC)
    d = rows[city.districts["D"].id]
    assert dict(d.counts) == {
        "active_readers": 1,
        "searches": 1,
        "holds": 0,
        "registrations": 0,
        "attendance": 0,
    }
    assert d.reach_index == pytest.approx(INDEX_D)
    # Half the median (120.956) is 60.478: only D is below it.
    assert report.threshold == pytest.approx(INDEX_ABC / 2)
    assert [x.code for x in report.under_reached] == ["DD"]
    assert [x.code for x in report.districts][-1] == "DD"


async def test_bottom_quarter_rule_and_a_stricter_share(session: AsyncSession) -> None:
    now = utcnow()
    await seed_city(session, now)
    quarter = await reach.compute_reach(session, end=now, days=90, rule=ReachRule("bottom_quarter"))
    assert [x.code for x in quarter.under_reached] == ["DD"]
    # A share of 0.1 puts the threshold at 12.1: D (16.2) is no longer under it.
    strict = await reach.compute_reach(session, end=now, days=90, rule=ReachRule(share=0.1))
    assert strict.under_reached == []
    with pytest.raises(InvalidInputError):
        ReachRule("top_half")


async def test_the_view_is_live_and_the_previous_period_gives_the_trend(
    session: AsyncSession,
) -> None:
    now = utcnow()
    city = await seed_city(session, now)
    view = await reach.current_view(session, now=now, days=90, rule=ReachRule())
    assert view.current.period_end == now
    # Looking stores nothing: the snapshots are the weekly job's record.
    assert list(await session.scalars(select(ReachSnapshot))) == []
    # The previous 90 days hold one search in A only: holds, registrations and attendance
    # are left out (nobody had any), so A's index is 100 * 5 = 500 (its rate 1/10,000
    # against the alliance's 1/50,000 for both active readers and searches), the others 0.
    previous = view.previous.by_district()
    assert previous[city.districts["A"].id].reach_index == pytest.approx(500.0)
    assert previous[city.districts["B"].id].reach_index == pytest.approx(0.0)
    current_a = view.current.by_district()[city.districts["A"].id]
    assert reach.trend(current_a, view.previous.districts) == pytest.approx(INDEX_ABC - 500.0)


async def test_snapshots_are_stored_once_a_period(session: AsyncSession) -> None:
    now = utcnow()
    city = await seed_city(session, now)
    week = timedelta(days=7)
    stored = await reach.measure_if_due(session, now=now, days=90, rule=ReachRule(), every=week)
    assert stored is not None
    snapshots = list(await session.scalars(select(ReachSnapshot)))
    assert len(snapshots) == 4 and {s.period_end for s in snapshots} == {now}
    snapshot_d = next(s for s in snapshots if s.district_id == city.districts["D"].id)
    assert snapshot_d.under_reached and snapshot_d.active_readers == 1
    # A restart the next day stores nothing; the next week's tick (a moment early) does.
    for later, expected in ((timedelta(days=1), 4), (week - timedelta(seconds=5), 8)):
        await reach.measure_if_due(session, now=now + later, days=90, rule=ReachRule(), every=week)
        assert len(list(await session.scalars(select(ReachSnapshot)))) == expected


async def test_chart_is_a_png(session: AsyncSession) -> None:
    now = utcnow()
    await seed_city(session, now)
    report = await reach.compute_reach(session, end=now, days=90, rule=ReachRule())
    png = charts.reach_chart(report, report)
    assert png.startswith(b"\x89PNG") and len(png) > 2000


async def test_the_demo_city_has_under_reached_districts_with_readers(
    session: AsyncSession,
) -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.services.demo import seed_demo

    zone = ZoneInfo("Asia/Shanghai")
    summary = await seed_demo(session, today=date.today(), zone=zone)
    assert summary.activity_readers == 26 and summary.searches_logged > 0
    report = await reach.compute_reach(session, end=utcnow(), days=90, rule=ReachRule())
    assert {d.code for d in report.under_reached} == {"NANLING", "TAOYUAN"}
