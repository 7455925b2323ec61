"""Demo readers in every district, some of whom searched in the last weeks.

Reach (``bot.services.reach``) needs some activity to rank the districts: per district,
readers who searched in the last weeks and readers who did nothing yet. Nanling and Taoyuan
get only idle readers, so /reach marks them under-reached and a campaign there has recipients.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import District, Reader, SearchLog, utcnow
from bot.services.demo.accounts import fresh_card_number
from bot.services.demo.summary import DemoSummary

# (district code, readers who searched, idle readers)
DEMO_ACTIVITY: tuple[tuple[str, int, int], ...] = (
    ("GANGKOU", 6, 0),
    ("XISHAN", 4, 0),
    ("DONGHAI", 5, 0),
    ("GAOXIN", 3, 0),
    ("JINGKAI", 3, 0),
    ("NANLING", 0, 2),
    ("BAISHA", 1, 0),
    ("TAOYUAN", 0, 1),
    ("YUWAN", 1, 0),
)
ACTIVITY_TELEGRAM_BASE = 2001
ACTIVITY_QUERIES = ("红楼梦", "海错图", "Moby Dick", "三体", "poetry", "鲁迅")


def _searches(
    reader: Reader, district: District, number: int, *, today: date, zone: ZoneInfo
) -> list[SearchLog]:
    """One to three searches in the last weeks, different for each reader of a district."""
    searches = []
    for search in range(number % 3 + 1):
        moment = datetime.combine(
            today - timedelta(days=3 + 5 * number + search), time(10 + search), zone
        )
        searches.append(
            SearchLog(
                reader_id=reader.id,
                district_id=district.id,
                query=ACTIVITY_QUERIES[(number + search) % len(ACTIVITY_QUERIES)],
                hit_count=1,
                source="chat",
                created_at=moment,
            )
        )
    return searches


async def seed_activity(
    session: AsyncSession,
    districts: Mapping[str, District],
    summary: DemoSummary,
    *,
    today: date,
    zone: ZoneInfo,
) -> None:
    """Demo readers in every district, some with searches in the last weeks (idempotent)."""
    telegram_id = ACTIVITY_TELEGRAM_BASE
    existing = set(
        await session.scalars(
            select(Reader.telegram_id).where(Reader.telegram_id >= ACTIVITY_TELEGRAM_BASE)
        )
    )
    taken = set(await session.scalars(select(Reader.card_number)))
    for code, active, idle in DEMO_ACTIVITY:
        district = districts.get(code)
        for number in range(active + idle):
            telegram_id += 1
            if district is None or telegram_id in existing:
                continue
            reader = Reader(
                telegram_id=telegram_id,
                chat_id=telegram_id,
                first_name=f"{district.name}读者{number + 1}",
                language="zh" if number % 2 == 0 else "en",
                district_id=district.id,
                card_number=fresh_card_number(taken),
                onboarded_at=utcnow(),
            )
            session.add(reader)
            await session.flush()
            summary.activity_readers += 1
            if number < active:
                searches = _searches(reader, district, number, today=today, zone=zone)
                session.add_all(searches)
                summary.searches_logged += len(searches)
    await session.flush()
