"""Statistics: the figures match hand-counted seeded rows; charts are PNGs; the CSV parses."""

from __future__ import annotations

import csv
import io
import struct
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import (
    Hold,
    HoldStatus,
    PurchaseSuggestion,
    PurchaseVote,
    Registration,
    RegistrationStatus,
    SearchLog,
)
from bot.services.statistics import (
    BadPeriodError,
    Counts,
    UnmetDemand,
    alliance_statistics,
    parse_period,
)
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.factories import make_district, make_event, make_library, make_reader, make_work
from tests.harness import BotHarness

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def local(month: int, day: int, hour: int = 10) -> datetime:
    """A moment in 2026, alliance time."""
    return datetime(2026, month, day, hour, tzinfo=ZONE)


async def seed_city(session: AsyncSession) -> None:
    """Two districts, two libraries, and activity in, before and after November 2026."""
    a = await make_district(session, code="A", name="甲区", name_en="Alpha", population=20_000)
    b = await make_district(session, code="B", name="乙区", name_en="Beta", population=50_000)
    la = await make_library(session, a, code="LA")
    lb = await make_library(session, b, code="LB")
    r1 = await make_reader(session, district_id=a.id, onboarded_at=local(10, 1))
    r2 = await make_reader(session, district_id=a.id, onboarded_at=local(11, 10))
    r3 = await make_reader(session, district_id=b.id, onboarded_at=local(10, 2))
    await make_reader(session, district_id=b.id, onboarded_at=local(12, 1, 2))
    r5 = await make_reader(session, onboarded_at=local(11, 5))
    await make_reader(session, district_id=a.id, onboarded_at=None)
    for reader, district, query, hits, when in (
        (r1, a, "Dune", 0, local(11, 3)),
        (r2, a, "dune ", 0, local(11, 4)),
        (r1, a, "三体", 5, local(11, 5)),
        (r3, b, "Beloved", 0, local(11, 6)),
        (r3, b, "Beloved", 0, local(10, 20)),
        (None, None, "x", 0, local(11, 7)),
    ):
        session.add(
            SearchLog(
                reader_id=reader.id if reader else None,
                district_id=district.id if district else None,
                query=query,
                hit_count=hits,
                created_at=when,
            )
        )
    works = [await make_work(session) for _ in range(4)]
    for reader, work, library, queued, collected in (
        (r1, works[0], lb, local(11, 2), local(11, 8)),
        (r3, works[1], lb, local(11, 9), None),
        (r2, works[2], la, local(10, 25), local(11, 1)),
        (r3, works[3], la, local(12, 1, 9), None),
    ):
        session.add(
            Hold(
                reader_id=reader.id,
                work_id=work.id,
                pickup_library_id=library.id,
                status=HoldStatus.COLLECTED if collected else HoldStatus.QUEUED,
                queued_at=queued,
                collected_at=collected,
            )
        )
    e1 = await make_event(session, venue_library_id=la.id, starts_at=local(11, 20))
    e2 = await make_event(session, venue_library_id=lb.id, starts_at=local(11, 2))
    for event, reader, status, created, attended in (
        (e1, r2, RegistrationStatus.ATTENDED, local(11, 12), local(11, 20)),
        (e1, r3, RegistrationStatus.CANCELLED, local(11, 13), None),
        (e2, r5, RegistrationStatus.ATTENDED, local(10, 30), local(11, 2)),
    ):
        session.add(
            Registration(
                event_id=event.id,
                reader_id=reader.id,
                status=status,
                created_at=created,
                attended_at=attended,
            )
        )
    suggestion = PurchaseSuggestion(match_key="q:x", query="x", votes=1)
    session.add(suggestion)
    await session.flush()
    session.add(
        PurchaseVote(suggestion_id=suggestion.id, reader_id=r5.id, created_at=local(11, 15))
    )
    await session.commit()


async def test_figures_match_the_seeded_rows(session: AsyncSession) -> None:
    await seed_city(session)
    period = parse_period("2026-11", now=NOW, zone=ZONE)
    assert (period.start, period.end) == (local(11, 1, 0), local(12, 1, 0))
    stats = await alliance_statistics(session, period)
    by_code = {row.code: row for row in stats.districts}
    assert list(by_code) == ["A", "B", None]
    assert by_code["A"].counts == Counts(
        readers=2,
        new_readers=1,
        active_readers=2,
        searches=3,
        zero_hit_searches=2,
        holds_placed=1,
        holds_collected=2,
        registrations=1,
        attended=1,
    )
    assert by_code["B"].counts == Counts(
        readers=1,
        new_readers=0,
        active_readers=1,
        searches=1,
        zero_hit_searches=1,
        holds_placed=1,
        holds_collected=0,
        registrations=1,
        attended=0,
    )
    assert by_code[None].counts == Counts(
        readers=1, new_readers=1, active_readers=1, searches=1, zero_hit_searches=1, attended=1
    )
    assert stats.totals == Counts(
        readers=4,
        new_readers=2,
        active_readers=4,
        searches=5,
        zero_hit_searches=4,
        holds_placed=2,
        holds_collected=2,
        registrations=2,
        attended=2,
    )
    assert by_code["A"].active_per_10k == pytest.approx(1.0)
    assert by_code["B"].active_per_10k == pytest.approx(0.2)
    libraries = {
        lib.code: (lib.holds_placed, lib.holds_collected, lib.registrations, lib.attended)
        for lib in stats.libraries
    }
    assert libraries == {"LA": (0, 1, 2, 1), "LB": (2, 1, 0, 1)}
    district_ids = {row.code: row.district_id for row in stats.districts}
    assert stats.unmet_by_district == {
        district_ids["A"]: [UnmetDemand("dune", 2, 2)],
        district_ids["B"]: [UnmetDemand("beloved", 1, 1)],
        None: [UnmetDemand("x", 1, 0)],
    }
    assert stats.unmet == [
        UnmetDemand("dune", 2, 2),
        UnmetDemand("beloved", 1, 1),
        UnmetDemand("x", 1, 0),
    ]


def test_periods() -> None:
    last_week = parse_period("7d", now=NOW, zone=ZONE)
    assert (last_week.start, last_week.end) == (datetime(2026, 11, 25, 4, tzinfo=UTC), NOW)
    assert parse_period(None, now=NOW, zone=ZONE).label == "30d"
    span = parse_period("2026-09-01..2026-11-30", now=NOW, zone=ZONE)
    assert (span.start, span.end) == (local(9, 1, 0), local(12, 1, 0))
    months = parse_period("2026-09..2026-10", now=NOW, zone=ZONE)
    assert (months.start, months.end) == (local(9, 1, 0), local(11, 1, 0))
    for text, reason in {
        "yesterday": "format",
        "2026-13": "bad_date",
        "2026-02-30": "bad_date",
        "2026-11-10..2026-11-01": "order",
        "0d": "empty",
        "5000d": "too_long",
        "2999-01": "future",
        "2026-11..": "format",
    }.items():
        with pytest.raises(BadPeriodError) as caught:
            parse_period(text, now=NOW, zone=ZONE)
        assert caught.value.reason == reason, text


def _png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


async def test_stats_command_sends_summary_charts_and_csv(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        await seed_city(session)
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard()
    summary, districts_chart, libraries_chart, document = await admin.send("/stats 2026-11")
    lines = (summary.text or "").split("\n")
    assert lines[0] == "📊 Statistics for 2026-11 (2026-11-01 00:00 – 2026-12-01 00:00)"
    # The admin onboarded today, after November: the readers stay as seeded.
    assert lines[1:6] == [
        "Readers: 4 (new: 2), active: 4",
        "Searches: 5, finding nothing: 4",
        "Holds placed: 2, collected: 2",
        "Event registrations: 2, attended: 2",
        "Books marked read: 0, readers in challenges: 0",
    ]
    assert (
        "• A Alpha: active 2 (1.0 per 10,000), searches 3 (2 found nothing), "
        "holds 1/2, registrations 1/1, reads 0"
    ) in lines
    assert "• LB: 2/1, 0/1" in lines
    assert "• A Alpha: “dune” ×2" in lines
    for photo in (districts_chart, libraries_chart):
        assert photo.photo
        stored = harness.sandbox.file(photo.photo[-1].file_id)
        assert stored is not None
        width, height = _png_size(stored.content)
        assert width > 300 and height > 200
    assert (districts_chart.caption or "").startswith("Per district:")
    assert document.document is not None and document.document.file_name == "stats-2026-11.csv"
    stored = harness.sandbox.file(document.document.file_id)
    assert stored is not None
    rows = list(csv.DictReader(io.StringIO(stored.content.decode("utf-8"))))
    alliance = rows[0]
    assert alliance["level"] == "alliance"
    assert (alliance["searches"], alliance["active_readers"], alliance["population"]) == (
        "5",
        "4",
        "70000",
    )
    row_a = next(row for row in rows if row["level"] == "district" and row["code"] == "A")
    assert (row_a["zero_hit_searches"], row_a["holds_collected"], row_a["active_per_10k"]) == (
        "2",
        "2",
        "1.00",
    )
    lb = next(row for row in rows if row["level"] == "library" and row["code"] == "LB")
    assert (lb["holds_placed"], lb["attended"], lb["searches"]) == ("2", "1", "")


async def test_bad_period_is_explained(harness: BotHarness) -> None:
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard()
    [reply] = await admin.send("/stats last-week")
    assert reply.text == (
        "I don't understand the period “last-week”.\n"
        "Try /stats 7d, /stats 30d, /stats 90d, a month like /stats 2026-11, "
        "or a span like /stats 2026-09-01..2026-11-30."
    )
    [reply] = await admin.send("/stats 2026-12-05..2026-12-01")
    assert (reply.text or "").startswith(
        "The period “2026-12-05..2026-12-01” ends before it starts."
    )


async def test_menu_statistics_are_the_last_30_days(
    harness: BotHarness, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        district = await make_district(session, code="ONLY")
        await make_library(session, district, code="LONE")
        session.add(SearchLog(district_id=district.id, query="nothing here", hit_count=0))
        await session.commit()
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard()
    await admin.send("/admin")
    summary, chart_one, chart_two, document = await admin.tap("📊 Statistics")
    assert (summary.text or "").startswith("📊 Statistics for 30d (")
    assert "Searches: 1, finding nothing: 1" in (summary.text or "")
    assert "• ONLY District" in (summary.text or "")
    assert chart_one.photo and chart_two.photo
    assert document.document is not None and document.document.file_name == "stats-30d.csv"
