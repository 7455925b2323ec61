"""Campaign benchmark: reach, launch and metrics at N readers, against a broadcast's fan-out.

    python -m bench.campaigns --readers 10000 [--database-url URL]

Seeds N onboarded readers over ten districts (one of them, with a tenth of the readers,
hardly active), one search per active reader, then measures:

* ``reach_s``: computing every district's reach over 90 days;
* ``launch_s``: launching a campaign to the under-reached district (fixing the
  recipients with a 10 % holdout and queueing the treated readers' messages);
* ``metrics_s``: counting its outcomes, opens and conversions;
* the baseline, ``broadcast_s``: a broadcast to the same district through the broadcasts
  service (the same outbox fan-out, without recipients or holdout).

``launch_ratio`` = launch_s / broadcast_s. The named database is never touched (a scratch
PostgreSQL database next to it, or a temporary SQLite file). The last line printed is
``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.broadcast import scratch_database
from bot.db import create_engine, create_sessionmaker
from bot.migrate import upgrade
from bot.models import (
    BroadcastAudience,
    CampaignRecipient,
    District,
    Notification,
    Reader,
    SearchLog,
    utcnow,
)
from bot.services import broadcasts, reach
from bot.services.broadcasts import Rights
from bot.services.campaigns.lifecycle import create_campaign
from bot.services.campaigns.metrics import compute_metrics
from bot.services.campaigns.plans import CampaignPlan, Schedule, ScheduleKind
from bot.services.campaigns.targeting import Audience, AudienceKind, Reach
from bot.services.reach import ReachRule

DISTRICTS = 10
FIRST_USER_ID = 3_000_000


async def seed(sessionmaker: async_sessionmaker[AsyncSession], readers: int) -> tuple[Reader, int]:
    """Ten districts of 100,000 people; the last gets a tenth of the readers, 1 in 20 active."""
    async with sessionmaker() as session:
        districts = [
            District(
                code=f"B{n}", name=f"区{n}", population=100_000, latitude=37.5, longitude=121.4
            )
            for n in range(DISTRICTS)
        ]
        session.add_all(districts)
        author = Reader(
            telegram_id=FIRST_USER_ID - 1,
            chat_id=FIRST_USER_ID - 1,
            first_name="Admin",
            card_number="BENCHADMIN",
            onboarded_at=utcnow(),
        )
        session.add(author)
        await session.flush()
        quiet = districts[-1].id
        rows = []
        for n in range(readers):
            in_quiet = n < readers // 10
            district = quiet if in_quiet else districts[n % (DISTRICTS - 1)].id
            rows.append(
                {
                    "telegram_id": FIRST_USER_ID + n,
                    "chat_id": FIRST_USER_ID + n,
                    "first_name": f"R{n}",
                    "card_number": f"BENCH{n:09d}",
                    "district_id": district,
                    "onboarded_at": utcnow(),
                    "interests": [],
                }
            )
        await session.execute(insert(Reader), rows)
        ids = (await session.execute(select(Reader.id, Reader.district_id))).all()
        searches = []
        now = utcnow()
        for number, (reader_id, district_id) in enumerate(ids):
            if district_id == quiet and number % 20:
                continue
            searches.append(
                {
                    "reader_id": reader_id,
                    "district_id": district_id,
                    "query": "sea",
                    "hit_count": 1,
                    "source": "chat",
                    "created_at": now - timedelta(days=number % 80),
                }
            )
        await session.execute(insert(SearchLog), searches)
        await session.commit()
        return author, quiet


async def run(readers: int, database_url: str | None) -> dict[str, object]:
    """Seed, then time reach, the campaign launch, its metrics and the broadcast baseline."""
    async with scratch_database(database_url) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        sessionmaker = create_sessionmaker(engine)
        try:
            author, quiet = await seed(sessionmaker, readers)
            settings_reach = Reach(90, "half_median", 0.5)
            async with sessionmaker() as session:
                started = time.perf_counter()
                report = await reach.compute_reach(session, end=utcnow(), days=90, rule=ReachRule())
                reach_s = time.perf_counter() - started
                await session.commit()
                under = [d.district_id for d in report.under_reached]
                started = time.perf_counter()
                campaign = await create_campaign(
                    session,
                    author,
                    CampaignPlan(
                        text={"zh": "来读书", "en": "Come and read"},
                        audience=Audience(AudienceKind.UNDER_REACHED),
                        schedule=Schedule(ScheduleKind.NOW),
                        holdout_share=0.1,
                    ),
                    now=utcnow(),
                    reach=settings_reach,
                    bot_username="bench_bot",
                    rng=random.Random(1),
                )
                launch_s = time.perf_counter() - started
                started = time.perf_counter()
                metrics = await compute_metrics(session, campaign, conversion_days=14)
                metrics_s = time.perf_counter() - started
                await session.commit()
                started = time.perf_counter()
                broadcast = await broadcasts.create_broadcast(
                    session,
                    author,
                    Rights(libraries=None, districts=True, everyone=True, urgent=True),
                    broadcasts.Draft(
                        audience=broadcasts.Audience(BroadcastAudience.DISTRICTS, (quiet,)),
                        text={"zh": "来读书", "en": "Come and read"},
                        draft_key=broadcasts.new_draft_key(),
                    ),
                    now=utcnow(),
                )
                broadcast_s = time.perf_counter() - started
                queued = await session.scalar(
                    select(func.count())
                    .select_from(Notification)
                    .where(Notification.campaign_id == campaign.id)
                )
                recipients = await session.scalar(
                    select(func.count()).select_from(CampaignRecipient)
                )
        finally:
            await engine.dispose()
    return {
        "readers": readers,
        "under_reached": len(under),
        "under_reached_is_quiet_district": under == [quiet],
        "recipients": recipients,
        "held_out": metrics.held_out,
        "queued": queued,
        "broadcast_recipients": broadcast.recipients,
        "reach_s": round(reach_s, 3),
        "launch_s": round(launch_s, 3),
        "metrics_s": round(metrics_s, 3),
        "broadcast_s": round(broadcast_s, 3),
        "launch_ratio": round(launch_s / broadcast_s, 2) if broadcast_s else None,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
    }


def main() -> None:
    """Parse the arguments, run, print the figures and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.readers, args.database_url))
    print(
        f"{result['readers']} readers: reach {result['reach_s']} s, launch to "
        f"{result['recipients']} recipients {result['launch_s']} s "
        f"(broadcast to the same district {result['broadcast_s']} s, ratio "
        f"{result['launch_ratio']}), metrics {result['metrics_s']} s"
    )
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
