"""/stats and /reach count reads and challenge participation per district."""

from __future__ import annotations

from datetime import timedelta

from bot.models import Challenge, ChallengeEntry, utcnow
from bot.services import reach, statistics
from bot.services.reach import ReachRule
from tests.conftest import ADMIN_TELEGRAM_ID
from tests.harness import BotHarness

from .world import build_world, crowd


async def test_stats_and_reach_count_reads_and_challengers(harness: BotHarness) -> None:
    world = await build_world(harness)
    now = utcnow()
    readers = await crowd(harness, world, 3, reads=(world.works[1], world.works[2]))
    async with harness.app.sessionmaker() as session:
        challenge = Challenge(
            title="冬读",
            goal=5,
            starts_at=now - timedelta(days=2),
            ends_at=now + timedelta(days=5),
        )
        session.add(challenge)
        await session.flush()
        session.add(ChallengeEntry(challenge_id=challenge.id, reader_id=readers[0].id))
        await session.commit()
        period = statistics.parse_period(
            "7d", now=now + timedelta(minutes=1), zone=harness.app.settings.zone
        )
        stats = await statistics.alliance_statistics(session, period)
        [row] = [r for r in stats.districts if r.district_id == world.district.id]
        assert (row.counts.reads, row.counts.challenge_participants) == (6, 1)
        # Readers who only read count as active, in /stats and in the reach index.
        assert row.counts.active_readers == 3
        report = await reach.compute_reach(
            session, end=now + timedelta(minutes=1), days=30, rule=ReachRule()
        )
        assert report.by_district()[world.district.id].counts["active_readers"] == 3
    admin = harness.user(ADMIN_TELEGRAM_ID, "Ada", username="ada")
    await admin.onboard("zh")
    [summary, *_files] = await admin.send("/stats 7d")
    assert "记为读过的书：6，参加挑战的读者：1" in (summary.text or "")
